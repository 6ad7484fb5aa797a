"""The lab itself: clean up/down, SSH as root/ops/ops2, node-to-node TCP, isolation from the host."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from . import netns
from .cleanup import clean_stale
from .lab import OPS2_PASSWORD, Lab, missing_requirements

pytestmark = pytest.mark.skipif(missing_requirements() is not None, reason=str(missing_requirements()))
REPO = Path(__file__).resolve().parents[2]


def _traces(slot: int, directory: Path) -> dict[str, object]:
    mounts = Path("/proc/self/mountinfo").read_text()
    procs = [p for p in Path("/proc").iterdir() if p.name.isdigit()
             and str(directory) in _cmdline(p)]
    return {"netns": netns.lab_netns(slot), "links": netns.lab_links(slot), "dir": directory.exists(),
            "mounts": f" {directory} " in mounts or f" {directory}/" in mounts, "procs": procs}


def _cmdline(p: Path) -> str:
    try:
        return (p / "cmdline").read_bytes().decode(errors="replace")
    except OSError:
        return ""


NO_TRACE = {"netns": [], "links": [], "dir": False, "mounts": False, "procs": []}


def test_up_down_leaves_no_trace() -> None:
    lab = Lab(["debian-12", "rocky-9"]).up()
    slot, directory, pids = lab.slot, lab.directory, [n.init_pid() for n in lab.nodes]
    assert len(netns.lab_netns(slot)) == 3  # two nodes and the bridge
    lab.down()
    assert _traces(slot, directory) == NO_TRACE
    assert not any(Path(f"/proc/{pid}").exists() for pid in pids)


def test_a_crashed_owner_leaves_nothing_running_and_is_cleaned_next_time() -> None:
    code = ("import os; from tests.lab.lab import Lab; lab = Lab(['ubuntu-24.04']).up(); "
            "print(lab.slot, lab.directory, flush=True); os._exit(3)")
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=60)
    assert out.returncode == 3, out.stderr
    slot, directory = int(out.stdout.split()[0]), Path(out.stdout.split()[1])
    deadline = time.monotonic() + 10
    while _traces(slot, directory)["procs"] and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _traces(slot, directory)["procs"] == []  # the nodes died with their owner
    assert netns.lab_netns(slot)  # ... but the network is left behind, as after a crash
    assert slot in clean_stale()
    assert _traces(slot, directory) == NO_TRACE


def test_ssh_as_root_ops_and_ops2(lab) -> None:
    env = lab("ubuntu-22.04", "centos-7")
    for node in env.nodes:
        assert env.ssh(node, "id -un").stdout.strip() == "root"
        assert env.ssh(node, "sudo -n id -u", user="ops").stdout.strip() == "0"
        no_pw = env.ssh(node, "sudo -n true", user="ops2")
        assert no_pw.returncode == 1 and "a password is required" in no_pw.stderr
        ok = env.ssh(node, "sudo -S -p '' id -u", user="ops2", input=OPS2_PASSWORD + "\n")
        assert ok.stdout.strip() == "0", ok.stderr
    # PAM delays a failed password by ~2 s: check it once.
    bad = env.ssh(env.nodes[0], "sudo -S -p '' id -u", user="ops2", input="wrong\n")
    assert bad.returncode == 1 and "incorrect password" in bad.stderr


def test_ssh_refuses_a_wrong_host_key(lab, tmp_path: Path) -> None:
    env = lab("ubuntu-22.04", "centos-7")
    first, second = env.nodes
    swapped = tmp_path / "known_hosts"
    swapped.write_text(f"{first.ip} {second.host_key}\n")
    argv = [a.replace(str(env.known_hosts), str(swapped)) for a in env.ssh_argv(first)]
    out = subprocess.run([*argv, "true"], capture_output=True, text=True, timeout=30)
    assert out.returncode == 255 and "REMOTE HOST IDENTIFICATION HAS CHANGED" in out.stderr


async def test_spec_connects_with_asyncssh_strict_host_keys(lab) -> None:
    asyncssh = pytest.importorskip("asyncssh")
    env = lab("ubuntu-22.04", "centos-7")
    assert env.spec(user="ops2").ssh.sudo_password_env == "K8SLAB_OPS2_SUDO_PASSWORD"
    spec = env.spec(user="ops")
    assert [n.address for n in spec.nodes] == [n.ip for n in env.nodes]
    assert spec.nodes[0].role == "control-plane" and spec.nodes[1].role == "worker"
    assert spec.ssh.host_key_policy == "strict"
    for node in spec.nodes:
        ssh = spec.ssh_for(node)
        options = {"port": ssh.port, "username": ssh.user, "known_hosts": ssh.known_hosts,
                   "client_keys": [ssh.identity_file]}
        async with asyncssh.connect(node.address, **options) as conn:
            result = await conn.run("hostname", check=True, timeout=10)
            assert result.stdout.strip() == node.name


def test_nodes_reach_each_other_over_tcp(lab) -> None:
    env = lab("ubuntu-22.04", "centos-7")
    server, client = env.nodes
    listener = ("timeout 15 python3 -c \"import socket; s = socket.create_server(('0.0.0.0', 7777)); "
                "c, _ = s.accept(); c.sendall(open('/etc/hostname', 'rb').read())\"")
    proc = subprocess.Popen([*env.ssh_argv(server), listener], stdout=subprocess.DEVNULL)
    try:
        connect = ("for i in $(seq 1 50); do python3 -c \"import socket; "
                   f"print(socket.create_connection(('{server.ip}', 7777), 1).recv(100).decode())\" "
                   "2>/dev/null && exit 0; sleep 0.1; done; exit 1")
        out = env.ssh(client, connect)
        assert out.returncode == 0 and out.stdout.strip() == server.hostname
    finally:
        proc.wait(timeout=20)


def test_nodes_have_their_own_identity(lab) -> None:
    env = lab("ubuntu-22.04", "centos-7")
    ubuntu, centos = env.nodes
    assert env.run(ubuntu, ". /etc/os-release; echo $ID-$VERSION_ID").stdout.strip() == "ubuntu-22.04"
    assert env.run(centos, ". /etc/os-release; echo $ID-$VERSION_ID").stdout.strip() == "centos-7"
    assert env.run(ubuntu, "hostname").stdout.strip() == "lab1"
    assert env.run(ubuntu, "test -f /sys/fs/cgroup/cgroup.controllers").returncode == 0  # cgroup v2
    assert env.run(centos, "test -f /sys/fs/cgroup/cgroup.controllers").returncode == 1  # cgroup v1
    assert env.run(centos, "test -d /sys/fs/cgroup/memory").returncode == 0
    uuids = {env.run(n, "cat /sys/class/dmi/id/product_uuid").stdout.strip() for n in env.nodes}
    assert len(uuids) == 2 and all(len(u) == 36 for u in uuids)
    assert env.run(ubuntu, "ls /sys/class/net").stdout.split() == ["eth0", "lo"]
    host_processes = len(list(Path("/proc").glob("[0-9]*")))
    assert int(env.run(ubuntu, "ps -e -o pid= | wc -l").stdout) < host_processes  # its own PID namespace
    assert env.run(ubuntu, "ps -p 1 -o comm=").stdout.strip() == "sshd"


def test_duplicate_product_uuid_on_demand(lab) -> None:
    env = lab("debian-12", "debian-12", duplicate_uuid=True)
    uuids = {env.run(n, "cat /sys/class/dmi/id/product_uuid").stdout.strip() for n in env.nodes}
    assert len(uuids) == 1


def test_nothing_a_node_does_touches_the_host(lab) -> None:
    env = lab("ubuntu-22.04", "centos-7")
    node = env.nodes[0]
    probes = [f"{d}/k8slab-probe" for d in ("/etc", "/root", "/usr/local/bin", "/usr/bin", "/opt", "/var/lib",
                                            "/home")]
    host_forward = Path("/proc/sys/net/ipv4/ip_forward").read_text()
    host_pid_max = Path("/proc/sys/kernel/pid_max").read_text()
    script = "; ".join(f"echo x > {p}" for p in probes)
    assert env.run(node, f"set -e; {script}; useradd k8slab-probe; hostname k8slab-probe").returncode == 0
    forward = env.run(node, "sysctl -w net.ipv4.ip_forward=1 kernel.pid_max=4000; "
                            "cat /proc/sys/net/ipv4/ip_forward")
    assert forward.stdout.strip().endswith("1")
    assert env.run(node, "sysctl -n kernel.pid_max").stdout.strip() == "4000"
    for path in probes:
        assert not os.path.exists(path)
    assert "k8slab-probe" not in Path("/etc/passwd").read_text()
    assert os.uname().nodename != "k8slab-probe"
    assert Path("/proc/sys/net/ipv4/ip_forward").read_text() == host_forward
    assert Path("/proc/sys/kernel/pid_max").read_text() == host_pid_max
    refused = env.run(node, f"echo 1 > /proc/sys/kernel/pid_max; touch {REPO}/k8slab-probe; "
                            "ls -A /run/systemd /run/dbus 2>&1")
    assert "pid_max: Read-only file system" in refused.stderr
    # The checkout is read-only inside a node, or not there at all when it lives under /tmp
    # (a node's /tmp is a fresh tmpfs): either way the touch must fail.
    touch_error = next(line for line in refused.stderr.splitlines() if "k8slab-probe" in line)
    assert "Read-only file system" in touch_error or "No such file or directory" in touch_error
    assert not (REPO / "k8slab-probe").exists()
    assert "No such file or directory" in refused.stdout
    env.run(node, "hostname lab1")


def test_host_tools_are_hidden_or_modeled(lab) -> None:
    env = lab("ubuntu-22.04", "centos-7")
    ubuntu, centos = env.nodes
    assert env.run(centos, "command -v apt-get dpkg; test -e /etc/apt").returncode == 1
    assert env.run(ubuntu, "command -v yum rpm getenforce firewall-cmd").returncode == 1
    assert env.run(ubuntu, "command -v kubeadm kubelet containerd").returncode == 1
    heads = env.run(ubuntu, "head -c 2 /usr/bin/apt-get /usr/bin/systemctl /usr/sbin/sysctl").stdout
    assert heads.count("#!") == 3  # wrappers of the models, not the host's binaries


def test_a_node_cannot_reach_host_devices_or_kernel_knobs(lab) -> None:
    env = lab("ubuntu-22.04", "centos-7")
    node = env.nodes[1]
    out = env.run(node, "ls /dev; echo b > /proc/sysrq-trigger; echo rc=$?")
    assert "null" in out.stdout and "vda" not in out.stdout and "sda" not in out.stdout
    # Read-only in the node; this kernel may have no sysrq support at all.
    assert "rc=1" in out.stdout and ("Read-only file system" in out.stderr or "No such file" in out.stderr)
    tty = subprocess.run([*env.ssh_argv(node, "ops2"), "-tt", "tty; echo k8slab-ops2 | sudo -S -p '' id -u"],
                         capture_output=True, text=True, timeout=30)
    assert tty.returncode == 0 and tty.stdout.split() == ["/dev/pts/0", "0"]  # PTYs (and sudo use_pty)
