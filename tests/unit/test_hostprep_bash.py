"""Host-preparation steps' shell logic, run for real against temp files.

Each test sources a rendered script without its `main` call, points its file paths at a temp
directory, replaces every command that changes the machine with a recording stub, and runs as the
`nobody` user, so a mistake can at worst fail the test, never touch this machine.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from hostprep_helpers import make_spec, script

from k8stui.model.facts import OsInfo
from k8stui.recipes.render import render

SETPRIV = shutil.which("setpriv")
NOBODY = 65534
STUBBED = ("hostnamectl", "hostname", "setenforce", "swapoff", "systemctl", "modprobe", "sysctl", "ufw",
           "firewall-cmd", "apt-get", "yum", "dnf")
# Every command that would change the machine records its arguments instead (STUB_RC_<cmd> = exit code).
STUBS = "".join(f'{c}() {{ echo "{c} $*" >> "$STUB_LOG"; return "${{STUB_RC_{c.replace("-", "_")}:-0}}"; }}\n'
                for c in STUBBED)


@pytest.fixture
def sandbox() -> Iterator[Path]:
    """A world-traversable temp dir (pytest's own lives under a 0700 root-only directory)."""
    path = Path(tempfile.mkdtemp(prefix="k8stui-hostprep-"))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def _as_nobody(tmp_path: Path) -> list[str]:
    if os.geteuid() != 0:
        return []
    if not SETPRIV:
        pytest.skip("running as root without setpriv: cannot drop privileges for real-bash tests")
    for path in [tmp_path, *tmp_path.rglob("*")]:
        os.chown(path, NOBODY, NOBODY)
    return [SETPRIV, f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups"]


def bash(tmp_path: Path, text: str, body: str, stubs: bool = True) -> subprocess.CompletedProcess[str]:
    """Source `text` (a rendered script, or the _lib) minus its main call, add stubs, run `body`."""
    head, main_call, _ = text.rpartition('main "$@"')
    harness = tmp_path / "harness.sh"
    harness.write_text((head if main_call else text) + (STUBS if stubs else "") + body + "\n")
    prefix = _as_nobody(tmp_path)
    env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "STUB_LOG": str(tmp_path / "stub.log")}
    return subprocess.run([*prefix, "bash", str(harness)], capture_output=True, text=True, timeout=60,
                          env=env, cwd=tmp_path, check=False)


def lib(os_name: str = "debian-12") -> str:
    return render("steps/_lib.sh.j2", os=OsInfo.parse(os_name))


def test_block_set_replaces_in_place_and_is_idempotent(sandbox: Path) -> None:
    hosts = sandbox / "hosts"
    hosts.write_text("127.0.0.1 localhost\n# BEGIN k8stui\n10.9.9.9 old\n# END k8stui\n::1 localhost a\\b\n")
    body = f"""
      printf '10.0.0.11 cp1\\n10.0.0.21 w1\\n' | block_set {hosts}
      printf '10.0.0.11 cp1\\n10.0.0.21 w1\\n' | block_set {hosts}
      printf '10.0.0.11 cp1\\n10.0.0.21 w1\\n' | block_has {hosts} && echo HAS
      printf '10.0.0.11 cp1\\n' | block_has {hosts} || echo DIFFERS
    """
    result = bash(sandbox, lib(), body)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["HAS", "DIFFERS"]
    assert hosts.read_text() == ("127.0.0.1 localhost\n# BEGIN k8stui\n10.0.0.11 cp1\n10.0.0.21 w1\n"
                                 "# END k8stui\n::1 localhost a\\b\n")


def test_block_set_appends_or_goes_before_an_anchor(sandbox: Path) -> None:
    (sandbox / "rules").write_text("*filter\n-A x\nCOMMIT\n")
    body = """
      echo '-A ufw-before-input -p 4 -j ACCEPT' | block_set rules k8stui '^COMMIT'
      echo 'server a iburst' | block_set new.conf
    """
    result = bash(sandbox, lib(), body)
    assert result.returncode == 0, result.stderr
    assert (sandbox / "rules").read_text() == (
        "*filter\n-A x\n# BEGIN k8stui\n-A ufw-before-input -p 4 -j ACCEPT\n# END k8stui\nCOMMIT\n")
    assert (sandbox / "new.conf").read_text() == "# BEGIN k8stui\nserver a iburst\n# END k8stui\n"


def test_block_set_refuses_a_block_without_its_end(sandbox: Path) -> None:
    (sandbox / "hosts").write_text("# BEGIN k8stui\n1.2.3.4 x\nkeep me\n")
    result = bash(sandbox, lib(), "echo '1.1.1.1 y' | block_set hosts")
    assert result.returncode == 1 and "repair it by hand" in result.stderr
    assert (sandbox / "hosts").read_text() == "# BEGIN k8stui\n1.2.3.4 x\nkeep me\n"


def test_file_write_and_file_is(sandbox: Path) -> None:
    body = """
      printf 'overlay\\nbr_netfilter\\n' | file_is sub/k8s.conf || echo MISSING
      printf 'overlay\\nbr_netfilter\\n' | file_write sub/k8s.conf 0644
      printf 'overlay\\nbr_netfilter\\n' | file_is sub/k8s.conf && echo SAME
      printf 'overlay\\n' | file_is sub/k8s.conf || echo DIFFERENT
      stat -c %a sub/k8s.conf
    """
    result = bash(sandbox, lib(), body)
    assert result.stdout.split() == ["MISSING", "SAME", "DIFFERENT", "644"], result.stderr


FSTAB = """UUID=abc / ext4 defaults 0 1
/dev/sda2 none swap sw 0 0
  /swapfile   none  swap  sw,pri=5 0 0
# /dev/sdb1 none swap sw 0 0
tmpfs /tmp tmpfs defaults 0 0
"""


def test_swap_step_against_temp_files(sandbox: Path) -> None:
    (sandbox / "fstab").write_text(FSTAB)
    (sandbox / "swaps").write_text("Filename\tType\tSize\tUsed\tPriority\n")
    body = """
      FSTAB=fstab PROC_SWAPS=swaps
      check && echo DONE-BEFORE || echo TODO
      apply
      check && echo DONE-AFTER
      apply
    """
    result = bash(sandbox, script("swap", "centos-7"), body)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[0] == "TODO" and "DONE-AFTER" in result.stdout
    assert (sandbox / "fstab").read_text() == FSTAB.replace(
        "/dev/sda2", "#k8stui-swap-off# /dev/sda2").replace("  /swapfile", "#k8stui-swap-off#   /swapfile")


def test_swap_check_sees_active_swap(sandbox: Path) -> None:
    (sandbox / "fstab").write_text("")
    (sandbox / "swaps").write_text("Filename\tType\tSize\tUsed\tPriority\n/dev/sda2 partition 1048572 0 -2\n")
    result = bash(sandbox, script("swap", "debian-12"), "FSTAB=fstab PROC_SWAPS=swaps; check || echo TODO")
    assert result.stdout.strip() == "TODO", result.stderr


def test_swap_units_are_masked(sandbox: Path) -> None:
    (sandbox / "fstab").write_text("")
    (sandbox / "swaps").write_text("Filename\n")
    body = r"""
      FSTAB=fstab PROC_SWAPS=swaps
      have() { true; }
      systemctl() {
        echo "systemctl $*" >> "$STUB_LOG"
        case "$1 $2" in
          list-units*) printf '%s\n' '● dev-zram0.swap loaded failed failed /dev/zram0' \
            'swapfile.swap masked inactive dead swapfile.swap' ;;
          "is-enabled swapfile.swap") echo masked ;;
          is-enabled*) echo generated ;;
        esac
        return 0
      }
      check || apply
    """
    result = bash(sandbox, script("swap", "ubuntu-24.04"), body)
    log = (sandbox / "stub.log").read_text()
    assert "systemctl mask dev-zram0.swap" in log and "mask swapfile.swap" not in log, result.stderr
    assert "systemctl daemon-reload" in log


def test_hostname_step_against_temp_files(sandbox: Path) -> None:
    (sandbox / "hosts").write_text("127.0.0.1 localhost\n10.9.9.9 k8s-api.internal\n")
    (sandbox / "hostname").write_text("old\n")
    body = """
      HOSTS_FILE=hosts HOSTNAME_FILE=hostname
      current_hostname() { cat hostname; }
      STUB_RC_hostnamectl=1
      check || echo TODO
      apply
      check && echo DONE
    """
    result = bash(sandbox, script("hostname", "rocky-9", "cp2"), body)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[0] == "TODO" and result.stdout.splitlines()[-1] == "DONE"
    assert (sandbox / "hostname").read_text() == "cp2\n"
    assert (sandbox / "hosts").read_text() == (
        "127.0.0.1 localhost\n10.9.9.9 k8s-api.internal\n# BEGIN k8stui\n10.0.0.11 cp1\n10.0.0.12 cp2\n"
        "10.0.0.21 w1\n10.0.0.12 k8s-api.internal\n# END k8stui\n")
    assert "outside the k8stui block" in result.stderr  # the stale SLB line would win over the block
    log = (sandbox / "stub.log").read_text()
    assert "hostnamectl set-hostname cp2" in log and "hostname cp2" in log


def test_selinux_step_against_temp_files(sandbox: Path) -> None:
    (sandbox / "config").write_text("# comment\nSELINUX=enforcing\nSELINUXTYPE=targeted\n")
    body = """
      SELINUX_CONFIG=config
      getenforce() { grep -q 'setenforce 0' "$STUB_LOG" 2>/dev/null && echo Permissive || echo Enforcing; }
      have() { true; }
      check || echo TODO
      apply
      check && echo DONE
    """
    result = bash(sandbox, script("selinux", "rocky-9"), body)
    assert result.stdout.split()[0] == "TODO" and "DONE" in result.stdout, result.stderr
    assert (sandbox / "config").read_text() == "# comment\nSELINUX=permissive\nSELINUXTYPE=targeted\n"


def test_selinux_disabled_is_kept(sandbox: Path) -> None:
    (sandbox / "config").write_text("SELINUX=disabled\n")
    body = "SELINUX_CONFIG=config; getenforce() { echo Disabled; }; have() { true; }; check && echo DONE"
    assert bash(sandbox, script("selinux", "centos-7"), body).stdout.strip() == "DONE"


def test_timesync_replaces_default_sources(sandbox: Path) -> None:
    default = "pool 2.debian.pool.ntp.org iburst\ndriftfile /var/lib/chrony/drift\n"
    (sandbox / "chrony.conf").write_text(default)
    spec = make_spec(prep={"timeServers": ["ntp.aliyun.com"]})
    body = """
      CHRONY_CONF=chrony.conf
      chrony_sources | block_has "$CHRONY_CONF" || echo TODO
      chrony_sources | block_set "$CHRONY_CONF"; disable_other_sources
      chrony_sources | block_has "$CHRONY_CONF" && [ -z "$(other_sources)" ] && echo DONE
    """
    result = bash(sandbox, script("timesync", "debian-12", spec=spec), body)
    assert result.stdout.split() == ["TODO", "DONE"], result.stderr
    assert (sandbox / "chrony.conf").read_text() == (
        "#k8stui-off# pool 2.debian.pool.ntp.org iburst\ndriftfile /var/lib/chrony/drift\n"
        "# BEGIN k8stui\nserver ntp.aliyun.com iburst\n# END k8stui\n")


def test_kernel_files_and_running_values(sandbox: Path) -> None:
    body = """
      MODULES_CONF=modules.conf SYSCTL_CONF=sysctl.conf
      module_loaded() { true; }
      sysctl_is() { true; }
      check || echo TODO
      apply
      check && echo DONE
    """
    result = bash(sandbox, script("kernel", "ubuntu-22.04"), body)
    assert result.stdout.split() == ["TODO", "DONE"], result.stderr
    assert (sandbox / "modules.conf").read_text() == "overlay\nbr_netfilter\n"
    assert "net.ipv4.ip_forward = 1\n" in (sandbox / "sysctl.conf").read_text()
    assert "sysctl --system" in (sandbox / "stub.log").read_text()


def test_firewall_open_ports_with_ufw(sandbox: Path) -> None:
    (sandbox / "before.rules").write_text("*filter\nCOMMIT\n")
    spec = make_spec(network={"cni": "calico"}, prep={"firewall": "open-ports"})
    body = """
      UFW_BEFORE_RULES=before.rules
      firewalld_running() { false; }
      ufw_enabled() { true; }
      ufw() {
        echo "ufw $*" >> "$STUB_LOG"
        [ "$1" = status ] && awk '$1 == "ufw" && $2 == "allow" { print $3, "ALLOW", "Anywhere" }' "$STUB_LOG"
        return 0
      }
      check || echo TODO
      apply > /dev/null
      check && echo DONE
    """
    result = bash(sandbox, script("firewall", "ubuntu-22.04", "w1", spec), body)
    assert result.stdout.split() == ["TODO", "DONE"], result.stderr
    assert "ufw allow 30000:32767/udp\n" in (sandbox / "stub.log").read_text()
    assert "-A ufw-before-input -p 4 -j ACCEPT" in (sandbox / "before.rules").read_text()


def test_endpoint_probe_refused_and_timeout(sandbox: Path) -> None:
    spec = make_spec(kubernetes={"controlPlaneEndpoint": "127.0.0.1:1"})
    text = script("endpoint-probe", "debian-12", "cp1", spec)
    refused = bash(sandbox, text, "apply")
    assert "::k8stui-output:: endpoint_probe=refused" in refused.stdout, refused.stderr
    assert refused.returncode == 0
    # A probe that never answers: `timeout` reports 124, as it would for a silent SLB.
    slow = bash(sandbox, text, "timeout() { return 124; }; apply")
    assert "::k8stui-output:: endpoint_probe=timeout" in slow.stdout
    assert slow.returncode == 1 and "hairpin" in slow.stderr and "DNS name" in slow.stderr


def test_endpoint_probe_skips_a_name_that_resolves_to_this_node(sandbox: Path) -> None:
    text = script("endpoint-probe", "debian-12", "cp1")
    stubs = "timeout() { shift; \"$@\"; }; getent() { echo '10.0.0.11 k8s-api.internal'; }; "
    result = bash(sandbox, text, stubs + "apply")
    assert "::k8stui-output:: endpoint_probe=self" in result.stdout and result.returncode == 0


def test_endpoint_probe_does_not_mistake_a_missing_dns_name_for_a_hairpin(sandbox: Path) -> None:
    text = script("endpoint-probe", "debian-12", "cp1")
    result = bash(sandbox, text, "timeout() { return 124; }; apply")
    assert "::k8stui-output:: endpoint_probe=error" in result.stdout and result.returncode == 0
    assert "cannot resolve k8s-api.internal" in result.stderr


HOSTPREP = ("hostname", "timesync", "firewall", "selinux", "swap", "kernel", "ipvs")


@pytest.mark.parametrize("step_id", HOSTPREP)
def test_checks_run_read_only_on_this_machine(sandbox: Path, step_id: str) -> None:
    """Each check runs for real here (as nobody): it may say done or not, but must not break."""
    spec = make_spec(network={"proxyMode": "ipvs", "cni": "calico"},
                     prep={"firewall": "open-ports", "timeServers": ["ntp.aliyun.com"]})
    text = script(step_id, "rocky-9" if step_id == "selinux" else "debian-12", "cp1", spec)
    result = bash(sandbox, text, "check", stubs=False)
    assert result.returncode in (0, 1), result.stderr
    for broken in ("command not found", "unbound variable", "syntax error"):
        assert broken not in result.stderr


def test_selinux_without_its_tools_uses_the_kernel_switch(sandbox: Path) -> None:
    (sandbox / "config").write_text("SELINUX=enforcing\n")
    (sandbox / "enforce").write_text("1")
    body = """
      SELINUX_CONFIG=config SELINUX_ENFORCE=enforce
      have() { return 1; }
      check || echo TODO
      apply
      check && echo DONE
    """
    result = bash(sandbox, script("selinux", "rocky-9"), body)
    lines = result.stdout.splitlines()
    assert (lines[0], lines[-1]) == ("TODO", "DONE"), result.stderr
    assert (sandbox / "enforce").read_text().strip() == "0"
