"""The port matrix: which ports each node must accept from which nodes, and what the probes found.

Three remote steps gather the evidence (`ports-listen`: short-lived listeners on every node;
`ports-probe`: every node connects to every other node's listeners; `ports-close`: listeners stopped,
saying which were still alive) and one local step (`port-matrix`) turns it into findings. This module is
the pure part: what to probe (from `k8stui.recipes.ports`, the one port table), how the steps' published
values read, and the matrix with a plain-words reason and the rule to add for each blocked pair.

Published values (stored per node as `name@node`, see `node_key`), space-separated tokens:
- ports_listen: `until=<epoch> tool=<python3|nc|none> tcp/6443=listening udp/8472=in-use ...`
  (states: listening | in-use | failed | no-tool | installed: Kubernetes runs there already)
- ports_probe:  `<target>:tcp/6443=open <target>:udp/8472=timeout ...`
  (open | timeout | rejected | refused | expired | error)
- ports_alive:  `tcp/6443 udp/8472 ...` (`-` when none): listeners still running when closed
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from enum import Enum
from functools import lru_cache
from typing import NamedTuple

from k8stui.model.cluster import ClusterSpec, NodeSpec
from k8stui.recipes.ports import Port, ports_for
from k8stui.recipes.preflight import Finding

LISTEN, PROBE, ALIVE = "ports_listen", "ports_probe", "ports_alive"
# kube-scheduler and kube-controller-manager bind 127.0.0.1 under kubeadm: nothing remote talks to them.
LOCAL_ONLY = frozenset({10257, 10259})
# A blocked pair of these breaks the cluster (API, etcd, kubelet, the pod network): an error.
# The others (kube-proxy health, NodePorts, unused calico options) are warnings.
REQUIRED = frozenset({
    ("tcp", 6443), ("tcp", 2379), ("tcp", 2380), ("tcp", 10250), ("udp", 8472), ("tcp", 179),
})
FROM_CONTROL_PLANES = frozenset({("tcp", 2379), ("tcp", 2380)})  # etcd peers and clients: control planes
PROBE_SECONDS = 3  # per connect attempt; UDP waits this long for the echo in total


def node_key(name: str, node: str) -> str:
    """Where a per-node published value is stored among the run's outputs: `ports_listen@cp1`."""
    return f"{name}@{node}"


@dataclass(frozen=True)
class Check:
    """One port a node must accept: a sample of a range (its first and last port) is enough."""

    proto: str
    port: int
    purpose: str

    @property
    def key(self) -> str:
        return f"{self.proto}/{self.port}"

    @property
    def label(self) -> str:
        return f"{self.proto.upper()} {self.port}"

    @property
    def required(self) -> bool:
        return (self.proto, self.port) in REQUIRED

    @property
    def control_planes_only(self) -> bool:
        return (self.proto, self.port) in FROM_CONTROL_PLANES


def _samples(port: Port) -> list[int]:
    return sorted({port.first, port.last})


def table(spec: ClusterSpec, node: NodeSpec) -> list[Port]:
    return ports_for(node.role, spec.network.cni, workloads=spec.kubernetes.untaint_control_plane)


def checks_for(spec: ClusterSpec, node: NodeSpec) -> list[Check]:
    """The TCP/UDP ports `node` must accept from the other nodes, ranges sampled, in table order."""
    checks: list[Check] = []
    for port in table(spec, node):
        if port.proto == "ip":
            continue
        for number in _samples(port):
            check = Check(port.proto, number, port.purpose)
            if number not in LOCAL_ONLY and check not in checks:
                checks.append(check)
    return checks


def untestable(spec: ClusterSpec, node: NodeSpec) -> list[Port]:
    """Openings a listener cannot prove (raw IP protocols such as calico's IP-in-IP)."""
    return [p for p in table(spec, node) if p.proto == "ip"]


def sources_for(spec: ClusterSpec, target: NodeSpec, check: Check) -> list[NodeSpec]:
    """The nodes that must reach `check` on `target` (never the target itself)."""
    nodes = spec.control_planes if check.control_planes_only else spec.nodes
    return [n for n in nodes if n.name != target.name]


# ------------------------------------------------------------------------------------ parsing


@dataclass
class Listen:
    """What a node's `ports-listen` step published."""

    until: float = 0.0
    tool: str = "none"
    states: dict[str, str] = field(default_factory=dict)  # "tcp/6443" -> listening | in-use | ...


def parse_listen(text: str | None) -> Listen | None:
    if not text:
        return None
    listen = Listen()
    for token in text.split():
        name, _, value = token.partition("=")
        if name == "until":
            listen.until = float(value or 0)
        elif name == "tool":
            listen.tool = value
        elif "/" in name:
            listen.states[name] = value
    return listen


