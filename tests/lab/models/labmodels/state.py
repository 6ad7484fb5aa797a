"""Node state shared by the models: everything lives under STATE (the node's private /var/lib/lab)."""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import sys
import time
from collections.abc import Iterator
from typing import Any, NoReturn

STATE = os.environ.get("K8SLAB_STATE", "/var/lib/lab")
LIB = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))  # /usr/local/lib/k8slab
ROOT = os.environ.get("K8SLAB_ROOT", "/")  # the node's root; tests of the models may point it elsewhere


class Fail(Exception):
    """A tool failure: message for stderr and the exit code the real tool uses."""

    def __init__(self, message: str, code: int = 1) -> None:
        super().__init__(message)
        self.code = code


def fail(message: str, code: int = 1) -> NoReturn:
    raise Fail(message, code)


def path(*parts: str) -> str:
    return os.path.join(STATE, *parts)


def root(p: str) -> str:
    """A node path (absolute, as a recipe writes it) under ROOT."""
    return os.path.join(ROOT, p.lstrip("/"))


def load(name: str, default: Any) -> Any:
    try:
        with open(path(name)) as f:
            return json.load(f)
    except FileNotFoundError:
        return default


def save(name: str, value: Any) -> None:
    target = path(name)
    os.makedirs(os.path.dirname(target), exist_ok=True)
    tmp = f"{target}.{os.getpid()}.tmp"
    with open(tmp, "w") as f:
        json.dump(value, f, indent=1, sort_keys=True)
    os.replace(tmp, target)


@contextlib.contextmanager
def locked(name: str = "lock") -> Iterator[None]:
    """Serialise state changes, like dpkg's and rpm's database locks (waiting, bounded by the caller)."""
    os.makedirs(STATE, exist_ok=True)
    with open(path(name), "a") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def node() -> dict[str, Any]:
    """What the lab wrote about this node: distro key, family, codename, EL major, cgroup, ..."""
    return load("node.json", {})


def read(p: str, default: str = "") -> str:
    try:
        with open(root(p)) as f:
            return f.read()
    except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
        return default


def read_state(*parts: str) -> str:
    """A file under STATE (not a node path)."""
    try:
        with open(path(*parts)) as f:
            return f.read()
    except FileNotFoundError:
        return ""


def write(p: str, text: str, mode: int = 0o644) -> None:
    target = root(p)
    os.makedirs(os.path.dirname(target), exist_ok=True)
    with open(target, "w") as f:
        f.write(text)
    os.chmod(target, mode)


def journal(unit: str, message: str) -> None:
    """Append to the unit's log, which the journalctl model prints."""
    os.makedirs(path("journal"), exist_ok=True)
    stamp = time.strftime("%b %d %H:%M:%S")
    with open(path("journal", unit), "a") as f:
        f.write(f"{stamp} {node().get('hostname', 'node')} {message}\n")


def calls(tool: str, args: list[str]) -> None:
    """Record an invocation of a passive tool, so tests can assert on what recipes ran."""
    with open(path("calls.log"), "a") as f:
        f.write(json.dumps([tool, *args]) + "\n")


def err(message: str) -> None:
    print(message, file=sys.stderr)
