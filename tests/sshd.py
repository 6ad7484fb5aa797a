"""Real OpenSSH servers on loopback for tests: sshd processes, keys, throwaway users, ssh-agent.

The helpers (`keygen`, `start_sshd`, `Sshd`, `create_users`, `start_agent`) are reusable on their own;
the session fixtures at the bottom put them together once per test session:

- `ssh_lab`: a target sshd and a bastion sshd on 127.0.0.1 (random free ports, their own host keys),
  an authorized client key for root and for three throwaway users (NOPASSWD sudo, sudo with a
  password, requiretty), a known_hosts file trusting both servers.
- `ssh_agent`: an ssh-agent on a private socket holding a key that only the agent knows.

Needs root (useradd, /etc/sudoers.d) and /usr/sbin/sshd; every fixture skips clearly otherwise.
Users get a random suffix so two test sessions on one machine never share (or delete) each other's.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from k8stui.model.cluster import SSHSpec

LOOPBACK = "127.0.0.1"
SSHD = shutil.which("sshd") or "/usr/sbin/sshd"


def free_port(host: str = LOOPBACK) -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def keygen(path: Path, kind: str = "ed25519", comment: str = "k8stui-test") -> Path:
    """A passphrase-less key pair at `path` (private) and `path.pub`."""
    subprocess.run(["ssh-keygen", "-q", "-t", kind, "-N", "", "-C", comment, "-f", str(path)],
                   check=True, capture_output=True)
    return path


def public_line(key: Path) -> str:
    """`type base64` of a key pair's public half (comment dropped)."""
    kind, data = Path(f"{key}.pub").read_text().split()[:2]
    return f"{kind} {data}"


def known_hosts_name(host: str, port: int) -> str:
    return host if port == 22 else f"[{host}]:{port}"


@dataclass
class Sshd:
    """A running `sshd -D -e`; stop() terminates it and every session process it forked."""

    host: str
    port: int
    host_key: Path
    config: Path
    log: Path
    proc: subprocess.Popen[bytes]

    def known_hosts_line(self) -> str:
        return f"{known_hosts_name(self.host, self.port)} {public_line(self.host_key)}\n"

    def fingerprint(self) -> str:
        out = subprocess.run(["ssh-keygen", "-l", "-E", "sha256", "-f", f"{self.host_key}.pub"],
                             check=True, capture_output=True, text=True).stdout
        return out.split()[1]

    def drop_connections(self) -> None:
        """Kill the per-connection children (not the listener): every client sees its connection drop."""
        subprocess.run(["pkill", "-KILL", "-P", str(self.proc.pid)], check=False)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.drop_connections()
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)


def sshd_config(port: int, host_key: Path, authorized_keys_dir: Path, host: str = LOOPBACK,
                extra: Sequence[str] = (), log_level: str = "VERBOSE", root_home: Path | None = None) -> str:
    """`extra` goes last (so it may hold `Match` blocks); sshd keeps the first value of other keywords.

    `root_home` replaces root's $HOME in sessions: bash run by sshd sources ~/.bashrc, and a developer
    machine's root dotfiles (pyenv's global rehash lock, for one) must not slow down or hang the tests.
    """
    lines = [
        f"Port {port}", f"ListenAddress {host}", f"HostKey {host_key}", "PidFile none",
        f"AuthorizedKeysFile {authorized_keys_dir}/%u", "UsePAM no", "StrictModes no",
        "PermitRootLogin prohibit-password", "PubkeyAuthentication yes", "PasswordAuthentication no",
        "KbdInteractiveAuthentication no", "AllowTcpForwarding yes", "MaxSessions 50",
        "MaxStartups 100", f"LogLevel {log_level}", *extra,
    ]
    if root_home is not None:
        lines += ["Match User root", f"  SetEnv HOME={root_home}"]
    return "\n".join(lines) + "\n"


def _wait_for_banner(host: str, port: int, proc: subprocess.Popen[bytes], log: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"sshd exited with {proc.returncode}: {log.read_text()[-2000:]}")
        with contextlib.suppress(OSError), socket.create_connection((host, port), timeout=1) as sock:
            if sock.recv(64).startswith(b"SSH-"):
                return
        time.sleep(0.05)
    raise RuntimeError(f"sshd did not answer on {host}:{port} within {timeout}s: {log.read_text()[-2000:]}")


