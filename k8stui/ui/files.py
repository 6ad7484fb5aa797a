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
