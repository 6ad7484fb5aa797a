"""Removing labs: every trace of a slot (processes, netns, veths, the tmpfs, files), also after a crash.

Slot N's files live in LAB_ROOT/slotN (a tmpfs) and its lock file LAB_ROOT/slotN.lock is held by the
slot's node processes: a free lock means nobody runs that lab any more.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

from . import netns

LAB_ROOT = Path(tempfile.gettempdir()) / "k8stui-lab"
MAX_SLOTS = 8


def lab_processes(marker: str) -> list[int]:
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if marker in (entry / "cmdline").read_bytes().decode(errors="replace"):
                    pids.append(int(entry.name))
            except OSError:
                continue
    return [p for p in pids if p != os.getpid()]


def destroy_slot(slot: int) -> None:
    """Remove every trace of a slot: node processes, netns, veths, files. Bounded waits only."""
    directory = LAB_ROOT / f"slot{slot}"
    marker = f"{directory}/nodes/"
    for pid in lab_processes(marker):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + 10
    while lab_processes(marker) and time.monotonic() < deadline:
        time.sleep(0.05)
    netns.destroy(slot)
    if f" {directory} " in Path("/proc/self/mountinfo").read_text():
        subprocess.run(["umount", "--lazy", str(directory)], capture_output=True, timeout=20)
    if directory.exists():
        shutil.rmtree(directory, ignore_errors=True)


def clean_stale() -> list[int]:
    """Destroy labs whose nodes are gone or whose owner crashed (their slot lock is free)."""
    cleaned = []
    if not LAB_ROOT.exists():
        return cleaned
    for slot in range(MAX_SLOTS):
        lock = LAB_ROOT / f"slot{slot}.lock"
        if not lock.exists() and not netns.lab_netns(slot):
            continue
        fd = os.open(lock, os.O_CREAT | os.O_RDWR, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            continue  # a live lab
        try:
            if (LAB_ROOT / f"slot{slot}").exists() or netns.lab_netns(slot) or netns.lab_links(slot):
                destroy_slot(slot)
                cleaned.append(slot)
        finally:
            os.close(fd)
    return cleaned


def _persistent(slot: int) -> bool:
    try:
        return bool(json.loads((LAB_ROOT / f"slot{slot}" / "lab.json").read_text()).get("persistent"))
    except (OSError, ValueError):
        return False


def destroy(everything: bool = False) -> list[int]:
    """`down`: stop the labs `up` started (and stale ones); with `everything`, also labs that running
    test sessions own (other people's, on a shared machine)."""
    slots = clean_stale()
    for slot in range(MAX_SLOTS):
        if (LAB_ROOT / f"slot{slot}").exists() and (everything or _persistent(slot)):
            destroy_slot(slot)
            slots.append(slot)
    return slots