def start_sshd(workdir: Path, name: str, *, authorized_keys_dir: Path, host: str = LOOPBACK,
               extra: Sequence[str] = (), log_level: str = "VERBOSE", clean_root_home: bool = True,
               timeout: float = 10.0) -> Sshd:
    """Start `sshd -D -e -f <config>` on a free port with its own ed25519 host key.

    Tries three ports: another process may grab the free port before sshd binds it.
    """
    Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)  # privilege-separation directory
    host_key = workdir / f"{name}_host_ed25519"
    if not host_key.exists():
        keygen(host_key, comment=f"{name}-host")
    root_home = workdir / "root-home" if clean_root_home else None
    if root_home is not None:
        root_home.mkdir(mode=0o700, exist_ok=True)
    for attempt in range(3):
        port = free_port(host)
        config = workdir / f"{name}_sshd_config"
        config.write_text(sshd_config(port, host_key, authorized_keys_dir, host, extra, log_level, root_home))
        log = workdir / f"{name}_sshd.log"
        with log.open("wb") as out:
            proc = subprocess.Popen([SSHD, "-D", "-e", "-f", str(config)], stdout=out,
                                    stderr=subprocess.STDOUT)
        try:
            _wait_for_banner(host, port, proc, log, timeout)
        except RuntimeError:
            if proc.poll() is None:
                proc.kill()
            proc.wait(timeout=10)
            if attempt == 2:
                raise
            continue
        return Sshd(host, port, host_key, config, log, proc)
    raise AssertionError("unreachable")


@dataclass
class TestUsers:
    """Throwaway accounts (created here, deleted by remove()) and the sudoers file that configures them."""

    nopasswd: str  # sudo without a password
    password_user: str  # sudo needs this user's password; also allowed to log in with it
    tty_user: str  # NOPASSWD, but sudoers says requiretty
    password: str
    sudoers: Path
    created: list[str] = field(default_factory=list)

    @property
    def names(self) -> tuple[str, str, str]:
        return (self.nopasswd, self.password_user, self.tty_user)

    def remove(self) -> None:
        self.sudoers.unlink(missing_ok=True)
        for name in self.created:
            subprocess.run(["userdel", "-r", "-f", name], check=False, capture_output=True)
        self.created.clear()


def _sudoers_text(users: TestUsers) -> str:
    return (
        f"Defaults:{users.password_user} lecture=never, timestamp_timeout=0, passwd_tries=1\n"
        f"Defaults:{users.tty_user} requiretty\n"
        f"{users.nopasswd} ALL=(ALL) NOPASSWD: ALL\n"
        f"{users.password_user} ALL=(ALL) ALL\n"
        f"{users.tty_user} ALL=(ALL) NOPASSWD: ALL\n"
    )


def create_users(suffix: str | None = None) -> TestUsers:
    """Create the three sudo users (random suffix) and their /etc/sudoers.d file (validated by visudo)."""
    tag = suffix or secrets.token_hex(3)
    users = TestUsers(f"k8sops-{tag}", f"k8sops2-{tag}", f"k8stty-{tag}", secrets.token_urlsafe(12),
                      Path(f"/etc/sudoers.d/k8stui-test-{tag}"))
    try:
        for name in users.names:
            subprocess.run(["useradd", "-m", "-s", "/bin/bash", name], check=True, capture_output=True)
            users.created.append(name)
            # A "!" (locked) password makes sshd refuse even key logins when UsePAM is off.
            subprocess.run(["usermod", "-p", "*", name], check=True, capture_output=True)
        subprocess.run(["chpasswd"], input=f"{users.password_user}:{users.password}\n", text=True,
                       check=True, capture_output=True)
        _install_sudoers(users)
    except BaseException:
        users.remove()
        raise
    return users


def _install_sudoers(users: TestUsers) -> None:
    tmp = users.sudoers.with_name(f".{users.sudoers.name}.tmp")
    tmp.write_text(_sudoers_text(users))
    tmp.chmod(0o440)
    subprocess.run(["visudo", "-cf", str(tmp)], check=True, capture_output=True)
    tmp.rename(users.sudoers)


@dataclass
class Agent:
    sock: Path
    proc: subprocess.Popen[bytes]

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=10)


