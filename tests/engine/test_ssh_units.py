"""The SSH layer's parts that need no server: remote shell snippets (run here with bash), host-key
decisions, ssh_config resolution, sudo messages, errors and secrets."""

from __future__ import annotations

import asyncio
import os
import shlex
import shutil
import signal
import stat
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import asyncssh
import pytest

from k8stui.engine import remote, sshproc
from k8stui.engine.errors import HostKeyError, SSHError
from k8stui.engine.hostkeys import HostKeyGate, KnownHostsFile, known_hosts_name
from k8stui.engine.ssh import Secrets
from k8stui.engine.sshconfig import parse_hop, resolve
from k8stui.model.cluster import NodeSpec, SSHSpec

# -- remote snippets, executed by a local bash exactly as a node's login shell would ------------------


def sh(command: str, timeout: float = 30) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["sh", "-c", command], capture_output=True, text=True, timeout=timeout,
                          stdin=subprocess.DEVNULL)


def test_upload_writes_stdin_atomically_with_private_modes(tmp_path: Path) -> None:
    dest = remote.RemotePath("staging/steps/01-x.sh", home=True)
    done = subprocess.run(["sh", "-c", remote.upload_command(dest)], input="echo hi\n", text=True,
                          env={**os.environ, "HOME": str(tmp_path)}, capture_output=True, timeout=30)
    assert done.returncode == 0, done.stderr
    path = tmp_path / "staging/steps/01-x.sh"
    assert path.read_text() == "echo hi\n"
    assert stat.S_IMODE(path.stat().st_mode) == 0o700
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert stat.S_IMODE(path.parent.parent.stat().st_mode) == 0o700
    assert not path.with_name("01-x.sh.tmp").exists()


def test_wrapper_reports_start_output_and_exit_status(tmp_path: Path) -> None:
    run_dir = remote.RemotePath(str(tmp_path / "run"))
    done = sh(remote.shell_command("", run_dir, "echo \"it's $((6 * 7))\"; echo e >&2; exit 5", 30, "c.pid"))
    assert done.returncode == 5
    assert done.stdout.splitlines() == [remote.STARTED, "it's 42"]
    assert done.stderr.splitlines() == ["e"]
    assert list((tmp_path / "run").iterdir()) == []  # pidfile removed at the end
    assert stat.S_IMODE((tmp_path / "run").stat().st_mode) == 0o700


def test_wrapper_installs_a_staged_script_then_runs_it(tmp_path: Path) -> None:
    staged = tmp_path / "home" / "01-x.sh"
    staged.parent.mkdir()
    staged.write_text('echo "mode=$1"\n')
    script = remote.RemotePath(str(tmp_path / "steps" / "01-x.sh"))
    command = remote.step_command("", script, "check", 30, "x.pid", staged=remote.RemotePath(str(staged)),
                                  run_dir=remote.RemotePath(str(tmp_path / "run")))
    done = sh(command)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [remote.STARTED, "mode=check"]
    assert not staged.exists()
    assert stat.S_IMODE(Path(script.path).stat().st_mode) == 0o700


def test_wrapper_times_out_with_124(tmp_path: Path) -> None:
    began = time.monotonic()
    done = sh(remote.shell_command("", remote.RemotePath(str(tmp_path)), "sleep 30", 1, "t.pid"))
    assert done.returncode == 124
    assert time.monotonic() - began < 10


def _running_group(tmp_path: Path, body: str) -> tuple[subprocess.Popen[str], Path]:
    run_dir = tmp_path / "run"
    command = remote.shell_command("", remote.RemotePath(str(run_dir)), body, 600, "g.pid")
    proc = subprocess.Popen(["sh", "-c", command], stdout=subprocess.PIPE, text=True,
                            stdin=subprocess.DEVNULL)
    assert proc.stdout is not None and proc.stdout.readline().strip() == remote.STARTED
    pidfile = run_dir / "g.pid"
    deadline = time.monotonic() + 10
    while not (pidfile.exists() and pidfile.read_text().strip()) and time.monotonic() < deadline:
        time.sleep(0.02)
    return proc, pidfile


