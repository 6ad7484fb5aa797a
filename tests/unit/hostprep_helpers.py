"""Rendering helpers shared by the host-preparation template tests (a 3-node spec with an endpoint)."""

from __future__ import annotations

from typing import Any

from k8stui.model.cluster import ClusterSpec
from k8stui.recipes.plan import build_plan

NODES = [
    {"name": "cp1", "address": "10.0.0.11", "role": "control-plane"},
    {"name": "cp2", "address": "10.0.0.12", "role": "control-plane"},
    {"name": "w1", "address": "203.0.113.21", "internalIP": "10.0.0.21", "role": "worker"},
]
EL = ("centos-7", "rocky-9")
DEB = ("ubuntu-20.04", "ubuntu-22.04", "ubuntu-24.04", "debian-11", "debian-12")


def make_spec(kubernetes: dict[str, Any] | None = None, network: dict[str, Any] | None = None,
              prep: dict[str, Any] | None = None) -> ClusterSpec:
    k8s = {"controlPlaneEndpoint": "k8s-api.internal:6443", **(kubernetes or {})}
    return ClusterSpec.model_validate({"kubernetes": k8s, "network": network or {},
                                       "hostPrep": prep or {}, "nodes": NODES})


def script(step_id: str, os_name: str = "ubuntu-22.04", node: str = "cp1",
           spec: ClusterSpec | None = None) -> str:
    plan = build_plan(spec or make_spec(), os_override=os_name)
    planned = plan.find(node, step_id)
    assert planned is not None, f"{step_id} is not planned on {node} ({os_name})"
    return plan.render(planned)


def planned_ids(os_name: str, node: str = "cp1", spec: ClusterSpec | None = None) -> list[str]:
    return [p.step.id for p in build_plan(spec or make_spec(), os_override=os_name).steps(node)]