def parse_probe(text: str | None) -> dict[tuple[str, str], str]:
    """`cp1:tcp/6443=open ...` -> {("cp1", "tcp/6443"): "open"}."""
    results: dict[tuple[str, str], str] = {}
    for token in (text or "").split():
        where, _, value = token.partition("=")
        target, _, port = where.rpartition(":")
        if target and port:
            results[(target, port)] = value
    return results


# `build` looks at every (source, target, port) cell: parsing a node's whole published value again per
# cell made a 50-node matrix take minutes on the event loop. Read-only uses share one parse per text.
_listen_cached = lru_cache(maxsize=1024)(parse_listen)
_probe_cached = lru_cache(maxsize=1024)(parse_probe)


def parse_alive(text: str | None) -> set[str] | None:
    if text is None:
        return None
    return {t for t in text.split() if "/" in t}


# ------------------------------------------------------------------------------- what to probe


@dataclass(frozen=True)
class Probe:
    target: str
    ip: str
    proto: str
    port: int
    until: int  # the target's listeners stop at this epoch second: later, the probe says "expired"

    @property
    def token(self) -> str:
        return f"{self.target}:{self.proto}/{self.port}"

    @property
    def line(self) -> str:
        """`target|ip|proto|port|until`, as ports-probe lists it (built here: Jinja's `~` chain was
        half of that template's render time, and it has nodes x ports lines)."""
        return f"{self.target}|{self.ip}|{self.proto}|{self.port}|{self.until}"


def probes_from(spec: ClusterSpec, source: str, outputs: dict[str, str]) -> list[Probe]:
    """What `source` must connect to: every other node's ports that its listener really holds."""
    me = spec.node(source)
    from_plane = me.is_control_plane
    probes = []
    # The checks depend on the role only: one table per role, each check's key and who may probe it
    # computed once (this loop runs nodes^2 x ports times over a run).
    by_role: dict[str, list[tuple[Check, str]]] = {}
    for target in spec.nodes:
        listen = _listen_cached(outputs.get(node_key(LISTEN, target.name)))  # read-only: shared parse
        if target.name == me.name or listen is None or not target.node_ip:
            continue
        if target.role not in by_role:
            by_role[target.role] = [(c, c.key) for c in checks_for(spec, target)
                                    if from_plane or not c.control_planes_only]  # as sources_for
        states, until = listen.states, int(listen.until)
        for check, key in by_role[target.role]:
            if _probeable(check, states.get(key, "")):
                probes.append(Probe(target.name, target.node_ip, check.proto, check.port, until))
    return probes


def _probeable(check: Check, state: str) -> bool:
    """A test listener holds it, or (a node added to a running cluster) the real TCP service may."""
    return state == "listening" or (state == "installed" and check.proto == "tcp")


def listen_seconds(spec: ClusterSpec) -> int:
    """How long listeners live: enough for every node to probe (bounded; `ports-close` stops them earlier)."""
    return min(900, 120 + 3 * len(spec.nodes))


# ------------------------------------------------------------------------------------ the matrix


class Cell(str, Enum):
    OPEN = "open"
    BLOCKED = "blocked"
    UNTESTED = "not tested"
    SKIPPED = "skipped"  # Kubernetes already runs on the target (a re-run): nothing to find out


class Pair(NamedTuple):
    """One source -> target -> port cell of the matrix, with why it is not open.

    A named tuple, not a frozen dataclass: the matrix has nodes^2 x ports cells (~280k at 200 nodes,
    built on the first control plane) and a frozen dataclass costs ~4x as much to create.
    """

    source: str
    target: str
    check: Check
    state: Cell
    reason: str = ""


_NOT_LISTENING = {
    "in-use": "{port} is already in use on {target} (another program listens on it; is Kubernetes already "
              "installed there?), so no test listener could take it",
    "no-tool": "{target} has no python or nc to listen with",
    "failed": "the test listener on {target} could not bind {port}",
}
_PROBE = {
    "timeout": "no {answer} within {seconds} s: packets from {source} to {target} are dropped",
    "rejected": "{source} -> {target} is rejected (no route to host / administratively prohibited)",
    "refused": "{target} refused it although its test listener was running: a firewall rejects it",
}