def _group_alive(pgid: int) -> bool:
    """Any member of the process group that is not a zombie (a container's init may reap slowly)."""
    for stat_file in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat_file.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid and fields[0] != "Z":
            return True
    return False


def _settles(predicate: Callable[[], bool], seconds: float = 5) -> bool:
    deadline = time.monotonic() + seconds
    while not predicate():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


@pytest.mark.parametrize("body", ["sleep 600 & sleep 600", "trap '' TERM; sleep 600"])
def test_killer_terminates_the_whole_group_escalating_to_kill(tmp_path: Path, body: str) -> None:
    proc, pidfile = _running_group(tmp_path, body)
    pgid = int(pidfile.read_text())
    # `timeout` moves itself into a new process group (its pid) right after it starts.
    assert _settles(lambda: _group_alive(pgid) and os.getpgid(pgid) == pgid)
    try:
        done = sh(remote.cancel_command("", [remote.RemotePath(str(pidfile))]))
        assert done.returncode == 0
        assert _settles(lambda: not _group_alive(pgid))
        assert proc.wait(timeout=10) in (143, 137)
    finally:
        if _group_alive(pgid):
            os.killpg(pgid, signal.SIGKILL)
        proc.kill()
        proc.wait(timeout=10)


def test_killer_ignores_missing_and_garbage_pidfiles(tmp_path: Path) -> None:
    garbage = tmp_path / "bad.pid"
    garbage.write_text("1; rm -rf /\n")
    paths = [remote.RemotePath(str(tmp_path / "missing.pid")), remote.RemotePath(str(garbage))]
    assert sh(remote.cancel_command("", paths)).returncode == 0


def test_commands_quote_every_value_and_keep_secrets_out() -> None:
    evil = "x'; touch /tmp/pwned #"
    command = remote.shell_command(remote.sudo_prefix(True, True), remote.ROOT_RUN, evil, 30, "p.pid")
    words = shlex.split(command)
    assert words[:5] == ["sudo", "-S", "-p", "", "--"]
    assert words[-3:] == ["bash", "-c", evil]
    assert remote.sudo_prefix(True, False) == "sudo -n -- " and remote.sudo_prefix(False, True) == ""
    home = remote.RemotePath("a b/c", home=True).shell()
    assert home == "\"$HOME\"/'a b/c'"
    assert remote.limit_seconds(0.2) == 1 and remote.limit_seconds(2.5) == 3


# -- sudo messages -------------------------------------------------------------------------------------


@pytest.mark.parametrize(("said", "expected"), [
    ("sudo: a password is required", "needs a password"),
    ("Sorry, try again.\nsudo: 1 incorrect password attempt", "rejected"),
    ("sudo: no password was provided", "rejected"),
    ("sudo: sorry, you must have a tty to run sudo", "requiretty"),
    ("ops is not in the sudoers file.  This incident will be reported.", "may not use sudo"),
    ("bash: sudo: command not found", "not installed"),
    ("E: Unable to locate package foo", None),
])
def test_sudo_problem(said: str, expected: str | None) -> None:
    problem = remote.sudo_problem(said.splitlines())
    assert (problem is None) if expected is None else (problem is not None and expected in problem)


# -- host keys -----------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def keys() -> tuple[asyncssh.SSHKey, asyncssh.SSHKey]:
    return asyncssh.generate_private_key("ssh-ed25519"), asyncssh.generate_private_key("ssh-ed25519")


def _entry(name: str, key: asyncssh.SSHKey) -> str:
    kind, data = key.export_public_key().decode().split()[:2]
    return f"{name} {kind} {data}\n"


def test_known_host_names() -> None:
    assert known_hosts_name("h", 22) == "h" and known_hosts_name("h", 2222) == "[h]:2222"


def test_gate_trusts_port_specific_entries_and_skips_bad_lines(tmp_path: Path, keys) -> None:
    key, _ = keys
    path = tmp_path / "known_hosts"
    path.write_text("garbage line\n@weird-marker h k\n" + _entry("[h]:2222", key))
    known = KnownHostsFile(str(path))
    assert known.match("h", "10.0.0.1", 2222)[0] == [key.convert_to_public()]
    assert known.match("h", "10.0.0.1", None)[0] == []


