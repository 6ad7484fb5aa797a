"""The whole kubeadm install, in order, in one place.

Each node walks this list top to bottom, skipping steps whose target or `when` excludes it.
Steps on the same node run in this order; `needs` names only the waits that cross nodes.
Scripts live in `templates/steps/<id>.sh.j2`.
"""

from __future__ import annotations

from k8stui.recipes.context import StepContext
from k8stui.recipes.step import Kind, Need, Step, Target

KUBEADM_DIAGNOSTICS = (
    "journalctl -u kubelet -n 200 --no-pager",
    "systemctl status containerd --no-pager",
    "crictl ps -a",
)
RUNTIME_DIAGNOSTICS = (
    "systemctl status containerd --no-pager",
    "journalctl -u containerd -n 100 --no-pager",
)
PACKAGE_DIAGNOSTICS = ("cat /etc/os-release",)


def _ipvs(ctx: StepContext) -> bool:
    return ctx.spec.network.proxy_mode == "ipvs"


def _el(ctx: StepContext) -> bool:
    return ctx.os.family == "el" and ctx.spec.host_prep.selinux == "permissive"


def _time(ctx: StepContext) -> bool:
    return ctx.spec.host_prep.time_servers != []


def _firewall(ctx: StepContext) -> bool:
    return ctx.spec.host_prep.firewall != "leave"


def _containerd(ctx: StepContext) -> bool:
    return ctx.spec.kubernetes.runtime == "containerd"


def _docker(ctx: StepContext) -> bool:
    return ctx.spec.kubernetes.runtime == "docker"


def _endpoint(ctx: StepContext) -> bool:
    return ctx.spec.kubernetes.control_plane_endpoint is not None


def _cni(ctx: StepContext) -> bool:
    return ctx.spec.network.cni != "none"


def _untaint(ctx: StepContext) -> bool:
    return ctx.spec.kubernetes.untaint_control_plane


# Planned steps only count: a barrier over whichever of these run on every node.
PORT_BARRIER = tuple(Need(step, Target.ALL.value) for step in ("hostname", "timesync", "firewall"))
JOINS = (Need("join", Target.WORKERS.value), Need("join-control-plane", Target.OTHER_CONTROL_PLANES.value))

CATALOG: tuple[Step, ...] = (
    Step("facts", "Gather facts", changes=False, timeout=60, outputs=("os_id", "nics", "product_uuid")),
    Step("preflight", "Preflight across all nodes", kind=Kind.LOCAL,
         needs=(Need("facts", Target.ALL.value),), timeout=10),
    Step("hostname", "Hostname and /etc/hosts", timeout=60),
    Step("timesync", "Time sync (chrony)", when=_time, timeout=300, diagnostics=("chronyc sources -v",)),
    Step("firewall", "Firewall", when=_firewall, timeout=120),
    # Port matrix: after the firewall step (its openings count), before anything Kubernetes listens.
    # Listeners start once every node is past its host-name, time and firewall steps, so they are all up
    # together; every node probes every other; listeners stop; each node judges the ports into it.
    Step("ports-listen", "Port check: test listeners", changes=False, timeout=60, node_outputs=True,
         needs=PORT_BARRIER, outputs=("ports_listen",)),
    Step("ports-probe", "Port check: probe the other nodes", changes=False, timeout=600, node_outputs=True,
         needs=(Need("ports-listen", Target.ALL.value),), outputs=("ports_probe",)),
    Step("ports-close", "Port check: stop the listeners", changes=False, timeout=60, node_outputs=True,
         needs=(Need("ports-probe", Target.ALL.value),), outputs=("ports_alive",)),
    Step("port-matrix", "Port matrix between the nodes", kind=Kind.LOCAL, timeout=10),
    Step("selinux", "SELinux permissive", when=_el, timeout=60),
    Step("swap", "Swap off now and at boot", timeout=60),
    Step("kernel", "Kernel modules and sysctl", timeout=60,
         diagnostics=("lsmod", "sysctl -a --pattern 'bridge|ip_forward'")),
    Step("ipvs", "IPVS modules and tools", when=_ipvs, timeout=300),
    Step("kube-repo", "Kubernetes package repository", timeout=300, diagnostics=PACKAGE_DIAGNOSTICS),
    Step("kube-packages", "kubelet, kubeadm, kubectl (pinned, held)", timeout=900,
         diagnostics=PACKAGE_DIAGNOSTICS),
    Step("containerd", "containerd (systemd cgroup, sandbox image)", when=_containerd, timeout=900,
         diagnostics=RUNTIME_DIAGNOSTICS),
    Step("docker", "Docker (systemd cgroup driver)", when=_docker, timeout=900,
         diagnostics=("systemctl status docker --no-pager", "journalctl -u docker -n 100 --no-pager")),
    Step("images", "Pre-pull control-plane images", targets=Target.CONTROL_PLANES, timeout=1200,
         diagnostics=KUBEADM_DIAGNOSTICS),
    Step("endpoint-probe", "Probe the control-plane endpoint", targets=Target.FIRST_CONTROL_PLANE,
         when=_endpoint, changes=False, timeout=30),
    Step("init", "kubeadm init", targets=Target.FIRST_CONTROL_PLANE, timeout=900, retry_safe=False,
         diagnostics=KUBEADM_DIAGNOSTICS,
         outputs=("join_command", "token", "ca_hash", "certificate_key", "token_expires")),
    Step("kubeconfig", "kubeconfig for the SSH user", targets=Target.FIRST_CONTROL_PLANE, timeout=60),
    Step("cni", "CNI network plugin", targets=Target.FIRST_CONTROL_PLANE, when=_cni, timeout=300,
         diagnostics=("kubectl --kubeconfig /etc/kubernetes/admin.conf get pods -A -o wide",)),
    Step("join-control-plane", "kubeadm join (control plane)", targets=Target.OTHER_CONTROL_PLANES,
         needs=(Need("init", Target.FIRST_CONTROL_PLANE.value),), timeout=900, retry_safe=False,
         diagnostics=KUBEADM_DIAGNOSTICS),
    Step("join", "kubeadm join", targets=Target.WORKERS,
         needs=(Need("init", Target.FIRST_CONTROL_PLANE.value),),
         timeout=600, retry_safe=False, diagnostics=KUBEADM_DIAGNOSTICS),
    Step("untaint", "Allow workloads on the control plane", targets=Target.FIRST_CONTROL_PLANE,
         when=_untaint, timeout=60),
    Step("fetch-kubeconfig", "Fetch admin kubeconfig to the jump host", targets=Target.FIRST_CONTROL_PLANE,
         changes=False, timeout=60, outputs=("kubeconfig_b64",)),
    Step("smoke", "Smoke test (nginx + NodePort)", targets=Target.FIRST_CONTROL_PLANE, needs=JOINS,
         timeout=600, diagnostics=("kubectl --kubeconfig /etc/kubernetes/admin.conf get pods -A -o wide",
                                   "kubectl --kubeconfig /etc/kubernetes/admin.conf get nodes -o wide"),
         outputs=("smoke_result", "node_status")),
)

BY_ID: dict[str, Step] = {step.id: step for step in CATALOG}
