"""Host-key checking against an OpenSSH known_hosts file, under k8stui's two policies.

asyncssh trusts the keys our `match` returns and asks `validate` about any other key the server
offers; that second call is where we see the offered key's type and fingerprint, decide
unknown vs changed, and (under accept-new) record a first-seen key.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import asyncssh

from k8stui.engine.errors import HostKeyError

DEFAULT_PORT = 22
_KeyLists = tuple[Sequence[asyncssh.SSHKey], Sequence[asyncssh.SSHKey], Sequence[asyncssh.SSHKey]]


def known_hosts_name(host: str, port: int) -> str:
    """How OpenSSH names a host in known_hosts: `host`, or `[host]:port` off port 22."""
    return host if port in (DEFAULT_PORT, 0) else f"[{host}]:{port}"


def fingerprint(key: asyncssh.SSHKey) -> str:
    return key.get_fingerprint("sha256")


# path -> ((inode, size, mtime_ns), parsed file): shared by every KnownHostsFile of that path.
_PARSED: dict[Path, tuple[tuple[int, int, int], asyncssh.SSHKnownHosts]] = {}


class KnownHostsFile:
    """One known_hosts file: checked for changes on every connection, appended to when a key is accepted."""

    def __init__(self, path: str) -> None:
        self.display = path  # as the operator wrote it, for messages
        self.path = Path(path).expanduser()

    def load(self) -> asyncssh.SSHKnownHosts:
        """The file's entries; parsed again only when the file changed (path, inode, size, mtime).

        Every node's connection reads the same file: parsing it per connection cost O(nodes) each,
        O(nodes^2) for a fan-out. The parsed object is only ever matched against, never changed.
        """
        try:
            info = self.path.stat()
        except FileNotFoundError:
            return asyncssh.SSHKnownHosts()
        version = (info.st_ino, info.st_size, info.st_mtime_ns)
        cached = _PARSED.get(self.path)
        if cached is None or cached[0] != version:
            cached = _PARSED[self.path] = (version, self._parse())
        return cached[1]

    def _parse(self) -> asyncssh.SSHKnownHosts:
        """Parse line by line so one entry asyncssh cannot read does not hide all the others."""
        known = asyncssh.SSHKnownHosts()
        try:
            text = self.path.read_text(encoding="utf-8", errors="replace")
        except FileNotFoundError:
            return known
        for line in text.splitlines():
            try:
                known.load(line)
            except (ValueError, asyncssh.KeyImportError):
                continue  # OpenSSH skips lines it cannot parse too
        return known

    def match(self, host: str, addr: str, port: int | None) -> _KeyLists:
        """Entries for `host` or its address, OpenSSH style: off port 22 only `[host]:port` entries count.

        (asyncssh's own lookup would fall back to port-22 entries; we look up the exact names instead.)
        """
        known, port = self.load(), port or DEFAULT_PORT
        names = dict.fromkeys(known_hosts_name(name, port) for name in (host, addr) if name)
        found: tuple[list[asyncssh.SSHKey], list[asyncssh.SSHKey], list[asyncssh.SSHKey]] = ([], [], [])
        for name in names:
            for bucket, keys in zip(found, known.match(name, "", None)[:3], strict=True):
                bucket.extend(k for k in keys if k not in bucket)
        return found

    def record(self, host: str, port: int, key: asyncssh.SSHKey) -> None:
        """Append `name type base64`; a new file is 0600 in a 0700 directory, like OpenSSH's."""
        if not self.path.parent.exists():
            self.path.parent.mkdir(mode=0o700, parents=True)
        alg, data = key.export_public_key("openssh").decode().split()[:2]
        line = f"{known_hosts_name(host, port)} {alg} {data}\n"
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        with os.fdopen(fd, "a", encoding="utf-8") as handle:
            if handle.tell() > 0 and not self._ends_with_newline():
                handle.write("\n")
            handle.write(line)

    def _ends_with_newline(self) -> bool:
        with self.path.open("rb") as handle:
            handle.seek(-1, os.SEEK_END)
            return handle.read(1) == b"\n"


class HostKeyGate:
    """The policy for one connection attempt; remembers why it refused a key (for the error)."""

    def __init__(self, known: KnownHostsFile, policy: str) -> None:
        self.known = known
        self.policy = policy
        self.refusal: HostKeyError | None = None
        self.unknown_key: tuple[str, int, asyncssh.SSHKey] | None = None

    def match(self, host: str, addr: str, port: int | None) -> _KeyLists:
        """asyncssh's `known_hosts=` callable: the keys it may trust without asking us."""
        return self.known.match(host, addr, port)

    def validate(self, host: str, addr: str, port: int, key: asyncssh.SSHKey) -> bool:
        """Called by asyncssh for an offered key that `match` did not list."""
        host_keys, _, revoked = self.known.match(host, addr, None if port == DEFAULT_PORT else port)
        if key in revoked:
            self.refusal = self._error(host, port, key, "changed")
            return False
        if host_keys:
            # Known keys but not this one: a changed key is refused under every policy, never prompted.
            self.refusal = self._error(host, port, key, "changed")
            return False
        if self.policy == "accept-new":
            self.known.record(host, port, key)
            return True
        self.refusal = self._error(host, port, key, "unknown")
        self.unknown_key = (host, port, key)
        return False

    def accept_unknown(self) -> None:
        """The operator accepted the key we refused as unknown: record it for the retry."""
        if self.unknown_key is not None:
            self.known.record(*self.unknown_key)

    def _error(self, host: str, port: int, key: asyncssh.SSHKey, reason: str) -> HostKeyError:
        return HostKeyError(host, key.get_algorithm(), fingerprint(key), reason,  # type: ignore[arg-type]
                            known_hosts=self.known.display, port=port)
