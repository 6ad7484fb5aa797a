"""Parse pasted inventory lines: `ip [name] [role]`, with ranges like `10.0.0.11-13`.

Missing names are generated: the first node of a cluster without a control plane becomes `cp-1`
(control-plane), every other one `node-N` (worker). Each bad line gives one error; good lines still count.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field

from k8stui.model.cluster import NodeSpec
from k8stui.ui.validation import node_errors

MAX_RANGE = 256  # one pasted range never expands to more nodes than a /24 holds
MAX_LINES = 1000
ROLE_WORDS = {
    "control-plane": "control-plane",
    "cp": "control-plane",
    "master": "control-plane",
    "worker": "worker",
    "node": "worker",
}


@dataclass
class Parsed:
    nodes: list[NodeSpec] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)  # "line 3: ..."


def expand_range(text: str) -> list[str]:
    """`10.0.0.11-13` or `10.0.0.11-10.0.0.13` -> three addresses; a single address -> itself."""
    if "-" not in text:
        return [text]
    start_text, _, end_text = text.partition("-")
    start = ipaddress.IPv4Address(start_text)
    if "." not in end_text:
        end_text = start_text.rsplit(".", 1)[0] + "." + end_text
    end = ipaddress.IPv4Address(end_text)
    count = int(end) - int(start) + 1
    if count < 1 or count > MAX_RANGE:
        raise ValueError(f"{text!r} is not a range of 1 to {MAX_RANGE} addresses")
    return [str(start + i) for i in range(count)]


class _Namer:
    """Hands out cp-N / node-N names not taken yet, and decides the default role."""

    def __init__(self, existing: list[NodeSpec]) -> None:
        self.taken = {n.name for n in existing}
        self.has_control_plane = any(n.is_control_plane for n in existing)

    def role(self, given: str | None) -> str:
        return given or ("worker" if self.has_control_plane else "control-plane")

    def name(self, role: str) -> str:
        prefix = "cp" if role == "control-plane" else "node"
        number = 1
        while f"{prefix}-{number}" in self.taken:
            number += 1
        return f"{prefix}-{number}"

    def take(self, node: NodeSpec) -> None:
        self.taken.add(node.name)
        self.has_control_plane |= node.is_control_plane


def parse_lines(text: str, existing: list[NodeSpec]) -> Parsed:
    result, namer = Parsed(), _Namer(existing)
    addresses = {n.address for n in existing}
    for number, raw in enumerate(text.splitlines()[:MAX_LINES], start=1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        try:
            nodes = _parse_line(line, namer, addresses)
        except ValueError as exc:
            result.errors.append(f"line {number}: {exc}")
            continue
        result.nodes.extend(nodes)
    return result


def _parse_line(line: str, namer: _Namer, addresses: set[str]) -> list[NodeSpec]:
    words = line.split()
    if len(words) > 3:
        raise ValueError(f"expected `ip [name] [role]`, got {len(words)} words")
    hosts = _hosts(words[0])
    if message := node_errors({"name": "x", "address": hosts[0]}).get("address"):
        raise ValueError(message)
    role = ROLE_WORDS.get(words[-1].lower()) if len(words) > 1 else None
    name = words[1] if len(words) > 1 and (role is None or len(words) == 3) else None
    if len(words) == 3 and role is None:
        raise ValueError(f"{words[2]!r} is not a role (control-plane or worker)")
    if name is not None and len(hosts) > 1:
        raise ValueError("a range cannot share one name; leave the name out")
    return [_node(host, name, role, namer, addresses) for host in hosts]


def _hosts(word: str) -> list[str]:
    try:
        return expand_range(word)
    except ValueError as exc:
        if "-" in word and word.replace(".", "").replace("-", "").isdigit():
            raise ValueError(
                str(exc) if "range" in str(exc) else f"{word!r} is not an address range"
            ) from None
    return [word]  # a host name with a dash


def _node(host: str, name: str | None, role: str | None, namer: _Namer, addresses: set[str]) -> NodeSpec:
    if host in addresses:
        raise ValueError(f"{host} is already in the inventory")
    chosen_role = namer.role(role)
    chosen_name = name or namer.name(chosen_role)
    data = {"name": chosen_name, "address": host, "role": chosen_role}
    if errors := node_errors(data):
        field_name, message = next(iter(errors.items()))
        raise ValueError(f"{field_name}: {message}")
    if chosen_name in namer.taken:
        raise ValueError(f"the name {chosen_name!r} is already used")
    node = NodeSpec.model_validate(data)
    namer.take(node)
    addresses.add(host)
    return node
