"""An in-memory NodeSession double (the transport seam) and helpers for the runner's unit tests.

Each (node, step) has a Behavior: how long it takes, what it prints, its exit code, whether it hangs
(then it raises StepTimeout like the real session enforcing a timeout) or is already in place.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field

from k8stui.engine.errors import AuthError, StepTimeout
from k8stui.model.cluster import ClusterSpec, NodeSpec


@dataclass
class Behavior:
    code: int = 0
    delay: float = 0.0
    lines: tuple[str, ...] = ("working",)
    outputs: dict[str, str] = field(default_factory=dict)
    done: bool = False  # the check says the effect is in place ("skipped")
    hang: bool = False  # until the timeout (raises StepTimeout) or cancellation
    hang_seconds: float = 30.0


def spec(workers: int = 3) -> ClusterSpec:
    nodes = [{"name": "cp1", "address": "10.0.0.10", "role": "control-plane"}]
    for i in range(1, workers + 1):
        nodes.append({"name": f"w{i}", "address": f"10.0.0.{20 + i}", "role": "worker"})
    return ClusterSpec.model_validate({"name": "lab", "nodes": nodes})


def facts_outputs(node: NodeSpec, os_name: str = "ubuntu-22.04") -> dict[str, str]:
    os_id, _, version = os_name.partition("-")
    suffix = node.address.rsplit(".", 1)[1]
    return {
        "hostname": node.name, "os_id": os_id, "os_version": version, "kernel": "6.1.0", "arch": "x86_64",
        "cpus": "4", "memory_mb": "8192", "cgroup_version": "2", "product_uuid": f"uuid-{node.name}",
        "nics": f"eth0|52:54:00:00:00:{int(suffix):02x}|{node.address}/24", "swap_kb": "0",
        "firewall": "none", "selinux": "absent", "runtime": "none", "modules": "br_netfilter,overlay",
    }


class FakeCluster:
    """Hands out FakeSessions and records what ran where, and when."""

    def __init__(self, cluster: ClusterSpec, os_names: dict[str, str] | None = None) -> None:
        self.spec = cluster
        self.os_names = os_names or {}
        self.behaviors: dict[tuple[str, str], Behavior] = {}
        self.runs: list[tuple[str, str, str, float, float]] = []  # node, step, mode, start, end
        self.commands: list[tuple[str, str]] = []
        self.scripts: dict[tuple[str, str], str] = {}
        self.cancels: list[str] = []
        self.closed: list[str] = []
        self.unreachable: set[str] = set()
        self.active = 0
        self.max_active = 0

    def set(self, node: str, step: str, **kw: object) -> Behavior:
        self.behaviors[(node, step)] = Behavior(**kw)  # type: ignore[arg-type]
        return self.behaviors[(node, step)]

    def factory(self, node: NodeSpec) -> FakeSession:
        return FakeSession(self, node)

    def ran(self, node: str, step: str) -> list[tuple[str, str, str, float, float]]:
        return [r for r in self.runs if r[0] == node and r[1] == step]

    def window(self, node: str, step: str) -> tuple[float, float]:
        run = self.ran(node, step)[-1]
        return run[3], run[4]


class FakeSession:
    def __init__(self, cluster: FakeCluster, node: NodeSpec) -> None:
        self.cluster = cluster
        self.node = node

    async def connect(self) -> str:
        if self.node.name in self.cluster.unreachable:
            raise AuthError(f"{self.node.address}: permission denied (publickey)")
        return f"root@{self.node.address}:22"

    async def run_script(self, name: str, text: str, mode: str = "run", *, timeout: float, on_line) -> int:
        step = name.split("-", 1)[1].removesuffix(".sh")
        self.cluster.scripts[(self.node.name, step)] = text
        behavior = self.cluster.behaviors.get((self.node.name, step), Behavior())
        started = time.monotonic()
        self.cluster.active += 1
        self.cluster.max_active = max(self.cluster.max_active, self.cluster.active)
        try:
            return await self._play(step, mode, behavior, timeout, on_line)
        finally:
            self.cluster.active -= 1
            self.cluster.runs.append((self.node.name, step, mode, started, time.monotonic()))

    async def _play(self, step: str, mode: str, behavior: Behavior, timeout: float, on_line) -> int:
        if mode == "check":
            return 0 if behavior.done else 1
        for line in behavior.lines:
            on_line("out", line)
        if behavior.hang:
            await asyncio.sleep(behavior.hang_seconds)
            raise StepTimeout(f"{step} timed out after {timeout:g}s")
        await asyncio.sleep(behavior.delay)
        outputs = dict(behavior.outputs)
        if step == "facts":
            outputs = facts_outputs(self.node, self.cluster.os_names.get(self.node.name, "ubuntu-22.04"))
        for key, value in outputs.items():
            on_line("out", f"::k8stui-output:: {key}={value}")
        if behavior.code == 0:
            on_line("out", f"::k8stui-status:: {'skipped' if behavior.done else 'changed'}")
        return behavior.code

    async def run_command(self, command: str, *, timeout: float, on_line, privileged: bool = True) -> int:
        self.cluster.commands.append((self.node.name, command))
        on_line("out", f"diag output of {command}")
        return 0

    async def cancel(self) -> None:
        self.cluster.cancels.append(self.node.name)

    async def close(self) -> None:
        self.cluster.closed.append(self.node.name)
