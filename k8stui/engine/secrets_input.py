"""Passwords for one run: from the environment variables the cluster file names, or asked for.

Values live only in memory (k8stui.engine.ssh.Secrets) and in the log Redactor; never in argv, state
or logs. An SSH password is asked for (with getpass, only on a TTY) when a node has no other way in:
no `passwordEnv`, no usable identity file and no ssh-agent. A sudo password comes only from
`sudoPasswordEnv`; without it sudo must not need one (the SudoError says what to set otherwise).
"""

from __future__ import annotations

import getpass
import os
import sys
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path

from k8stui.engine.ssh import Secrets
from k8stui.model.cluster import ClusterSpec, SSHSpec


class SecretsError(Exception):
    """A password the file points at is not available."""


def resolve_secrets(spec: ClusterSpec, nodes: Iterable[str] | None = None, *,
                    env: Mapping[str, str] | None = None, interactive: bool | None = None,
                    ask: Callable[[str], str] = getpass.getpass) -> Secrets:
    """Collect the passwords the selected nodes need; raises SecretsError naming the missing variable."""
    env = os.environ if env is None else env
    interactive = sys.stdin.isatty() if interactive is None else interactive
    wanted = set(nodes) if nodes is not None else {n.name for n in spec.nodes}
    secrets = Secrets()
    asked: dict[str, str] = {}  # user@host prompts answered once, reused for nodes sharing them
    for node in (n for n in spec.nodes if n.name in wanted):
        ssh = spec.ssh_for(node)
        password = _from_env(ssh.password_env, env, f"ssh.passwordEnv of node {node.name}")
        if password is None and interactive and needs_password(ssh, env):
            prompt = f"SSH password for user {ssh.user} (asked once for every node that has it): "
            password = asked.get(ssh.user) or ask(prompt)
            asked.setdefault(ssh.user, password)
        if password:
            secrets.ssh_passwords[node.name] = password
        sudo = _from_env(ssh.sudo_password_env, env, f"ssh.sudoPasswordEnv of node {node.name}")
        if sudo and ssh.needs_sudo:
            secrets.sudo_passwords[node.name] = sudo
    return secrets


def needs_password(ssh: SSHSpec, env: Mapping[str, str]) -> bool:
    """No key file to offer and no agent: password authentication is the only way left."""
    if ssh.password is not None:
        return False
    has_key = ssh.identity_file is not None and Path(ssh.identity_file).expanduser().is_file()
    return not has_key and not env.get("SSH_AUTH_SOCK")


def all_values(secrets: Secrets) -> list[str]:
    """Every password held, for the log Redactor."""
    return [*secrets.ssh_passwords.values(), *secrets.sudo_passwords.values()]


def _from_env(name: str | None, env: Mapping[str, str], where: str) -> str | None:
    if not name:
        return None
    value = env.get(name)
    if not value:
        raise SecretsError(f"environment variable {name} ({where}) is not set or empty")
    return value
