"""Long-running model processes inside a node (API server, kubelet agent): started detached from the
calling SSH session (own session, no inherited descriptors), one per pid file, stopped by pid."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time

from . import state


def _pidfile(name: str) -> str:
    return state.path("run", f"{name}.pid")


def running(name: str) -> int | None:
    try:
        with open(_pidfile(name)) as f:
            pid = int(f.read().strip())
    except (FileNotFoundError, ValueError):
        return None
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            alive = name.encode() in f.read()
    except FileNotFoundError:
        alive = False
    return pid if alive else None


def spawn(name: str, args: list[str]) -> int:
    """Start `model.py <LIB>/<name> ARGS` in the background unless it already runs; its pid."""
    pid = running(name)
    if pid:
        return pid
    os.makedirs(state.path("run"), exist_ok=True)
    python = state.node().get("python", "/usr/bin/python3")
    log = open(state.path("run", f"{name}.log"), "ab")  # noqa: SIM115 - handed to the child
    proc = subprocess.Popen(
        [python, "-E", "-s", "-S", os.path.join(state.LIB, "model.py"), os.path.join(state.LIB, name), *args],
        stdin=subprocess.DEVNULL,
        stdout=log,
        stderr=log,
        start_new_session=True,
        close_fds=True,
    )
    log.close()
    with open(_pidfile(name), "w") as f:
        f.write(str(proc.pid))
    return proc.pid


def stop(name: str) -> None:
    pid = running(name)
    if pid:
        os.kill(pid, signal.SIGTERM)
        for _ in range(50):  # bounded: 5 s
            if running(name) is None or not os.path.exists(f"/proc/{pid}"):
                break
            time.sleep(0.1)
    with contextlib.suppress(FileNotFoundError):
        os.unlink(_pidfile(name))


def stop_all() -> None:
    """Every model daemon of this node (a reboot: processes do not survive it)."""
    folder = state.path("run")
    for entry in sorted(os.listdir(folder)) if os.path.isdir(folder) else []:
        if entry.endswith(".pid"):
            stop(entry[:-4])
