"""SIMULATION: the port-check steps (ports-listen, ports-probe, ports-close) on simulated nodes.

No sockets are opened. Like the join token, what to report is read from the rendered script itself:
ports-listen's `CHECKS=(tcp/6443 ...)` become `listening`, ports-probe's `PROBES=('target|ip|proto|
port|until' ...)` become `open` (a simulated network has no firewall), and ports-close finds no
listener still alive. The value formats are those of k8stui.recipes.portmatrix.
"""

from __future__ import annotations

import re
import time

STEPS = frozenset({"ports-listen", "ports-probe", "ports-close"})
LISTEN_SECONDS = 60
_CHECKS_RE = re.compile(r"^CHECKS=\((.*)\)\s*$", re.M)
_PROBE_RE = re.compile(r"^\s*'?([a-z0-9][a-z0-9-]*)\|[^|\s]*\|(tcp|udp)\|(\d+)\|\d+'?\s*$", re.M)


def listen_keys(script: str) -> list[str]:
    """`tcp/6443`-style keys the listen script was rendered to open."""
    match = _CHECKS_RE.search(script)
    return [key.strip("'\"") for key in match.group(1).split()] if match else []


def probe_targets(script: str) -> list[tuple[str, str, int]]:
    """(target node, proto, port) the probe script was rendered to try."""
    return [(target, proto, int(port)) for target, proto, port in _PROBE_RE.findall(script)]


def outputs(step: str, script: str, blocked: set[tuple[str, str]] | None = None) -> dict[str, str]:
    """`blocked`: (target, "tcp/6443") pairs whose probe times out (SimCluster.block_port)."""
    if step == "ports-listen":
        states = " ".join(f"{key}=listening" for key in listen_keys(script))
        return {"ports_listen": f"until={int(time.time()) + LISTEN_SECONDS} tool=python3 {states}".rstrip()}
    if step == "ports-probe":
        dropped = blocked or set()
        tokens = " ".join(f"{t}:{proto}/{port}={'timeout' if (t, f'{proto}/{port}') in dropped else 'open'}"
                          for t, proto, port in probe_targets(script))
        return {"ports_probe": tokens}
    return {"ports_alive": "-"}