def _cell(spec: ClusterSpec, source: str, target: str, check: Check, outputs: dict[str, str]) -> Pair:
    def pair(state: Cell, reason: str = "") -> Pair:
        if not reason:  # most cells are open: no wording to fill in (the whole matrix is nodes^2 cells)
            return Pair(source, target, check, state)
        words = {"source": source, "target": target, "port": check.label, "seconds": PROBE_SECONDS,
                 "answer": "echo" if check.proto == "udp" else "answer"}
        return Pair(source, target, check, state, reason.format(**words))

    listen = _listen_cached(outputs.get(node_key(LISTEN, target)))
    if listen is None:
        return pair(Cell.UNTESTED, "{target} published no listener results (ports-listen did not run there)")
    state = listen.states.get(check.key, "")
    if state == "installed":
        return _installed(pair, target, check, outputs.get(node_key(PROBE, source)))
    if state != "listening":
        return pair(Cell.UNTESTED, _NOT_LISTENING.get(state, "{target} did not listen on {port}"))
    probed = outputs.get(node_key(PROBE, source))
    if probed is None:
        return pair(Cell.UNTESTED, "{source} published no probe results (its ports-probe step did not run)")
    result = _probe_cached(probed).get((target, check.key), "")
    if result == "open":
        return pair(Cell.OPEN)
    alive = parse_alive(outputs.get(node_key(ALIVE, target)))
    if result in ("refused", "expired") and alive is not None and check.key not in alive:
        return pair(Cell.UNTESTED, "the test listener on {target} had already stopped when {source} probed")
    if result in _PROBE:
        return pair(Cell.BLOCKED, _PROBE[result])
    return pair(Cell.UNTESTED, f"{{source}} could not probe it ({result or 'no result'})")


def _installed(pair: Callable[[Cell, str], Pair], target: str, check: Check, probed: str | None) -> Pair:
    """Kubernetes runs on the target already (e.g. a node added later): its own TCP services were probed."""
    result = _probe_cached(probed).get((target, check.key), "") if probed else ""
    if result in ("timeout", "rejected"):
        return pair(Cell.BLOCKED, _PROBE[result])
    if result == "open":
        return pair(Cell.OPEN, "")
    return pair(Cell.SKIPPED, "Kubernetes already runs on {target}")


def build(spec: ClusterSpec, outputs: dict[str, str], target: str | None = None) -> list[Pair]:
    """Every (source, target, port) cell, targets in file order, then ports in table order
    (only the cells into `target` when given)."""
    targets = [n for n in spec.nodes if target is None or n.name == target]
    # Each node's probe results parsed once (and cached across builds); the source lists as
    # sources_for gives them, without a scan of the nodes per (target, port).
    probed = {n.name: _probe_cached(outputs.get(node_key(PROBE, n.name)) or "") for n in spec.nodes}
    everyone, planes = [n.name for n in spec.nodes], [n.name for n in spec.control_planes]
    pairs: list[Pair] = []
    for node in targets:
        to = node.name
        listen = _listen_cached(outputs.get(node_key(LISTEN, to)))
        for check in checks_for(spec, node):
            key = (to, check.key)
            listening = listen is not None and listen.states.get(check.key) == "listening"
            for source in planes if check.control_planes_only else everyone:
                if source == to:
                    continue
                # Open cells (nearly all of the nodes^2 matrix) skip _cell's per-cell lookups.
                if listening and probed[source].get(key) == "open":
                    pairs.append(Pair(source, to, check, Cell.OPEN))
                else:
                    pairs.append(_cell(spec, source, to, check, outputs))
    return pairs


def gathered(outputs: dict[str, str]) -> bool:
    """Whether any port-check step published anything (old state files and `--steps` runs have none)."""
    return any(key.startswith((f"{LISTEN}@", f"{PROBE}@")) for key in outputs)


# ---------------------------------------------------------------------------------- findings


def _ips(spec: ClusterSpec, names: list[str]) -> str:
    return ", ".join(f"{n} ({spec.node(n).node_ip})" if spec.node(n).node_ip else n for n in names)


def rule(spec: ClusterSpec, target: str, check: Check, sources: list[str]) -> str:
    """The opening to add on `target`, as firewalld, ufw and cloud security-group wording."""
    ips = [spec.node(n).node_ip or n for n in sources]
    fw = f"{check.port}/{check.proto}"
    local = "" if spec.host_prep.firewall == "leave" else (
        f" (hostPrep.firewall is {spec.host_prep.firewall}, so look at the cloud rules first)")
    return (f"allow inbound {check.label} on {target} from {', '.join(ips)}{local}: "
            f"firewalld: firewall-cmd --permanent --add-port={fw} && firewall-cmd --reload; "
            f"ufw: ufw allow {fw}; cloud: add an inbound rule to {target}'s security group "
            f"for {check.label} from {', '.join(ips)} (or from the nodes' own security group)")


def _group(pairs: list[Pair]) -> dict[Check, list[Pair]]:
    grouped: dict[Check, list[Pair]] = {}
    for pair in pairs:
        grouped.setdefault(pair.check, []).append(pair)
    return grouped


