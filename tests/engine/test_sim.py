"""The simulated nodes (k8stui.sim) through raw asyncssh clients: keys, step semantics, outputs, scale."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import re
import stat
from collections.abc import AsyncIterator
from pathlib import Path

import asyncssh
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from k8stui.model.cluster import ClusterSpec
from k8stui.model.facts import Facts
from k8stui.recipes.protocol import parse_output
from k8stui.sim import SimCluster

STEPS = "/var/lib/k8stui/steps"


def script(step: str, node: str, body: str = "") -> str:
    return f"#!/usr/bin/env bash\n# k8stui-step: {step} {node}\n{body}\n"


async def upload(conn: asyncssh.SSHClientConnection, name: str, text: str) -> None:
    result = await conn.run(f"umask 077 && mkdir -p {STEPS} && cat > {STEPS}/{name}.tmp && "
                            f"mv -f {STEPS}/{name}.tmp {STEPS}/{name}", input=text)
    assert result.exit_status == 0, result.stderr


async def play(conn: asyncssh.SSHClientConnection, name: str,
               mode: str = "run") -> asyncssh.SSHCompletedProcess:
    return await conn.run(f"timeout --kill-after=10 60 bash {STEPS}/{name} {mode}")


def outputs(stdout: str) -> dict[str, str]:
    return dict(filter(None, (parse_output(line) for line in stdout.splitlines())))


async def step(conn: asyncssh.SSHClientConnection, node: str, step_id: str, number: int = 0,
               body: str = "") -> asyncssh.SSHCompletedProcess:
    name = f"{number:02d}-{step_id}.sh"
    await upload(conn, name, script(step_id, node, body))
    return await play(conn, name)


@pytest.fixture
async def sim(tmp_path: Path) -> AsyncIterator[SimCluster]:
    async with await SimCluster.start(tmp_path / "sim", workers=2, step_seconds=0) as cluster:
        yield cluster


async def test_spec_is_a_valid_cluster_pointing_at_the_workdir(sim: SimCluster, tmp_path: Path) -> None:
    spec = ClusterSpec.model_validate(sim.spec.model_dump(by_alias=True))
    assert [n.name for n in spec.nodes] == ["cp-1", "node-1", "node-2"]
    assert [n.address for n in spec.nodes] == ["127.0.0.11", "127.0.0.12", "127.0.0.13"]
    assert [n.internal_ip for n in spec.nodes] == ["10.77.0.11", "10.77.0.12", "10.77.0.13"]
    assert all(n.ssh and n.ssh.port == sim.node(n.name).port > 0 for n in spec.nodes)
    assert spec.ssh.host_key_policy == "strict" and spec.ssh.user == "root"
    assert Path(spec.ssh.known_hosts) == sim.known_hosts and sim.known_hosts.parent == tmp_path / "sim"
    assert stat.S_IMODE(sim.identity_file.stat().st_mode) == 0o600


async def test_known_hosts_lists_one_distinct_key_per_node(sim: SimCluster) -> None:
    lines = sim.known_hosts.read_text().splitlines()
    assert [line.split()[0] for line in lines] == [f"[{n.address}]:{n.port}" for n in sim.nodes]
    assert all(line.split()[1] == "ssh-ed25519" for line in lines)
    assert len({line.split()[2] for line in lines}) == 3


async def test_client_verifies_host_key_and_banner_says_simulated(sim: SimCluster) -> None:
    banners: list[str] = []

    class Client(asyncssh.SSHClient):
        def auth_banner_received(self, msg: str, lang: str) -> None:
            banners.append(msg)

    node = sim.node("node-1")
    conn = await asyncssh.connect(node.address, node.port, username="root", known_hosts=str(sim.known_hosts),
                                  client_keys=[str(sim.identity_file)], agent_path=None, config=None,
                                  client_factory=Client)
    async with conn:
        assert (await conn.run("hostname")).stdout == "node-1\n"
    assert banners and "SIMULATED" in banners[0]
    assert sim.node("node-1").connections == 1


async def test_wrong_host_key_is_refused(sim: SimCluster, tmp_path: Path) -> None:
    other = sim.node("node-2")
    target = sim.node("node-1")
    # node-1's address listed with node-2's key: a strict client must refuse.
    (tmp_path / "bad_known_hosts").write_text(f"[{target.address}]:{target.port} {other.host_key}\n")
    with pytest.raises(asyncssh.HostKeyNotVerifiable):
        await asyncssh.connect(target.address, target.port, username="root", agent_path=None, config=None,
                               known_hosts=str(tmp_path / "bad_known_hosts"),
                               client_keys=[str(sim.identity_file)])


async def test_unknown_client_key_is_refused(sim: SimCluster) -> None:
    stranger = asyncssh.generate_private_key("ssh-ed25519")
    node = sim.node("cp-1")
    with pytest.raises(asyncssh.PermissionDenied):
        await asyncssh.connect(node.address, node.port, username="root", known_hosts=str(sim.known_hosts),
                               client_keys=[stranger], agent_path=None, config=None)


async def test_check_run_then_skip(sim: SimCluster) -> None:
    async with await sim.connect("node-1") as conn:
        await upload(conn, "06-swap.sh", script("swap", "node-1"))
        assert (await play(conn, "06-swap.sh", "check")).exit_status == 1
        first = await play(conn, "06-swap.sh")
        assert first.exit_status == 0
        assert "::k8stui-status:: changed" in first.stdout and "swapoff -a" in first.stdout
        assert re.search(r"^::k8stui-progress:: 1/\d+ ", first.stdout, re.M)
        assert (await play(conn, "06-swap.sh", "check")).exit_status == 0
        again = await play(conn, "06-swap.sh")
        assert again.exit_status == 0 and again.stdout == "::k8stui-status:: skipped\n"
    assert sim.node("node-1").applied == {"swap"}
    assert sim.node("node-2").applied == set()


async def test_facts_publish_distinct_parseable_nodes(sim: SimCluster) -> None:
    facts = {}
    for name in ("cp-1", "node-1", "node-2"):
        async with await sim.connect(name) as conn:
            result = await step(conn, name, "facts")
        assert result.exit_status == 0 and "::k8stui-status::" not in result.stdout  # read-only step
        assert "SIMULATED" in result.stdout
        facts[name] = Facts.from_outputs(outputs(result.stdout))
    cp = facts["cp-1"]
    assert (cp.os.id, cp.os.version, cp.cgroup_version, cp.arch) == ("ubuntu", "22.04", 2, "x86_64")
    assert cp.cpus >= 2 and cp.memory_mb >= 2048 and cp.ips == ("127.0.0.1", "10.77.0.11")
    assert cp.nic_for("10.77.0.11").name == "eth0"
    for attr in ("hostname", "product_uuid", "macs"):
        assert len({getattr(f, attr) for f in facts.values()}) == 3, attr


async def init(sim: SimCluster) -> asyncssh.SSHCompletedProcess:
    async with await sim.connect("cp-1") as conn:
        return await step(conn, "cp-1", "init", 15)


def join_commands(stdout: str) -> list[str]:
    """kubeadm's join blocks: lines starting with `kubeadm join`, following `\\` continuations."""
    found, lines = [], stdout.splitlines()
    for i, line in enumerate(lines):
        if line.strip().startswith("kubeadm join"):
            parts, j = [line.strip()], i
            while parts[-1].endswith("\\"):
                parts[-1] = parts[-1][:-1].strip()
                j += 1
                parts.append(lines[j].strip())
            found.append(" ".join(parts))
    return found


