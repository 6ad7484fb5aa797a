"""The system models: systemctl, kernel modules and sysctl, swap, SELinux, firewalls, time, reboot."""

from __future__ import annotations

from pathlib import Path

import pytest

from .lab import Lab, missing_requirements

pytestmark = pytest.mark.skipif(missing_requirements() is not None, reason=str(missing_requirements()))
DISTROS = ("ubuntu-22.04", "centos-7", "rocky-9")
UBUNTU, CENTOS, ROCKY = DISTROS


def run(lab_factory, distro: str, *script: str) -> tuple[int, str]:
    """Run the script (its parts joined by `; `) as root on the module lab's node of that distro."""
    env: Lab = lab_factory(*DISTROS)
    out = env.run(env.nodes[DISTROS.index(distro)], "; ".join(script))
    return out.returncode, out.stdout + out.stderr


def text(lab_factory, distro: str, *script: str) -> str:
    return run(lab_factory, distro, *script)[1]


def test_systemctl_knows_only_installed_units(lab) -> None:
    code, out = run(lab, UBUNTU, "systemctl start kubelet")
    assert code == 5 and "Unit kubelet.service not found." in out
    code, out = run(lab, UBUNTU, "systemctl is-enabled kubelet")
    assert code == 1 and "No such file or directory" in out
    out = text(lab, UBUNTU, "systemctl status nope", "echo rc=$?", "systemctl is-active ssh sshd cron")
    assert "rc=4\nactive\nactive\nactive\n" in out
    code, out = run(lab, CENTOS, "systemctl is-active --quiet firewalld && systemctl is-enabled chronyd")
    assert code == 0 and out.strip() == "enabled"


def test_systemctl_enable_now_mask_and_show(lab) -> None:
    out = text(lab, ROCKY, "printf '[Service]\\nExecStart=/bin/true\\n' > /etc/systemd/system/demo.service",
               "systemctl daemon-reload", "systemctl enable --now demo", "systemctl is-enabled demo",
               "systemctl is-active demo", "systemctl show -p ActiveState,UnitFileState demo",
               "systemctl mask --now demo", "systemctl start demo", "echo rc=$?")
    assert "enabled\nactive\nActiveState=active\nUnitFileState=enabled" in out
    assert "Created symlink /etc/systemd/system/demo.service → /dev/null." in out
    assert "Unit demo.service is masked." in out and "rc=1" in out


def test_journalctl_shows_a_units_log(lab) -> None:
    out = text(lab, UBUNTU, "journalctl -xeu ssh --no-pager", "journalctl -u nope -n 5")
    assert "systemd[1]: Started ssh.service." in out and "-- No entries --" in out


def test_swap_units_follow_proc_swaps(lab) -> None:
    out = text(lab, UBUNTU, "systemctl list-units --type=swap --no-legend", "swapon --show --noheadings")
    assert "swap.img.swap loaded active" in out and "/swap.img file" in out


def test_bridge_sysctls_appear_only_with_br_netfilter(lab) -> None:
    code, out = run(lab, ROCKY, "sysctl net.bridge.bridge-nf-call-iptables")
    assert code == 255 and "cannot stat /proc/sys/net/bridge/bridge-nf-call-iptables" in out
    code, out = run(lab, ROCKY, "modprobe nosuchmod")
    assert code == 1 and "Module nosuchmod not found in directory /lib/modules/" in out
    code, out = run(lab, ROCKY, "modprobe overlay && modprobe br_netfilter && lsmod && "
                                "cat /proc/sys/net/bridge/bridge-nf-call-iptables")
    assert code == 0 and "br_netfilter" in out and "overlay" in out and out.strip().endswith("1")
    code, out = run(lab, ROCKY, "sysctl -w net.bridge.bridge-nf-call-iptables=2")
    assert code == 255 and "Invalid argument" in out


def test_sysctl_system_applies_conf_files_in_the_nodes_netns(lab) -> None:
    host = Path("/proc/sys/net/ipv4/ip_forward").read_text()
    conf = ("printf 'net.ipv4.ip_forward = 1\\nnet.bridge.bridge-nf-call-ip6tables = 1\\n' "
            "> /etc/sysctl.d/k8s.conf")
    apply = (conf, "sysctl --system", "echo rc=$?", "sysctl -n net.ipv4.ip_forward")
    assert "rc=255" in text(lab, CENTOS, "modprobe -r br_netfilter", *apply)  # net.bridge.* needs the module
    out = text(lab, CENTOS, "modprobe br_netfilter", *apply)
    assert "* Applying /etc/sysctl.d/k8s.conf ..." in out and "rc=0" in out and out.strip().endswith("1")
    assert Path("/proc/sys/net/ipv4/ip_forward").read_text() == host


