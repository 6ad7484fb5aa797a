"""Per-node transcripts (`<state>/logs/<node>.log`, 0600) with secrets redacted.

Each line: `2026-11-27T14:40:00Z <step> <stream>| <text>`. The same Redactor scrubs the lines that
reach the screen (StepOutput events), so a token never shows up anywhere but the summary.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Iterable
from pathlib import Path

REDACTED = "<redacted>"
# Shapes that are secret whatever their value: bootstrap tokens (kubeadm prints them before the
# init step publishes them, so known-value redaction would come too late) and certificate keys.
_PATTERNS = (
    re.compile(r"\b[a-z0-9]{6}\.[a-z0-9]{16}\b"),
    re.compile(r"(--certificate-key[ =]+)[0-9a-f]{64}\b"),
    re.compile(r"(certificate_?key[\"']?\s*[:=]\s*[\"']?)[0-9a-f]{64}\b", re.IGNORECASE),
)


class Redactor:
    """Replaces known secret values and secret-shaped strings with `<redacted>`."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self._secrets: set[str] = set()
        self._longest_first: list[str] = []  # sorted once per new secret, not once per line
        for secret in secrets:
            self.add(secret)

    def add(self, secret: str | None) -> None:
        # Very short values would shred ordinary text; nothing we hold is that short.
        if secret and len(secret) >= 4 and secret not in self._secrets:
            self._secrets.add(secret)
            self._longest_first = sorted(self._secrets, key=len, reverse=True)

    def __call__(self, text: str) -> str:
        for secret in self._longest_first:
            if secret in text:
                text = text.replace(secret, REDACTED)
        for pattern in _PATTERNS:
            text = pattern.sub(lambda m: (m.group(1) if m.groups() else "") + REDACTED, text)
        return text


def stamp(at: float | None = None) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(at if at is not None else time.time()))


class NodeLog:
    """Append-only transcript of one node. Opened per write batch: cheap and safe across retries."""

    def __init__(self, path: Path, redact: Redactor) -> None:
        self.path = path
        self.redact = redact

    def offset(self) -> int:
        try:
            return self.path.stat().st_size
        except FileNotFoundError:
            return 0

    def write(self, step: str, lines: Iterable[tuple[str, str]]) -> None:
        """Append (stream, text) lines for `step`, timestamped and redacted."""
        now = stamp()
        text = "".join(f"{now} {step} {stream}| {self.redact(line)}\n" for stream, line in lines)
        if not text:
            return
        fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        try:
            os.write(fd, text.encode(errors="replace"))
        finally:
            os.close(fd)

    def note(self, step: str, text: str) -> None:
        """A line from k8stui itself (script name, exit code, diagnostics header)."""
        self.write(step, [("k8stui", text)])


class LogBook:
    """The logs directory: one NodeLog per node, all sharing one Redactor."""

    def __init__(self, directory: Path, redact: Redactor | None = None) -> None:
        self.dir = directory
        self.redact = redact or Redactor()
        self._logs: dict[str, NodeLog] = {}

    def node(self, name: str) -> NodeLog:
        if name not in self._logs:
            self._logs[name] = NodeLog(self.dir / f"{name}.log", self.redact)
        return self._logs[name]

    def path(self, name: str) -> Path:
        return self.node(name).path

    def tail(self, name: str, offset: int = 0, limit: int = 20) -> list[str]:
        """The last `limit` lines of a node's log from `offset` (for `status` on a failed step)."""
        try:
            with open(self.path(name), "rb") as handle:
                handle.seek(offset)
                lines = handle.read().decode(errors="replace").splitlines()
        except FileNotFoundError:
            return []
        return lines[-limit:]
