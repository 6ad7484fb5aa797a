"""`k8stui schema`: the cluster file's JSON Schema (camelCase keys, as in the file)."""

from __future__ import annotations

import argparse
import json
from typing import Any

from k8stui.model.cluster import ClusterSpec

DIALECT = "https://json-schema.org/draft/2020-12/schema"


def cluster_schema() -> dict[str, Any]:
    """The schema of what a file may hold: `password` is left out, since it never lives in a file."""
    schema = ClusterSpec.model_json_schema(by_alias=True, mode="validation")
    for definition in schema.get("$defs", {}).values():
        definition.get("properties", {}).pop("password", None)
    schema.pop("title", None)
    return {"$schema": DIALECT, "title": "k8stui cluster file", **schema}


def run(args: argparse.Namespace) -> int:
    print(json.dumps(cluster_schema(), indent=2))
    return 0