def spki_hash(cert_pem: bytes) -> str:
    key = x509.load_pem_x509_certificate(cert_pem).public_key()
    der = key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return "sha256:" + hashlib.sha256(der).hexdigest()


async def test_init_prints_a_real_join_block_and_outputs(sim: SimCluster) -> None:
    result = await init(sim)
    assert result.exit_status == 0
    assert "[init] Using Kubernetes version: v1.34.6" in result.stdout
    (command,) = join_commands(result.stdout)  # one control plane: no control-plane block
    shape = r"kubeadm join 10\.77\.0\.11:6443 --token (\S+) --discovery-token-ca-cert-hash (\S+)"
    match = re.fullmatch(shape, command)
    assert match, command
    token, ca_hash = match.groups()
    assert re.fullmatch(r"[a-z0-9]{6}\.[a-z0-9]{16}", token)
    assert ca_hash == spki_hash(sim.ca_cert_pem) == sim.ca_hash
    published = outputs(result.stdout)
    assert published["token"] == token and published["ca_hash"] == ca_hash
    assert published["join_command"] == command
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", published["token_expires"])
    assert "certificate_key" not in published


async def test_multi_control_plane_join_block_has_certificate_key(tmp_path: Path) -> None:
    async with await SimCluster.start(tmp_path / "sim", workers=1, control_planes=3, step_seconds=0) as sim:
        assert sim.spec.kubernetes.control_plane_endpoint
        result = await init(sim)
    blocks = join_commands(result.stdout)
    assert len(blocks) == 2 and blocks[0].endswith("--control-plane --certificate-key "
                                                    + outputs(result.stdout)["certificate_key"])
    assert re.fullmatch(r"[0-9a-f]{64}", outputs(result.stdout)["certificate_key"])


