"""containerd.service refuses to start on an unreadable config, like the daemon does."""

from __future__ import annotations

from .. import containerd


def start() -> str | None:
    return containerd.start_problem()
