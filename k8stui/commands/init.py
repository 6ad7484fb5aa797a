"""`k8stui init [-o FILE|-] [--force]`: write the commented example cluster file."""

from __future__ import annotations

import argparse
import sys
from importlib import resources
from pathlib import Path

EXIT_OK, EXIT_BAD_INPUT = 0, 2


def example_text() -> str:
    """The shipped example (package data), a valid file with every section explained."""
    return resources.files("k8stui").joinpath("examples/cluster.yaml").read_text(encoding="utf-8")


def run(args: argparse.Namespace) -> int:
    text = example_text()
    if args.output == "-":
        sys.stdout.write(text)
        return EXIT_OK
    path = Path(args.output)
    try:
        # "x" refuses to clobber an existing file even if it appears between a check and the write.
        with open(path, "w" if args.force else "x", encoding="utf-8") as handle:
            handle.write(text)
    except FileExistsError:
        print(f"{path} already exists; use --force to overwrite it", file=sys.stderr)
        return EXIT_BAD_INPUT
    except OSError as exc:
        print(f"cannot write {path}: {exc.strerror or exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    print(f"wrote {path}: describe your nodes, then run `k8stui validate -f {path}`")
    return EXIT_OK
