"""docker.service refuses to start on a bad /etc/docker/daemon.json, like dockerd does."""

from __future__ import annotations

from .. import docker


def start() -> str | None:
    return docker.start_problem()