def test_port_22_entries_do_not_vouch_for_other_ports(tmp_path: Path, keys) -> None:
    old, new = keys
    path = tmp_path / "known_hosts"
    path.write_text(_entry("h", old) + _entry("10.0.0.1", old))
    known = KnownHostsFile(str(path))
    assert known.match("h", "10.0.0.1", 2222)[0] == []
    assert known.match("other", "10.0.0.1", 22)[0] == [old.convert_to_public()]  # by address too
    gate = HostKeyGate(known, "strict")
    assert not gate.validate("h", "10.0.0.1", 2222, new.convert_to_public())
    assert gate.refusal is not None and gate.refusal.reason == "unknown"  # not "changed", as in OpenSSH


def test_gate_unknown_strict_vs_accept_new(tmp_path: Path, keys) -> None:
    key, _ = keys
    path = tmp_path / "sub" / "known_hosts"
    strict = HostKeyGate(KnownHostsFile(str(path)), "strict")
    assert not strict.validate("h", "10.0.0.1", 22, key.convert_to_public())
    assert isinstance(strict.refusal, HostKeyError) and strict.refusal.reason == "unknown"
    assert not path.exists()
    tofu = HostKeyGate(KnownHostsFile(str(path)), "accept-new")
    assert tofu.validate("h", "10.0.0.1", 2222, key.convert_to_public())
    assert path.read_text() == _entry("[h]:2222", key)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700


def test_gate_refuses_changed_and_revoked_keys(tmp_path: Path, keys) -> None:
    old, new = keys
    path = tmp_path / "known_hosts"
    path.write_text(_entry("h", old))
    gate = HostKeyGate(KnownHostsFile(str(path)), "accept-new")
    assert not gate.validate("h", "10.0.0.1", 22, new.convert_to_public())
    assert gate.refusal is not None and gate.refusal.reason == "changed"
    assert gate.refusal.fingerprint == new.get_fingerprint("sha256")
    path.write_text("@revoked " + _entry("h", new))
    revoked = HostKeyGate(KnownHostsFile(str(path)), "accept-new")
    assert not revoked.validate("h", "", 22, new.convert_to_public())


@pytest.mark.skipif(shutil.which("ssh-keygen") is None, reason="ssh-keygen (openssh-client) is not installed")
def test_gate_reads_hashed_entries(tmp_path: Path, keys) -> None:
    key, _ = keys
    path = tmp_path / "known_hosts"
    path.write_text(_entry("[node.example]:2200", key))
    subprocess.run(["ssh-keygen", "-H", "-f", str(path)], check=True, capture_output=True)
    assert path.read_text().startswith("|1|")
    assert KnownHostsFile(str(path)).match("node.example", "", 2200)[0] == [key.convert_to_public()]


def test_record_appends_after_a_line_without_newline(tmp_path: Path, keys) -> None:
    first, second = keys
    path = tmp_path / "known_hosts"
    path.write_text(_entry("a", first).rstrip("\n"))
    KnownHostsFile(str(path)).record("b", 22, second.convert_to_public())
    assert path.read_text() == _entry("a", first) + _entry("b", second)


def test_host_key_error_messages() -> None:
    unknown = HostKeyError("10.0.0.5", "ssh-ed25519", "SHA256:abc", "unknown", port=2222)
    assert "SHA256:abc" in unknown.message and "ssh-keyscan -p 2222 10.0.0.5" in unknown.message
    assert "hostKeyPolicy: accept-new" in unknown.message
    changed = HostKeyError("n1", "ssh-rsa", "SHA256:xyz", "changed")
    assert "HOST KEY CHANGED" in changed.message and "ssh-keygen -R 'n1'" in changed.message
    assert "accept-new" not in changed.message


# -- ssh_config resolution ------------------------------------------------------------------------------


def _spec(**values: object) -> SSHSpec:
    return SSHSpec.model_validate(values)


