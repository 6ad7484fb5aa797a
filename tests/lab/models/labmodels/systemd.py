"""systemctl and journalctl: unit state in files, failures worded like systemd's.

A unit exists when a package registered it (pkgdb) or an admin wrote /etc/systemd/system/<unit>.
Extension point: a module `labmodels/units/<name>.py` (e.g. containerd.py) with `start() -> str | None`
is asked before its unit starts; a returned string fails the start, like a daemon exiting at once.
"""

from __future__ import annotations

import importlib
import os
import time
from typing import Any

from . import state

UNITS = "systemd/units.json"
ALIASES = {"debian": {"sshd.service": "ssh.service", "chronyd.service": "chrony.service"}, "el": {}}
ETC = "/etc/systemd/system"


def _units() -> dict[str, dict[str, Any]]:
    return state.load(UNITS, {})


def register(unit: str, enabled: bool, active: bool, owner: str = "") -> None:
    units = _units()
    old = units.get(unit, {})
    units[unit] = {
        "enabled": old.get("enabled", enabled),
        "active": old.get("active", active),
        "owner": owner,
        "since": time.time(),
    }
    state.save(UNITS, units)
    if active and not old.get("active"):
        state.journal(unit, f"systemd[1]: Started {unit}.")


def unregister(unit: str) -> None:
    units = _units()
    units.pop(unit, None)
    state.save(UNITS, units)


def canonical(name: str) -> str:
    unit = name if "." in name else f"{name}.service"
    return ALIASES.get(state.node().get("family", "debian"), {}).get(unit, unit)


def _masked(unit: str) -> bool:
    return (
        os.path.islink(state.root(f"{ETC}/{unit}"))
        and os.readlink(state.root(f"{ETC}/{unit}")) == "/dev/null"
    )


def info(unit: str) -> dict[str, Any] | None:
    """The unit's state, None when no such unit is loaded."""
    units = _units()
    if unit in units:
        return units[unit]
    if unit.endswith(".swap") and unit in swap_units():
        return {"enabled": True, "active": True, "owner": "fstab"}
    if os.path.isfile(state.root(f"{ETC}/{unit}")) and not _masked(unit):
        return {"enabled": False, "active": False, "owner": "admin"}
    return None


def is_active(name: str) -> bool:
    data = info(canonical(name))
    return bool(data and data.get("active"))


def swap_units() -> list[str]:
    """systemd's .swap unit names for the active swap areas (`/swap.img` -> `swap.img.swap`)."""
    from . import kernel

    return [_escape(entry) + ".swap" for entry in kernel.active_swaps()]


def _escape(p: str) -> str:
    return p.strip("/").replace("-", "\\x2d").replace("/", "-")


def _set(unit: str, **values: Any) -> None:
    units = _units()
    units.setdefault(unit, {"enabled": False, "active": False, "owner": "admin"}).update(values)
    state.save(UNITS, units)


def start(unit: str) -> None:
    if _masked(unit):
        state.fail(f"Failed to start {unit}: Unit {unit} is masked.", 1)
    if info(unit) is None:
        state.fail(f"Failed to start {unit}: Unit {unit} not found.", 5)
    problem = _start_hook(unit)
    if problem:
        _set(unit, active=False, failed=True)
        state.journal(unit, f"{unit.split('.')[0]}[{os.getpid()}]: {problem}")
        state.journal(unit, f"systemd[1]: {unit}: Main process exited, code=exited, status=1/FAILURE")
        state.fail(
            f"Job for {unit} failed because the control process exited with error code.\n"
            f'See "systemctl status {unit}" and "journalctl -xeu {unit}" for details.',
            1,
        )
    _set(unit, active=True, failed=False, since=time.time())
    state.journal(unit, f"systemd[1]: Started {unit}.")


def _start_hook(unit: str) -> str | None:
    base = unit.rsplit(".", 1)[0].replace("-", "_")
    try:
        module = importlib.import_module(f"labmodels.units.{base}")
    except ModuleNotFoundError:
        return None
    return module.start()


def stop(unit: str) -> None:
    if info(unit) is None:
        state.fail(f"Failed to stop {unit}: Unit {unit} not loaded.", 5)
    if is_active(unit):
        state.journal(unit, f"systemd[1]: Stopped {unit}.")
    _set(unit, active=False)


def enable(unit: str) -> None:
    if _masked(unit):
        state.fail(f"Failed to enable unit: Unit file {ETC}/{unit} is masked.", 1)
    data = info(unit)
    if data is None:
        state.fail(f"Failed to enable unit: Unit file {unit} does not exist.", 1)
    if not data.get("enabled"):
        state.err(f"Created symlink {ETC}/multi-user.target.wants/{unit} → /usr/lib/systemd/system/{unit}.")
    _set(unit, enabled=True)


def disable(unit: str) -> None:
    data = info(unit)
    if data is None:
        state.fail(f"Failed to disable unit: Unit file {unit} does not exist.", 1)
    if data.get("enabled"):
        state.err(f'Removed "{ETC}/multi-user.target.wants/{unit}".')
    _set(unit, enabled=False)


def mask(unit: str) -> None:
    target = state.root(f"{ETC}/{unit}")
    if not _masked(unit):
        if os.path.lexists(target):
            os.unlink(target)
        os.makedirs(os.path.dirname(target), exist_ok=True)
        os.symlink("/dev/null", target)
        state.err(f"Created symlink {ETC}/{unit} → /dev/null.")
    _set(unit, active=False, masked=True)


def unmask(unit: str) -> None:
    if _masked(unit):
        os.unlink(state.root(f"{ETC}/{unit}"))
        state.err(f'Removed "{ETC}/{unit}".')
    if info(unit) is not None:
        _set(unit, masked=False)


def enabled_word(unit: str) -> str:
    if _masked(unit):
        return "masked"
    data = info(unit)
    if data is None:
        return ""
    return "enabled" if data.get("enabled") else "disabled"


def active_word(unit: str) -> str:
    data = info(unit)
    if data is None:
        return "inactive"
    if data.get("failed"):
        return "failed"
    return "active" if data.get("active") else "inactive"


def all_units() -> list[str]:
    names = set(_units()) | set(swap_units())
    etc = state.root(ETC)
    if os.path.isdir(etc):
        names |= {n for n in os.listdir(etc) if "." in n and os.path.isfile(os.path.join(etc, n))}
    return sorted(names)


def journal_lines(unit: str) -> list[str]:
    try:
        with open(state.path("journal", unit)) as f:
            return f.read().splitlines()
    except FileNotFoundError:
        return []