async def test_join_validates_token_and_hash_from_its_script(sim: SimCluster) -> None:
    async with await sim.connect("node-1") as conn:
        early = await step(conn, "node-1", "join", 19, f"# token {sim.token} {sim.ca_hash}")
        assert early.exit_status == 1 and "connection refused" in early.stderr
        published = outputs((await init(sim)).stdout)
        wrong_token = await step(conn, "node-1", "join", 19, f"token: abcdef.0123456789abcdef {sim.ca_hash}")
        assert wrong_token.exit_status == 1
        assert 'could not find a JWS signature in the cluster-info ConfigMap for token ID "abcdef"' \
            in wrong_token.stderr
        wrong_hash = await step(conn, "node-1", "join", 19, f"{published['token']} sha256:{'0' * 64}")
        assert wrong_hash.exit_status == 1 and "are pinned" in wrong_hash.stderr
        good = await step(conn, "node-1", "join", 19, f"caCertHashes: [{published['ca_hash']}] "
                                                      f"token: {published['token']}")
        assert good.exit_status == 0 and "This node has joined the cluster:" in good.stdout
    assert sim.node("node-1").joined


async def test_fetch_kubeconfig_and_smoke_report_the_cluster(sim: SimCluster) -> None:
    await init(sim)
    async with await sim.connect("cp-1") as conn:
        kube = outputs((await step(conn, "cp-1", "fetch-kubeconfig", 21)).stdout)
        smoke = outputs((await step(conn, "cp-1", "smoke", 22)).stdout)
    config = base64.b64decode(kube["kubeconfig_b64"]).decode()
    ca_data = re.search(r"certificate-authority-data: (\S+)", config).group(1)
    assert base64.b64decode(ca_data) == sim.ca_cert_pem
    assert "server: https://10.77.0.11:6443" in config and "client-key-data:" in config
    assert smoke == {"smoke_result": "passed", "node_status": "cp-1=Ready,node-1=NotReady,node-2=NotReady"}


async def test_print_join_command_makes_a_token_joins_accept(sim: SimCluster) -> None:
    await init(sim)
    async with await sim.connect("cp-1") as conn:
        line = (await conn.run("kubeadm token create --print-join-command")).stdout
    assert line.startswith("kubeadm join 10.77.0.11:6443 --token ") and line.endswith(" \n")
    async with await sim.connect("node-2") as conn:
        assert (await step(conn, "node-2", "join", 19, line)).exit_status == 0


async def test_script_for_another_node_is_refused(sim: SimCluster) -> None:
    async with await sim.connect("node-1") as conn:
        result = await step(conn, "node-2", "swap")
    assert result.exit_status == 2 and "rendered for node node-2" in result.stderr


async def test_missing_script_and_unknown_commands_are_loud(sim: SimCluster) -> None:
    async with await sim.connect("node-1") as conn:
        missing = await play(conn, "09-nothing.sh")
        unknown = await conn.run("make me a sandwich")
        shell = await conn.run("echo $HOME && uname -r && frobnicate")
    assert missing.exit_status == 127 and "No such file or directory" in missing.stderr
    assert unknown.exit_status == 127 and "k8stui-sim: unsupported command" in unknown.stderr
    assert shell.stdout == "/root\n5.15.0-122-generic\n" and shell.exit_status == 127