def findings(spec: ClusterSpec, node: str, pairs: list[Pair]) -> list[Finding]:
    """What the matrix means for `node` as a target: the fix of a blocked port is on its side."""
    mine = [p for p in pairs if p.target == node]
    found = [_blocked(spec, node, check, cells)
             for check, cells in _group([p for p in mine if p.state is Cell.BLOCKED]).items()]
    found += [_untested(node, check, cells)
              for check, cells in _group([p for p in mine if p.state is Cell.UNTESTED]).items()]
    return sorted(found, key=lambda f: (f.severity != "error", f.code))


def _blocked(spec: ClusterSpec, node: str, check: Check, cells: list[Pair]) -> Finding:
    sources = [p.source for p in cells]
    severity = "error" if check.required else "warning"
    why = f"{check.purpose} needs it ({cells[0].reason})"
    if not check.required:
        why += "; the install goes on, but that feature will not work from there"
    return Finding(severity, "port-blocked" if check.required else "port-blocked-optional", node,
                   found=f"{check.label} on {node} is blocked from {_ips(spec, sources)}",
                   why=why, fix=rule(spec, node, check, sources))


def _untested(node: str, check: Check, cells: list[Pair]) -> Finding:
    sources = ", ".join(p.source for p in cells)
    return Finding("warning", "port-not-tested", node,
                   found=f"{check.label} on {node} was not tested from {sources}",
                   why=f"{cells[0].reason}; k8stui cannot say whether it is open",
                   fix=f"make sure {check.label} ({check.purpose}) reaches {node} from the other nodes")


# ---------------------------------------------------------------------------------- the table


def format_matrix(spec: ClusterSpec, pairs: list[Pair], *, problems_only: bool = False) -> list[str]:
    """One line per target port: `cp1 TCP 6443 (Kubernetes API server) <- cp2 ok, w1 BLOCKED`."""
    lines = []
    by_target: dict[str, list[Pair]] = {}  # one pass: filtering all pairs per target was O(nodes^3)
    for pair in pairs:
        by_target.setdefault(pair.target, []).append(pair)
    for target in spec.nodes:
        for check, cells in _group(by_target.get(target.name, [])).items():
            if problems_only and all(p.state in (Cell.OPEN, Cell.SKIPPED) for p in cells):
                continue
            marks = ", ".join(f"{p.source} {_mark(p.state)}" for p in cells)
            lines.append(f"  {target.name:<14} {check.label:<10} {check.purpose:<26} <- {marks}")
    return lines


MARKS = {Cell.OPEN: "ok", Cell.BLOCKED: "BLOCKED", Cell.UNTESTED: "untested", Cell.SKIPPED: "installed"}


def _mark(state: Cell) -> str:
    return MARKS[state]


def report(spec: ClusterSpec, outputs: dict[str, str]) -> list[str]:
    """What `k8stui apply` prints after a run: the matrix for blocked (and untested) pairs, and the rules."""
    if not gathered(outputs):
        return []
    pairs = build(spec, outputs)
    blocked = [p for p in pairs if p.state is Cell.BLOCKED]
    untested = [p for p in pairs if p.state is Cell.UNTESTED]
    pairs = [p for p in pairs if p.state is not Cell.SKIPPED]
    if not pairs:
        return []
    if not blocked and not untested:
        return [f"port matrix: all {len(pairs)} node-to-node port checks open"]
    lines = [f"port matrix: {len(blocked)} blocked, {len(untested)} not tested of {len(pairs)} "
             "(target, port <- source):", *format_matrix(spec, pairs, problems_only=True)]
    for target in spec.nodes:
        for check, cells in _group([p for p in blocked if p.target == target.name]).items():
            lines.append(f"  fix: {rule(spec, target.name, check, [p.source for p in cells])}")
    return lines


def matrix_lines(spec: ClusterSpec, node: str, outputs: dict[str, str]) -> tuple[list[str], list[Finding]]:
    """The local `port-matrix` step on `node`: its inbound rows (the whole matrix on the first control
    plane, once) and its findings."""
    first = spec.first_control_plane
    whole = first is not None and first.name == node
    # The other nodes need only their inbound cells: building the whole matrix on each was O(nodes^3).
    pairs = build(spec, outputs) if whole else build(spec, outputs, target=node)
    shown = pairs if whole else [p for p in pairs if p.target == node]
    notes = [f"port matrix ({'all nodes' if shown is pairs else 'into ' + node}; target, port <- source):",
             *format_matrix(spec, shown)]
    target = spec.node(node)
    notes += [f"  {node:<14} {p.label:<10} {p.purpose:<26} not testable with a listener"
              for p in untestable(spec, target)]
    return notes, findings(spec, node, pairs)
