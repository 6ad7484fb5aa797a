"""What a template sees: the spec, the node, its OS, the version catalog, and published outputs."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from k8stui.model import versions
from k8stui.model.cluster import ClusterSpec, NodeSpec, SSHSpec
from k8stui.model.facts import Facts, OsInfo
from k8stui.model.versions import Version
from k8stui.recipes import artifacts, portmatrix
from k8stui.recipes.ports import parse_endpoint, ports_for


@dataclass(frozen=True)
class StepContext:
    spec: ClusterSpec
    node: NodeSpec
    os: OsInfo
    facts: Facts | None = None
    all_facts: dict[str, Facts] = field(default_factory=dict)
    outputs: dict[str, str] = field(default_factory=dict)  # published by earlier steps (any node)

    @property
    def version(self) -> Version:
        return Version.parse(self.spec.kubernetes.version)

    @property
    def ssh(self) -> SSHSpec:
        return self.spec.ssh_for(self.node)

    @property
    def is_first_control_plane(self) -> bool:
        first = self.spec.first_control_plane
        return first is not None and first.name == self.node.name

    def template_vars(self) -> dict[str, Any]:
        first = self.spec.first_control_plane  # a scan of the nodes: once per render, not twice
        return {
            "spec": self.spec,
            "k8s": self.spec.kubernetes,
            "net": self.spec.network,
            "prep": self.spec.host_prep,
            "node": self.node,
            "node_ip": self.node.node_ip or "",
            "os": self.os,
            "facts": self.facts,
            "all_facts": self.all_facts,
            "outputs": self.outputs,
            "v": self.version,
            "versions": versions,
            "ssh": self.ssh,
            "first_cp": first,
            "is_first_cp": first is not None and first.name == self.node.name,
            # Firewall openings for this node (k8stui.recipes.ports is the one table) and the endpoint split.
            "ports": ports_for(self.node.role, self.spec.network.cni,
                               workloads=self.spec.kubernetes.untaint_control_plane),
            "endpoint": parse_endpoint(self.spec.kubernetes.control_plane_endpoint),
            # Config files and manifests (kubeadm, CNI, runtime) the Kubernetes steps embed.
            "artifacts": artifacts,
            # The port matrix steps: what to listen on and probe (k8stui.recipes.portmatrix is pure).
            "portmatrix": portmatrix,
        }