async def test_diagnostics_answer_with_node_state(sim: SimCluster) -> None:
    async with await sim.connect("node-1") as conn:
        empty = await conn.run("journalctl -u kubelet -n 200 --no-pager")
        await step(conn, "node-1", "kube-packages", 10)
        journal = await conn.run("journalctl -u kubelet -n 200 --no-pager")
        status = await conn.run("systemctl status containerd --no-pager")
        crictl = await conn.run("crictl ps -a")
        release = await conn.run("cat /etc/os-release")
    assert empty.stdout == "-- No entries --\n"
    assert journal.exit_status == 0 and "node-1 kubelet" in journal.stdout
    assert "config.yaml: no such file" in journal.stdout  # installed, not joined: crash-looping
    assert status.exit_status == 4 and "could not be found" in status.stderr  # containerd not installed yet
    assert crictl.stdout.startswith("CONTAINER")
    assert "VERSION_ID=\"22.04\"" in release.stdout


async def test_fault_fail_once_then_succeed(sim: SimCluster) -> None:
    from k8stui.sim import Fault

    sim.inject("node-1", "containerd", Fault("fail"))
    async with await sim.connect("node-1") as conn:
        failed = await step(conn, "node-1", "containerd", 11)
        assert failed.exit_status == 1
        assert "E: Failed to fetch containerd.io" in failed.stderr
        assert "::k8stui-status::" not in failed.stdout
        assert "containerd" not in sim.node("node-1").applied
        again = await play(conn, "11-containerd.sh")
    assert again.exit_status == 0 and "::k8stui-status:: changed" in again.stdout


async def test_wildcard_fault_and_clear(sim: SimCluster) -> None:
    from k8stui.sim import Fault

    sim.inject("*", "kernel", Fault("fail", times=5))
    async with await sim.connect("node-2") as conn:
        assert (await step(conn, "node-2", "kernel", 7)).exit_status == 1
        sim.clear_faults()
        assert (await play(conn, "07-kernel.sh")).exit_status == 0
    with pytest.raises(KeyError):
        sim.inject("nope", "kernel", Fault("fail"))


async def test_hang_is_killed_by_pidfile_command(sim: SimCluster) -> None:
    from k8stui.sim import Fault

    sim.inject("node-1", "kube-packages", Fault("hang"))
    async with await sim.connect("node-1") as conn:
        await upload(conn, "10-kube-packages.sh", script("kube-packages", "node-1"))
        proc = await conn.create_process(f"echo $$ > /var/lib/k8stui/run/10-kube-packages.pid; "
                                         f"exec timeout 600 bash {STEPS}/10-kube-packages.sh run")
        first = await asyncio.wait_for(proc.stdout.readline(), 10)  # it printed before hanging
        assert first.startswith("::k8stui-progress::")
        killed = await conn.run("kill -TERM -- -$(cat /var/lib/k8stui/run/10-kube-packages.pid)")
        assert killed.exit_status == 0
        await asyncio.wait_for(proc.wait(), 10)
        assert proc.returncode == 143
        assert "kube-packages" not in sim.node("node-1").applied and not sim.node("node-1").running


async def test_hang_honours_the_timeout_wrapper(sim: SimCluster) -> None:
    from k8stui.sim import Fault

    sim.inject("node-2", "images", Fault("hang"))
    async with await sim.connect("node-2") as conn:
        await upload(conn, "13-images.sh", script("images", "node-2"))
        result = await asyncio.wait_for(conn.run(f"timeout -k 5 0.2 bash {STEPS}/13-images.sh run"), 10)
    assert result.exit_status == 124


async def test_closing_the_channel_stops_a_hanging_step(sim: SimCluster) -> None:
    from k8stui.sim import Fault

    sim.inject("node-2", "swap", Fault("hang"))
    node = sim.node("node-2")
    async with await sim.connect("node-2") as conn:
        await upload(conn, "06-swap.sh", script("swap", "node-2"))
        proc = await conn.create_process(f"bash {STEPS}/06-swap.sh run")
        await asyncio.wait_for(proc.stdout.readline(), 10)
        assert node.running
        proc.close()
        for _ in range(1000):
            if not node.running:
                break
            await asyncio.sleep(0.01)
    assert not node.running


