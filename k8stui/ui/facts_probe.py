"""Inventory's "Test connections": connect to one node and run the read-only `facts` step.

It uses the engine exactly as an install does (NodeSession, the rendered facts script), so a node that
passes here is reachable the same way later. Only the host-key question is the UI's: the engine asks
(host, key type, fingerprint) and the Inventory screen answers with a dialog.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Awaitable, Callable

from k8stui.engine.secrets_input import resolve_secrets
from k8stui.engine.ssh import ConnectOptions, NodeSession
from k8stui.model.cluster import ClusterSpec, NodeSpec
from k8stui.model.facts import Facts
from k8stui.recipes.plan import build_plan
from k8stui.recipes.protocol import is_marker, parse_output
from k8stui.ui.dialogs.host_key import HostKeyInfo

HostKeyQuestion = Callable[[HostKeyInfo], Awaitable[bool]]


class ProbeError(Exception):
    """The facts step ran but failed; the message carries its last output line."""


def _script(spec: ClusterSpec, node: NodeSpec) -> tuple[str, str, float]:
    """(script name, text, timeout) of the node's facts step; facts runs before the OS is known.

    The facts script looks at one machine only, so it is planned for a one-node copy of the spec:
    testing 200 nodes must not build 200 plans of 200 nodes on the UI's event loop.
    """
    plan = build_plan(spec.model_copy(update={"nodes": [node]}))
    planned = plan.find(node.name, "facts")
    if planned is None:
        raise ProbeError(f"no facts step is planned for {node.name}")
    return planned.script, plan.render(planned), planned.step.timeout


async def gather_facts(
    spec: ClusterSpec, node: NodeSpec, prompt: HostKeyQuestion, options: ConnectOptions | None = None
) -> Facts:
    """Connect to `node`, run the facts step, parse what it published. Raises on any failure."""
    name, text, timeout = _script(spec, node)
    outputs: dict[str, str] = {}
    tail: deque[str] = deque(maxlen=3)

    def on_line(_stream: str, line: str) -> None:
        line = line.rstrip("\r\n")
        parsed = parse_output(line) if is_marker(line) else None
        if parsed is not None:
            outputs[parsed[0]] = parsed[1]
        elif line.strip() and not is_marker(line):
            tail.append(line.strip())

    async def ask(host: str, key_type: str, fingerprint: str) -> bool:
        return await prompt(HostKeyInfo(host, key_type, fingerprint))

    # Passwords come only from the env variables the file names: the TUI never reads a tty prompt here.
    secrets = resolve_secrets(spec, [node.name], interactive=False)
    async with NodeSession(node, spec.ssh_for(node), secrets=secrets, options=options, prompt=ask) as session:
        code = await session.run_script(name, text, timeout=timeout, on_line=on_line)
    if code != 0:
        raise ProbeError(f"facts step exited {code}: {tail[-1] if tail else 'no output'}")
    return Facts.from_outputs(outputs)
