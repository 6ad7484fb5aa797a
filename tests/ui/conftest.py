"""UI test fixtures: no cursor blink (stable snapshots), sample specs, facts and a fake probe."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from textual.widgets import Input, TextArea
from wizard_support import four_nodes

from k8stui.model.cluster import ClusterSpec
from k8stui.ui.files import save_cluster


@pytest.fixture(autouse=True)
def no_cursor_blink(monkeypatch: pytest.MonkeyPatch) -> None:
    """The cursor stays visible: a blink timer would make snapshots depend on timing."""
    monkeypatch.setattr(Input, "_toggle_cursor", lambda self: None)
    monkeypatch.setattr(TextArea, "_toggle_cursor_blink_visible", lambda self: None)


@pytest.fixture
def spec() -> ClusterSpec:
    return four_nodes()


@pytest.fixture
def state_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A state root holding one previous run with fixed times, as the engine writes it."""
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    root = tmp_path / "state"
    run = root / "lab"
    run.mkdir(parents=True)
    rows = {
        "cp-1": {"facts": {"status": "ok"}, "init": {"status": "failed"}},
        "node-1": {"facts": {"status": "ok"}},
    }
    facts = {"cp-1": {"hostname": "cp-1", "os_id": "debian", "os_version": "12", "cpus": "2"}}
    data = {"version": 1, "cluster": "lab", "updated": 1_790_000_000.0, "rows": rows, "facts": facts}
    (run / "state.json").write_text(json.dumps(data))
    save_cluster(four_nodes(), run / "cluster.yaml")
    return root
