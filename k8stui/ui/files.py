"""Cluster files for the UI: the model's loader, opened without the cross-field rules.

A file whose rules fail (say, overlapping subnets) must still open: the wizard is where the operator
fixes it, and every screen shows the rule problems inline.
"""

from __future__ import annotations

from pathlib import Path

from k8stui.model import load
from k8stui.model.cluster import ClusterSpec

dump_cluster = load.dump_cluster
save_cluster = load.save_cluster


def load_cluster(path: Path) -> ClusterSpec:
    """The spec in `path`; raises ClusterFileError (one Problem per field, or the file as a whole)."""
    return load.load_cluster(path, check_rules=False)


def is_file(path: Path) -> bool:
    """Path.is_file that says False instead of raising on a hostile path (too long, NUL byte)."""
    try:
        return path.is_file()
    except (OSError, ValueError):
        return False


def is_dir(path: Path) -> bool:
    try:
        return path.is_dir()
    except (OSError, ValueError):
        return False