def test_conntrack_module_names_depend_on_the_kernel(lab) -> None:
    assert run(lab, CENTOS, "modprobe nf_conntrack_ipv4")[0] == 0
    code, out = run(lab, UBUNTU, "modprobe nf_conntrack_ipv4 2>/dev/null || modprobe nf_conntrack && lsmod")
    assert code == 0 and "nf_conntrack " in out and "nf_conntrack_ipv4" not in out


def test_swapoff_and_fstab(lab) -> None:
    size, active = "free -k | awk '/Swap/ {print $2}'", "tail -n +2 /proc/swaps | wc -l"
    assert text(lab, UBUNTU, size, "swapoff -a", active, size).split() == ["2097148", "0", "0"]
    assert text(lab, UBUNTU, "swapon -a", active).strip() == "1"  # the fstab line brings it back


def test_swap_by_another_name_in_fstab(lab) -> None:
    # EL's fstab names /dev/mapper/cl-swap, /proc/swaps shows /dev/dm-1: swapon -a must find it.
    out = text(lab, ROCKY, "grep swap /etc/fstab", "swapoff -a", "swapon -a", "echo rc=$?", "cat /proc/swaps")
    assert "/dev/mapper/cl-swap" in out and "rc=0" in out and "/dev/dm-1" in out


def test_reboot_keeps_only_what_the_files_say(lab) -> None:
    counts = ("tail -n +2 /proc/swaps | wc -l", "sysctl -n net.ipv4.ip_forward",
              "lsmod | grep -c '^br_netfilter '")
    runtime_only = ("swapoff -a", "modprobe br_netfilter", "sysctl -w net.ipv4.ip_forward=1",
                    "rm -f /etc/sysctl.d/* /etc/modules-load.d/*", "k8slab reboot")
    assert text(lab, UBUNTU, *runtime_only, *counts).split()[-3:] == ["1", "0", "0"]
    persisted = ("swapoff -a", "sed -i '/\\sswap\\s/s/^/#/' /etc/fstab",
                 "echo br_netfilter > /etc/modules-load.d/k8s.conf",
                 "echo 'net.ipv4.ip_forward = 1' > /etc/sysctl.d/k8s.conf", "k8slab reboot")
    assert text(lab, UBUNTU, *persisted, *counts).split() == ["0", "1", "1"]


def test_selinux(lab) -> None:
    out = text(lab, ROCKY, "getenforce", "setenforce 0", "getenforce", "k8slab reboot", "getenforce",
               "sed -i 's/^SELINUX=.*/SELINUX=permissive/' /etc/selinux/config", "k8slab reboot",
               "getenforce")
    assert out.split() == ["Enforcing", "Permissive", "Enforcing", "Permissive"]
    assert run(lab, UBUNTU, "getenforce")[0] == 127


def test_firewalld(lab) -> None:
    out = text(lab, CENTOS, "firewall-cmd --state", "firewall-cmd --permanent --add-port=6443/tcp",
               "firewall-cmd --list-ports", "echo --", "firewall-cmd --reload", "firewall-cmd --list-ports",
               "firewall-cmd --add-port=6443", "echo rc=$?")
    assert out.startswith("running\nsuccess\n\n--\nsuccess\n6443/tcp")  # permanent rules wait for --reload
    assert "INVALID_PORT" in out and "rc=103" in out
    out = text(lab, CENTOS, "systemctl disable --now firewalld", "firewall-cmd --state", "echo rc=$?")
    assert "not running" in out and "rc=252" in out


def test_ufw(lab) -> None:
    out = text(lab, UBUNTU, "ufw status", "ufw enable", "echo rc=$?", "ufw --force enable",
               "ufw allow 6443/tcp", "ufw status", "ufw disable")
    assert out.startswith("Status: inactive") and "Aborted" in out and "rc=1" in out
    assert "Status: active" in out and "6443/tcp" in out and "Firewall stopped and disabled" in out


def test_chrony_needs_the_package_and_a_reachable_server(lab) -> None:
    assert run(lab, UBUNTU, "chronyc sources")[0] == 127
    out = text(lab, UBUNTU, "apt-get install -y chrony && systemctl is-active chrony systemd-timesyncd",
               "chronyc tracking")
    assert "active\ninactive" in out and "Leap status     : Normal" in out
    out = text(lab, UBUNTU, "echo 'server ntp.invalid iburst' > /etc/chrony/chrony.conf", "chronyc sources",
               "chronyc tracking")
    assert "^? ntp.invalid" in out and "Not synchronised" in out


def test_hostnamectl_sets_the_hostname(lab) -> None:
    out = text(lab, ROCKY, "hostnamectl set-hostname cp-1 && hostname && cat /etc/hostname",
               "hostnamectl set-hostname 'bad;name'", "echo rc=$?", "hostname lab3")
    assert out.startswith("cp-1\ncp-1\n") and "rc=1" in out