def test_resolve_explicit_values_win_over_ssh_config(tmp_path: Path) -> None:
    key = tmp_path / "id_cfg"
    key.write_text("x")
    config = tmp_path / "config"
    config.write_text(f"Host n1\n  HostName 10.1.1.1\n  User cfg\n  Port 2022\n  IdentityFile {key}\n"
                      "  ProxyJump jump@10.9.9.9:2200\n")
    node = NodeSpec(name="n1", address="n1")
    route = resolve(node, _spec(identityFile=None), use_config=True, config_path=str(config))
    assert str(route.target) == "cfg@10.1.1.1:2022" and route.target.identity_files == (str(key),)
    assert [str(j) for j in route.jumps] == ["jump@10.9.9.9:2200"]
    route = resolve(node, _spec(user="ops", port=22, bastion="b@10.2.2.2"), use_config=True,
                    config_path=str(config))
    assert str(route.target) == "ops@10.1.1.1:22"
    assert route.describe() == "ops@10.1.1.1:22 via b@10.2.2.2:22"
    route = resolve(node, _spec(), use_config=False, config_path=str(config))
    assert str(route.target) == "root@n1:22" and route.jumps == ()


def test_resolve_identity_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    node = NodeSpec(name="n1", address="10.0.0.1")
    with pytest.raises(SSHError) as caught:
        resolve(node, _spec(identityFile="~/missing_key"), use_config=False)
    assert "~/missing_key" in caught.value.message
    assert resolve(node, _spec(), use_config=False).target.identity_files == ()  # default absent: no error
    (tmp_path / ".ssh").mkdir()
    (tmp_path / ".ssh" / "id_ed25519").write_text("x")
    assert resolve(node, _spec(), use_config=False).target.identity_files == (
        str(tmp_path / ".ssh" / "id_ed25519"),)


@pytest.mark.parametrize(("text", "expected"), [
    ("bastion", ("bastion", None, None)),
    ("ops@bastion:2200", ("bastion", "ops", 2200)),
    ("ops@[fd00::1]:22", ("fd00::1", "ops", 22)),
    ("fd00::1", ("fd00::1", None, None)),
])
def test_parse_hop(text: str, expected: tuple[str, str | None, int | None]) -> None:
    assert parse_hop(text) == expected


def test_secrets_fall_back_to_star_and_never_print_values() -> None:
    secrets = Secrets(ssh_passwords={"*": "p4ss"}, sudo_passwords={"n1": "s3cret"})
    assert secrets.ssh_password("n2") == "p4ss" and secrets.sudo_password("n1") == "s3cret"
    assert secrets.sudo_password("n2") is None
    assert "p4ss" not in repr(secrets) and "s3cret" not in repr(secrets)


# -- streaming without a server ------------------------------------------------------------------------


class _Stream:
    """An SSHReader stand-in: hands out queued lines, then blocks (a channel the node never closes)."""

    def __init__(self, *lines: str) -> None:
        self.lines = list(lines)

    async def readline(self) -> str:
        if self.lines:
            return self.lines.pop(0)
        await asyncio.Event().wait()
        return ""


class _Proc:
    def __init__(self) -> None:
        self.stdout, self.stderr = _Stream(f"{remote.STARTED}\n", "hello\n"), _Stream("warn\n")
        self.returncode = None


async def test_pump_streams_lines_and_gives_up_on_an_abandoned_channel() -> None:
    running = sshproc.Running(_Proc(), remote.ROOT_RUN.child("x.pid"), sudo=False)  # type: ignore[arg-type]
    seen: list[tuple[str, str]] = []
    watch = sshproc.Watch()
    pump = asyncio.create_task(sshproc.pump(running, lambda t, line: seen.append((t, line)), watch))
    await asyncio.sleep(0.05)
    assert not pump.done() and watch.started
    assert sorted(seen) == [("err", "warn"), ("out", "hello")]  # the marker is consumed, not shown
    running.abandoned.set()
    assert await asyncio.wait_for(pump, 5) is None


@pytest.mark.skipif(shutil.which("shellcheck") is None, reason="shellcheck is not installed")
@pytest.mark.parametrize("name", ["WRAPPER", "KILLER"])
def test_remote_snippets_pass_shellcheck(tmp_path: Path, name: str) -> None:
    script = tmp_path / f"{name}.sh"
    script.write_text("#!/usr/bin/env bash\n" + getattr(remote, name))
    checked = subprocess.run(["shellcheck", str(script)], capture_output=True, text=True)
    assert checked.returncode == 0, checked.stdout
