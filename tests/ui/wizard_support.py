"""Helpers shared by the wizard tests: sample specs and facts, a fake probe, an app factory."""

from __future__ import annotations

import asyncio
from pathlib import Path

from k8stui.model.cluster import ClusterSpec, NodeSpec
from k8stui.model.facts import Facts, Nic, OsInfo
from k8stui.ui.app import K8sTuiApp

SIZE = (100, 30)


def four_nodes() -> ClusterSpec:
    nodes = [
        NodeSpec(name="cp-1", address="10.0.0.11", role="control-plane"),
        NodeSpec(name="node-1", address="10.0.0.12"),
        NodeSpec(name="node-2", address="203.0.113.5", internalIP="10.0.0.13"),
        NodeSpec(name="node-3", address="10.0.0.14", os="rocky-9", ssh={"user": "ops", "sudo": "always"}),
    ]
    return ClusterSpec(name="lab", nodes=nodes)


def facts_for(name: str, ip: str, *, uuid: str = "", mac: str = "") -> Facts:
    return Facts(
        hostname=name,
        os=OsInfo("ubuntu", "22.04"),
        kernel="5.15.0-122-generic",
        arch="x86_64",
        cpus=4,
        memory_mb=8192,
        cgroup_version=2,
        product_uuid=uuid or f"uuid-{name}",
        nics=(Nic("eth0", mac or f"52:54:00:00:00:{ip.rsplit('.', 1)[1]}", (f"{ip}/24",)),),
    )


class FakeProbe:
    """Answers like the facts step would, without SSH; `fail` names nodes whose test fails."""

    def __init__(self, fail: tuple[str, ...] = (), delay: float = 0.0) -> None:
        self.fail = fail
        self.delay = delay  # answer after the table has drawn its "-" cells, like a real connection
        self.calls: list[str] = []

    async def __call__(self, spec: ClusterSpec, node: NodeSpec, prompt: object) -> Facts:
        self.calls.append(node.name)
        await asyncio.sleep(self.delay)
        if node.name in self.fail:
            raise ConnectionRefusedError(f"connect to {node.address} port 22: Connection refused")
        return facts_for(node.name, node.node_ip or "10.0.0.99")


def make_app(spec: ClusterSpec | None, tmp_path: Path, **kwargs: object) -> K8sTuiApp:
    path = kwargs.pop("path", None)
    return K8sTuiApp(spec, path, state_dir=tmp_path / "state", **kwargs)  # type: ignore[arg-type]
