"""Run state: per cluster, node x step rows, published outputs and facts, on disk.

Layout under the state root (default `$XDG_STATE_HOME/k8stui`, else `~/.local/state/k8stui`):
`<root>/<cluster>/state.json` (0600), `logs/<node>.log`, `kubeconfig`, `lock`; directories 0700.
Every write is atomic (tmp + fsync + rename + fsync dir), so a kill -9 at any moment leaves either
the previous or the next complete state, and a new `apply` resumes from it.
"""

from __future__ import annotations

import base64
import json
import os
import time
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from k8stui.engine.events import Status, StepResult

STATE_VERSION = 1
# Published outputs that stay out of state.json: the kubeconfig goes to its own 0600 file.
NOT_STORED = frozenset({"kubeconfig_b64"})


def default_root() -> Path:
    xdg = os.environ.get("XDG_STATE_HOME")
    base = Path(xdg) if xdg else Path.home() / ".local" / "state"
    return base / "k8stui"


def ensure_private_dir(path: Path) -> Path:
    """Create `path` (and parents) and make it 0700: logs and outputs must not be world-readable."""
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.chmod(path, 0o700)
    return path


def write_private(path: Path, data: bytes) -> None:
    """Atomically replace `path` with `data`, mode 0600, durable across a crash."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


@dataclass
class StepRow:
    """One node x step cell as the last run left it."""

    status: str = Status.PENDING.value
    started: float | None = None
    finished: float | None = None
    exit_code: int | None = None
    log_offset: int | None = None  # byte offset in the node's log where this step's output starts
    message: str = ""

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> StepRow:
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})

    @property
    def state(self) -> Status:
        return Status(self.status)


class RunState:
    """The state of one cluster's runs. Mutate through the methods, then `save()` (or `snapshot()`)."""

    def __init__(self, cluster: str, directory: Path) -> None:
        self.cluster = cluster
        self.dir = directory
        self.rows: dict[str, dict[str, StepRow]] = {}
        self.outputs: dict[str, str] = {}
        self.facts: dict[str, dict[str, str]] = {}  # node -> the facts step's published values
        self.kubeconfig: str | None = None
        self.updated: float | None = None

    @classmethod
    def open(cls, cluster_name: str, root: Path | None = None) -> RunState:
        """Load (or start) the state of `cluster_name`; creates the 0700 directories."""
        directory = ensure_private_dir(Path(root or default_root()) / cluster_name)
        ensure_private_dir(directory / "logs")
        state = cls(cluster_name, directory)
        if state.path.exists():
            state._load(json.loads(state.path.read_text()))
        return state

    @property
    def path(self) -> Path:
        return self.dir / "state.json"

    @property
    def logs_dir(self) -> Path:
        return self.dir / "logs"

    @property
    def lock_path(self) -> Path:
        return self.dir / "lock"

    @property
    def kubeconfig_path(self) -> Path:
        return self.dir / "kubeconfig"

    def log_path(self, node: str) -> Path:
        return self.logs_dir / f"{node}.log"

    def row(self, node: str, step: str) -> StepRow | None:
        return self.rows.get(node, {}).get(step)

    def status(self, node: str, step: str) -> Status | None:
        row = self.row(node, step)
        return row.state if row else None

    def mark_running(self, node: str, step: str, started: float, log_offset: int | None) -> None:
        self.rows.setdefault(node, {})[step] = StepRow(Status.RUNNING.value, started, None, None, log_offset)

    def record(self, result: StepResult, log_offset: int | None = None) -> None:
        """Store a final result; keeps the log offset of the running row when none is given."""
        old = self.row(result.node, result.step)
        offset = log_offset if log_offset is not None else (old.log_offset if old else None)
        self.rows.setdefault(result.node, {})[result.step] = StepRow(
            result.status.value, result.started, result.finished, result.exit_code, offset, result.message,
        )

    def set_output(self, name: str, value: str) -> None:
        """Keep a published value; `kubeconfig_b64` is decoded into its own 0600 file instead."""
        if name == "kubeconfig_b64":
            write_private(self.kubeconfig_path, base64.b64decode(value))
            self.kubeconfig = str(self.kubeconfig_path)
            return
        self.outputs[name] = value

    def set_facts(self, node: str, values: dict[str, str]) -> None:
        self.facts[node] = dict(values)

    def snapshot(self) -> bytes:
        """The JSON to write; cheap enough to take on every transition.

        No `indent` and no `dataclasses.asdict`: either one sends `json` down its pure-Python path
        (asdict deep-copies every row), which made a 50-node snapshot ~30 ms on the event loop; the
        C encoder on the rows' own `__dict__` takes ~4 ms. Rows are replaced, never mutated, so
        sharing their dicts with the encoder is safe.
        """
        self.updated = time.time()
        data = {
            "version": STATE_VERSION,
            "cluster": self.cluster,
            "updated": self.updated,
            "rows": {n: {s: vars(r) for s, r in steps.items()} for n, steps in self.rows.items()},
            "outputs": {k: v for k, v in self.outputs.items() if k not in NOT_STORED},
            "facts": self.facts,
            "kubeconfig": self.kubeconfig,
        }
        return json.dumps(data, sort_keys=True).encode()

    def write(self, data: bytes) -> None:
        write_private(self.path, data)

    def save(self) -> None:
        self.write(self.snapshot())

    def _load(self, data: dict[str, Any]) -> None:
        rows = data.get("rows", {})
        self.rows = {n: {s: StepRow.from_dict(r) for s, r in steps.items()} for n, steps in rows.items()}
        self.outputs = {k: str(v) for k, v in data.get("outputs", {}).items()}
        self.facts = {n: dict(v) for n, v in data.get("facts", {}).items()}
        self.kubeconfig = data.get("kubeconfig")
        self.updated = data.get("updated")