async def test_pacing_and_lines_per_second(tmp_path: Path) -> None:
    start = SimCluster.start(tmp_path / "sim", workers=0, step_seconds=0.4, speed=2, lines_per_second=100)
    async with await start as sim, await sim.connect("cp-1") as conn:
        loop = asyncio.get_running_loop()
        began = loop.time()
        result = await step(conn, "cp-1", "kube-packages", 10)
        took = loop.time() - began
    lines = [x for x in result.stdout.splitlines() if not x.startswith("::")]
    assert 0.18 <= took < 5.0  # 0.4 s at speed 2 (generous: shared CI machines)
    assert len(lines) >= 20  # 0.2 s at 100 lines/s, more than the canned lines


async def test_fifty_nodes_concurrently(tmp_path: Path) -> None:
    async with await SimCluster.start(tmp_path / "sim", workers=49, step_seconds=0) as sim:
        assert len(sim.nodes) == 50 and sim.nodes[-1].address == "127.0.0.60"

        async def facts(name: str) -> Facts:
            async with await sim.connect(name) as conn:
                return Facts.from_outputs(outputs((await step(conn, name, "facts")).stdout))

        found = await asyncio.wait_for(asyncio.gather(*(facts(n.name) for n in sim.nodes)), 60)
    assert len({f.product_uuid for f in found}) == 50
    assert len({f.macs for f in found}) == 50
    assert {f.hostname for f in found} == {n.name for n in sim.nodes}


async def test_publish_mode_before_and_after_init(sim: SimCluster) -> None:
    async with await sim.connect("cp-1") as conn:
        await upload(conn, "21-fetch-kubeconfig.sh", script("fetch-kubeconfig", "cp-1"))
        await upload(conn, "16-kubeconfig.sh", script("kubeconfig", "cp-1"))
        before = await play(conn, "21-fetch-kubeconfig.sh", "publish")
        quiet = await play(conn, "16-kubeconfig.sh", "publish")
        await init(sim)
        after = await play(conn, "21-fetch-kubeconfig.sh", "publish")
    assert before.exit_status == 1 and "admin.conf: No such file" in before.stderr
    assert quiet.exit_status == 0 and quiet.stdout == ""
    assert after.exit_status == 0 and set(outputs(after.stdout)) == {"kubeconfig_b64"}


def test_addresses_move_to_the_next_block_past_200_nodes() -> None:
    from k8stui.sim import node_address

    assert node_address(0) == ("127.0.0.11", "10.77.0.11")
    assert node_address(199) == ("127.0.0.210", "10.77.0.210")
    assert node_address(200) == ("127.0.1.11", "10.77.1.11")


async def test_two_hundred_and_one_nodes_start_and_answer(tmp_path: Path) -> None:
    async with await SimCluster.start(tmp_path / "sim", workers=200, step_seconds=0) as sim:
        last = sim.nodes[-1]
        assert (last.name, last.address) == ("node-200", "127.0.1.11")
        assert len(set(sim.known_hosts.read_text().split("\n")[:-1])) == 201
        async with await sim.connect(last.name) as conn:
            assert (await conn.run("hostname", check=True)).stdout == "node-200\n"


async def test_port_check_steps_answer_from_their_scripts(sim: SimCluster) -> None:
    listen = "CHECKS=(tcp/6443 'udp/8472' tcp/10250)"
    probe = ("PROBES=(\n  'node-1|10.77.0.12|tcp|10250|1795790000'\n"
             "  'node-2|10.77.0.13|udp|8472|1795790000'\n)")
    async with await sim.connect("cp-1") as conn:
        listened = outputs((await step(conn, "cp-1", "ports-listen", 5, listen)).stdout)["ports_listen"]
        probed = outputs((await step(conn, "cp-1", "ports-probe", 6, probe)).stdout)
        closed = outputs((await step(conn, "cp-1", "ports-close", 7)).stdout)
    assert re.fullmatch(r"until=\d+ tool=python3 tcp/6443=listening udp/8472=listening tcp/10250=listening",
                        listened)
    assert probed == {"ports_probe": "node-1:tcp/10250=open node-2:udp/8472=open"}
    assert closed == {"ports_alive": "-"}
