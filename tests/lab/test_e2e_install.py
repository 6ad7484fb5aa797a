"""End to end on the lab: `k8stui apply` (headless, as a subprocess) installs ubuntu-22.04 with one
control plane and two workers from the official mirror (containerd, flannel); a second apply changes
nothing. The nodes' kubeadm, kubelet, kubectl, containerd and crictl are the lab's strict models."""

from __future__ import annotations

import base64
import re
import ssl
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from . import e2e
from .lab import Lab, missing_requirements

pytestmark = pytest.mark.skipif(missing_requirements() is not None, reason=str(missing_requirements()))
DISTROS = ("ubuntu-22.04",) * 3
KUBE = {"version": "1.34", "packageMirror": "official"}
NET = {"cni": "flannel", "proxyMode": "iptables"}
Installed = tuple[Lab, Path, Path, e2e.Run]  # lab, cluster file, state dir, the first apply
JOIN = re.compile(r"kubeadm join (\S+) --token (\S+) --discovery-token-ca-cert-hash (sha256:[0-9a-f]{64})")
CA_HASH = ("openssl x509 -pubkey -noout -in /etc/kubernetes/pki/ca.crt | openssl pkey -pubin -outform der"
           " | openssl dgst -sha256 -hex | sed 's/^.* //'")
READ_ONLY = {"facts", "preflight", "endpoint-probe", "fetch-kubeconfig", "ports-listen", "ports-probe",
             "ports-close", "port-matrix"}


@pytest.fixture(scope="module")
def installed(lab: Any, tmp_path_factory: pytest.TempPathFactory) -> Installed:
    env: Lab = lab(*DISTROS)
    directory = tmp_path_factory.mktemp("e2e-install")
    config = e2e.cluster_file(env, directory, kubernetes=KUBE, network=NET)
    run = e2e.apply(config, directory / "state")
    print(f"first apply: {run.seconds:.1f}s")
    return env, config, directory / "state", run


def test_three_nodes_install_and_pass_the_smoke_test(installed: Installed) -> None:
    env, _, _, run = installed
    assert run.code == 0, run
    assert "smoke test: passed: nginx answered on http://172.30." in run.out, run
    assert "nodes: lab1 Ready, lab2 Ready, lab3 Ready" in run.out, run
    nodes = env.run(env.nodes[0], "kubectl --kubeconfig /etc/kubernetes/admin.conf get nodes").stdout
    rows = [line.split()[:2] for line in nodes.splitlines()[1:]]
    assert rows == [[n, "Ready"] for n in ("lab1", "lab2", "lab3")]


def test_the_summary_join_command_is_the_one_the_workers_used(installed: Installed) -> None:
    env, _, _, run = installed
    m = JOIN.search(run.out)
    assert m, run
    endpoint, token, ca_hash = m.groups()
    assert endpoint == f"{env.nodes[0].ip}:6443"
    real = env.run(env.nodes[0], CA_HASH).stdout.strip()
    assert ca_hash == f"sha256:{real}"
    for worker in env.nodes[1:]:
        used = env.run(worker, "cat /etc/kubernetes/k8stui/kubeadm-join.yaml").stdout
        assert f'token: "{token}"' in used and ca_hash in used and f'apiServerEndpoint: "{endpoint}"' in used


def test_kubeconfig_on_the_jump_host_reaches_the_api_server(installed: Installed) -> None:
    env, _, state_dir, _ = installed
    kubeconfig = state_dir / "lab" / "kubeconfig"
    assert kubeconfig.stat().st_mode & 0o777 == 0o600
    text = kubeconfig.read_text()
    assert f"server: https://{env.nodes[0].ip}:6443" in text
    ca = base64.b64decode(re.search(r"certificate-authority-data: (\S+)", text).group(1)).decode()  # type: ignore[union-attr]
    context = ssl.create_default_context(cadata=ca)  # the cluster CA, verified: a real TLS handshake
    url = f"https://{env.nodes[0].ip}:6443/healthz"
    with urllib.request.urlopen(url, context=context, timeout=10) as reply:
        assert reply.read() == b"ok"


def test_second_apply_changes_nothing(installed: Installed) -> None:
    env, config, state_dir, first = installed
    assert first.code == 0, first
    before = env.run(env.nodes[0], "md5sum /etc/kubernetes/admin.conf /etc/kubernetes/pki/ca.crt "
                                   "/etc/containerd/config.toml").stdout
    again = e2e.apply(config, state_dir)
    print(f"second apply: {again.seconds:.1f}s (first: {first.seconds:.1f}s)")
    assert again.code == 0, again
    rows = e2e.run_state(state_dir)["rows"]
    changed = {(node, step): row["status"] for node, steps in rows.items() for step, row in steps.items()
               if step not in READ_ONLY and row["status"] != "skipped"}
    assert not changed, f"steps that did something on the second apply: {changed}\n{again}"
    assert env.run(env.nodes[0], "md5sum /etc/kubernetes/admin.conf /etc/kubernetes/pki/ca.crt "
                                 "/etc/containerd/config.toml").stdout == before
    assert again.seconds < first.seconds


def test_join_command_prints_a_fresh_working_token(installed: Installed) -> None:
    env, config, state_dir, _ = installed
    run = e2e.k8stui("join-command", "-f", str(config), "--state-dir", str(state_dir))
    assert run.code == 0, run
    m = JOIN.search(run.out)
    assert m, run
    token_id = m.group(2).split(".")[0]
    # Anonymous, as kubeadm join's discovery: cluster-info carries a JWS signature for every valid token.
    context = ssl.create_default_context()
    context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
    url = f"https://{env.nodes[0].ip}:6443/api/v1/namespaces/kube-public/configmaps/cluster-info"
    with urllib.request.urlopen(url, context=context, timeout=10) as reply:
        assert f"jws-kubeconfig-{token_id}" in reply.read().decode()


def test_the_cluster_survives_a_reboot_of_every_node(installed: Installed) -> None:
    """What the recipes made persistent (swap off in fstab, modules, sysctl, enabled units) brings the
    cluster back: the kubelet restarts the static API server, the nodes report Ready, apply skips all."""
    env, config, state_dir, first = installed
    assert first.code == 0, first
    for node in env.nodes:
        assert env.run(node, "k8slab reboot").returncode == 0
    assert env.run(env.nodes[0], "swapon --show").stdout.strip() == ""
    wait = ("kubectl --kubeconfig /etc/kubernetes/admin.conf wait --for=condition=Ready nodes --all"
            " --timeout=60s")
    ready = env.run(env.nodes[0], wait, timeout=90)
    assert ready.returncode == 0 and ready.stdout.count("condition met") == 3, ready.stderr
    again = e2e.apply(config, state_dir)
    assert again.code == 0, again
    rows = e2e.run_state(state_dir)["rows"]
    changed = {(node, step): row["status"] for node, steps in rows.items() for step, row in steps.items()
               if step not in READ_ONLY and row["status"] != "skipped"}
    assert not changed, f"steps that did something after the reboot: {changed}\n{again}"
