"""Previous runs under the state root, for the Start screen's "resume" list.

The engine writes `<root>/<cluster>/state.json`; `k8stui.engine.state.RunState` reads it. The state does
not name the cluster file, so a run resumes from a copy in its directory or a path the state recorded.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from k8stui.engine.state import RunState, default_root
from k8stui.model.facts import Facts

OK_STATUSES = {"ok", "skipped"}


@dataclass(frozen=True)
class RunInfo:
    name: str
    directory: Path
    updated: datetime | None
    ok: int
    failed: int
    cluster_file: Path | None

    @property
    def file_label(self) -> str:
        """Short: a copy kept with the run, or the path with the home directory as ~."""
        if self.cluster_file is None:
            return "not found"
        if self.cluster_file.parent == self.directory:
            return f"{self.cluster_file.name} (kept with the run)"
        home = str(Path.home())
        text = str(self.cluster_file)
        return "~" + text[len(home) :] if text.startswith(home + "/") else text


def state_root() -> Path:
    return default_root()


def list_runs(root: Path) -> list[RunInfo]:
    """One entry per cluster directory that has a state.json, newest first."""
    if not root.is_dir():
        return []
    runs = [read_run(d) for d in sorted(root.iterdir()) if (d / "state.json").is_file()]
    return sorted(runs, key=lambda r: r.updated or datetime.min, reverse=True)


def read_run(directory: Path) -> RunInfo:
    """Counts from the engine's RunState; a state file it cannot read still lists, with zero counts."""
    updated = datetime.fromtimestamp((directory / "state.json").stat().st_mtime)
    try:
        state = RunState.open(directory.name, directory.parent)
    except (OSError, ValueError, TypeError, KeyError, AttributeError):
        return RunInfo(directory.name, directory, updated, 0, 0, _cluster_file(directory, {}))
    statuses = [row.status for steps in state.rows.values() for row in steps.values()]
    ok = sum(1 for s in statuses if s in OK_STATUSES)
    failed = sum(1 for s in statuses if s == "failed")
    if state.updated:
        updated = datetime.fromtimestamp(state.updated)
    return RunInfo(directory.name, directory, updated, ok, failed, _cluster_file(directory, _raw(directory)))


def run_facts(root: Path, cluster: str) -> dict[str, Facts]:
    """Facts a previous run gathered for `cluster` (empty when there is no readable state)."""
    if not (root / cluster / "state.json").is_file():
        return {}
    try:
        state = RunState.open(cluster, root)
    except (OSError, ValueError, TypeError, KeyError, AttributeError):
        return {}
    return {node: Facts.from_outputs(values) for node, values in state.facts.items()}


def _raw(directory: Path) -> Any:
    try:
        return json.loads((directory / "state.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


POINTER = "cluster.path"  # written by the TUI when it starts an install: the cluster file's absolute path


def remember_cluster_file(root: Path, cluster: str, path: Path) -> None:
    """Note which file an install used, so Start can resume it later (the engine's state does not say)."""
    directory = root / cluster
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    (directory / POINTER).write_text(str(path.expanduser().resolve()) + "\n", encoding="utf-8")


def _pointed(directory: Path) -> Path | None:
    try:
        target = Path((directory / POINTER).read_text(encoding="utf-8").strip())
    except (OSError, ValueError):
        return None
    return target if target.is_absolute() and target.is_file() else None


def _cluster_file(directory: Path, data: Any) -> Path | None:
    """The cluster file a run used: the file the TUI noted, a copy in the run dir, or a path in the state."""
    if (pointed := _pointed(directory)) is not None:
        return pointed
    for name in ("cluster.yaml", "cluster.yml"):
        if (directory / name).is_file():
            return directory / name
    if isinstance(data, dict):
        for key in ("clusterFile", "cluster_file", "file", "config", "source"):
            value = data.get(key)
            if isinstance(value, str) and Path(value).expanduser().is_file():
                return Path(value).expanduser()
    return None
