"""Where and how to connect to a node: the cluster file's `ssh` block, with ~/.ssh/config filling the gaps.

Values the operator set explicitly in the cluster file win; values left at their defaults yield to
~/.ssh/config (Host aliases, HostName, User, Port, IdentityFile, ProxyJump), then to k8stui's defaults.
Jump hosts are returned as hops so the caller opens them itself, under the same host-key policy.
"""

from __future__ import annotations

import getpass
from dataclasses import dataclass, field
from pathlib import Path

from asyncssh.config import SSHClientConfig

from k8stui.engine.errors import SSHError
from k8stui.model.cluster import NodeSpec, SSHSpec

DEFAULT_PORT = 22


@dataclass(frozen=True)
class Target:
    """One SSH endpoint: `host` is what we dial (an ssh_config alias is fine), `hostname` what it means."""

    host: str
    hostname: str
    port: int
    user: str
    identity_files: tuple[str, ...] = ()  # empty: asyncssh's default keys (~/.ssh/id_*)

    def __str__(self) -> str:
        return f"{self.user}@{self.hostname}:{self.port}"


@dataclass(frozen=True)
class Route:
    """The node's target and the jump hosts in front of it, outermost first."""

    target: Target
    jumps: tuple[Target, ...] = ()
    config_paths: tuple[str, ...] = field(default=())

    def describe(self) -> str:
        via = f" via {' -> '.join(str(j) for j in self.jumps)}" if self.jumps else ""
        return f"{self.target}{via}"


def config_paths(use_config: bool, path: str) -> tuple[str, ...]:
    expanded = Path(path).expanduser()
    return (str(expanded),) if use_config and expanded.is_file() else ()


def load_config(paths: tuple[str, ...], host: str, user: str | None,
                port: int | None) -> SSHClientConfig | None:
    """ssh_config as asyncssh reads it; explicit user/port are passed in so the file cannot override them."""
    if not paths:
        return None
    try:
        return SSHClientConfig.load(None, list(paths), False, False, False, getpass.getuser(),
                                    () if user is None else user, host, () if port is None else port)
    except (OSError, ValueError) as exc:
        raise SSHError(f"cannot read ssh config {paths[0]}: {exc}") from None


def _config_identities(config: SSHClientConfig | None) -> tuple[str, ...]:
    files = config.get("IdentityFile", ()) if config else ()
    return tuple(str(Path(f).expanduser()) for f in files if Path(f).expanduser().is_file())


def identity_files(ssh: SSHSpec, config: SSHClientConfig | None) -> tuple[str, ...]:
    """An explicit identityFile must exist; the default one is used only when present."""
    explicit = "identity_file" in ssh.model_fields_set
    if explicit and ssh.identity_file is not None:
        path = Path(ssh.identity_file).expanduser()
        if not path.is_file():
            raise SSHError(f"identityFile {ssh.identity_file} does not exist (set it to null to use "
                           "ssh-agent and ~/.ssh/config instead)")
        return (str(path),)
    from_config = _config_identities(config)
    if from_config or explicit:
        return from_config
    default = Path(ssh.identity_file or "").expanduser()
    return (str(default),) if ssh.identity_file and default.is_file() else ()


def _target(host: str, user: str | None, port: int | None, paths: tuple[str, ...],
            fallback_user: str) -> tuple[Target, SSHClientConfig | None]:
    config = load_config(paths, host, user, port)
    get = config.get if config else (lambda _key, default=None: default)
    target = Target(
        host=host,
        hostname=str(get("Hostname", host)),
        port=int(port or get("Port", DEFAULT_PORT)),
        user=str(user or get("User", fallback_user)),
    )
    return target, config


def parse_hop(text: str) -> tuple[str, str | None, int | None]:
    """`[user@]host[:port]` (IPv6 in brackets) -> (host, user, port)."""
    user, at, rest = text.rpartition("@")
    host, port = rest, None
    if rest.startswith("["):
        host, _, tail = rest[1:].partition("]")
        port = int(tail[1:]) if tail.startswith(":") and tail[1:].isdigit() else None
    elif rest.count(":") == 1:
        name, _, digits = rest.partition(":")
        if digits.isdigit():
            host, port = name, int(digits)
    return host, (user if at else None), port


def _jump_specs(ssh: SSHSpec, config: SSHClientConfig | None) -> list[str]:
    if ssh.bastion:
        return [ssh.bastion]
    jump = config.get("ProxyJump") if config else None
    if not jump or str(jump).lower() == "none":
        return []
    return [part.strip() for part in str(jump).split(",") if part.strip()]


def resolve(node: NodeSpec, ssh: SSHSpec, *, use_config: bool, config_path: str = "~/.ssh/config") -> Route:
    """The route to `node`: the cluster file's explicit values first, then ssh_config, then defaults."""
    paths = config_paths(use_config, config_path)
    explicit = ssh.model_fields_set
    user = ssh.user if "user" in explicit else None
    port = ssh.port if "port" in explicit else None
    target, config = _target(node.address, user, port, paths, fallback_user=ssh.user)
    keys = identity_files(ssh, config)
    target = Target(target.host, target.hostname, target.port, target.user, keys)
    jumps = []
    for spec in _jump_specs(ssh, config):
        host, hop_user, hop_port = parse_hop(spec)
        hop, hop_config = _target(host, hop_user, hop_port, paths, fallback_user=target.user)
        hop_keys = tuple(dict.fromkeys(keys + _config_identities(hop_config)))
        jumps.append(Target(hop.host, hop.hostname, hop.port, hop.user, hop_keys))
    return Route(target, tuple(jumps), paths)