def start_agent(workdir: Path, *keys: Path) -> Agent:
    """`ssh-agent -D -a <sock>` (foreground, so we own the process) with `keys` added."""
    sock = workdir / "agent.sock"
    proc = subprocess.Popen(["ssh-agent", "-D", "-a", str(sock)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    agent = Agent(sock, proc)
    deadline = time.monotonic() + 10
    while not sock.exists():
        if proc.poll() is not None or time.monotonic() > deadline:
            agent.stop()
            raise RuntimeError("ssh-agent did not start")
        time.sleep(0.05)
    env = {**os.environ, "SSH_AUTH_SOCK": str(sock)}
    for key in keys:
        subprocess.run(["ssh-add", "-q", str(key)], env=env, check=True, capture_output=True)
    return agent


@dataclass
class SshLab:
    """Everything a test needs to reach the servers (see the module docstring)."""

    workdir: Path
    server: Sshd
    bastion: Sshd
    users: TestUsers
    client_key: Path  # authorized for root and every test user, on both servers
    agent_key: Path  # authorized for root only; not a file tests pass (the agent holds it)
    known_hosts: Path  # trusts both servers; tests copy it before changing it

    @property
    def keys_dir(self) -> Path:
        return self.workdir / "authorized_keys"

    def ssh_spec(self, user: str = "root", **values: object) -> SSHSpec:
        """An SSHSpec for the target server: our client key and known_hosts unless `values` say otherwise."""
        base: dict[str, object] = {
            "user": user, "port": self.server.port,
            "identity_file": str(self.client_key), "known_hosts": str(self.known_hosts),
        }
        return SSHSpec(**{**base, **values})

    def stop(self) -> None:
        for server in (self.server, self.bastion):
            server.stop()
        self.users.remove()
        shutil.rmtree(self.workdir, ignore_errors=True)


def _authorize(keys_dir: Path, users: Sequence[str], *keys: Path) -> None:
    for user in users:
        path = keys_dir / user
        path.write_text("".join(public_line(k) + "\n" for k in keys))
        path.chmod(0o644)


LAB_PREFIX = "k8stui-sshd-"
_LAB_USER = re.compile(r"^k8s(?:ops|ops2|tty)-([0-9a-f]{6})$")


def _in_use(workdir: Path) -> bool:
    """A live process (the lab's sshd, its ssh-agent) still names the lab's directory."""
    return subprocess.run(["pgrep", "-f", str(workdir)], capture_output=True).returncode == 0


def sweep_stale_labs(min_age: float = 120.0) -> None:
    """Remove what killed test sessions left behind (users, sudoers files, directories).

    A lab is stale when no process refers to its directory any more and it is older than `min_age`
    (a lab being started has no sshd yet for a moment).
    """
    for workdir in Path(tempfile.gettempdir()).glob(f"{LAB_PREFIX}*"):
        if time.time() - workdir.stat().st_mtime < min_age or _in_use(workdir):
            continue
        for keys in (workdir / "authorized_keys").glob("k8s*"):
            match = _LAB_USER.match(keys.name)
            if match:
                subprocess.run(["userdel", "-r", "-f", keys.name], check=False, capture_output=True)
                Path(f"/etc/sudoers.d/k8stui-test-{match.group(1)}").unlink(missing_ok=True)
        shutil.rmtree(workdir, ignore_errors=True)


@contextlib.contextmanager
def sigterm_as_interrupt() -> Iterator[None]:
    """`timeout` and CI cancellation send SIGTERM: make it a KeyboardInterrupt so teardown still runs."""
    if signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL:
        yield
        return

    def interrupt(_signum: int, _frame: object) -> None:
        raise KeyboardInterrupt("SIGTERM")

    signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)


def start_lab() -> SshLab:
    sweep_stale_labs()
    # Not pytest's tmp dir: the test users' sshd session processes must read their authorized_keys.
    workdir = Path(tempfile.mkdtemp(prefix=LAB_PREFIX))
    workdir.chmod(0o711)
    keys_dir = workdir / "authorized_keys"
    keys_dir.mkdir(mode=0o755)
    private = workdir / "private"
    private.mkdir(mode=0o700)
    client_key, agent_key = keygen(private / "client"), keygen(private / "agent")
    users = create_users()
    try:
        _authorize(keys_dir, users.names, client_key)
        _authorize(keys_dir, ["root"], client_key, agent_key)
        server = start_sshd(workdir, "target", authorized_keys_dir=keys_dir,
                            extra=[f"Match User {users.password_user}", "  PasswordAuthentication yes"])
        # DEBUG1 logs each forwarded connection, so tests can see traffic really went through it.
        bastion = start_sshd(workdir, "bastion", authorized_keys_dir=keys_dir, log_level="DEBUG1")
    except BaseException:
        users.remove()
        shutil.rmtree(workdir, ignore_errors=True)
        raise
    known = private / "known_hosts"
    known.write_text(server.known_hosts_line() + bastion.known_hosts_line())
    return SshLab(workdir, server, bastion, users, client_key, agent_key, known)


def lab_skip_reason() -> str | None:
    if os.geteuid() != 0:
        return "needs root (creates throwaway users and runs sshd); CI runs as root"
    for tool in ("ssh-keygen", "useradd", "visudo", "sudo", "timeout", "pkill"):
        if shutil.which(tool) is None:
            return f"{tool} is not installed (./dev.sh test installs it)"
    if not os.access(SSHD, os.X_OK):
        return "OpenSSH sshd is not installed (apt-get install openssh-server; ./dev.sh test does it)"
    return None


@pytest.fixture(scope="session")
def ssh_lab() -> Iterator[SshLab]:
    reason = lab_skip_reason()
    if reason:
        pytest.skip(reason)
    with sigterm_as_interrupt():
        lab = start_lab()
        try:
            yield lab
        finally:
            lab.stop()


@pytest.fixture(scope="session")
def ssh_agent(ssh_lab: SshLab) -> Iterator[Agent]:
    if shutil.which("ssh-agent") is None:
        pytest.skip("ssh-agent is not installed")
    agent = start_agent(ssh_lab.workdir / "private", ssh_lab.agent_key)
    try:
        yield agent
    finally:
        agent.stop()
