"""`k8stui [-f cluster.yaml]`: the guided TUI."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from k8stui.cli import EXIT_BAD_INPUT, EXIT_OK


def run(args: argparse.Namespace) -> int:
    from k8stui.model.problems import ClusterFileError
    from k8stui.ui.app import K8sTuiApp
    from k8stui.ui.files import is_file, load_cluster
    from k8stui.ui.screens.board import install_screen

    path = Path(args.file).expanduser() if getattr(args, "file", None) else None
    spec = None
    if path is not None and is_file(path):
        try:
            spec = load_cluster(path)
        except ClusterFileError as exc:
            print(exc, file=sys.stderr)
            return EXIT_BAD_INPUT
    # A path that does not exist yet starts a new cluster that Save writes there.
    state_dir = Path(args.state_dir).expanduser() if getattr(args, "state_dir", None) else None
    K8sTuiApp(spec, path, state_dir=state_dir, install_screen=install_screen(state_dir)).run()
    return EXIT_OK
