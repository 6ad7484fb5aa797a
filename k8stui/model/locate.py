"""Where a problem's field sits in the file: `nodes[1].role` -> line 14, for messages an editor can follow."""

from __future__ import annotations

import re

import yaml

from k8stui.model.load import MAX_DEPTH, MAX_ITEMS, YamlLoader
from k8stui.model.problems import Problem, join_path

_LAST_PART = re.compile(r"(\.[^.\[]+|\[\d+\])$")


def locate(text: str) -> dict[str, int]:
    """{path: 1-based line} for every key and list item of the YAML text ({} when it does not parse)."""
    try:
        root = yaml.compose(text, Loader=YamlLoader)
    except (yaml.YAMLError, RecursionError, ValueError):
        return {}
    lines: dict[str, int] = {}
    stack: list[tuple[yaml.Node | None, tuple[str | int, ...]]] = [(root, ())]
    seen: set[int] = set()  # an alias points at a node already walked (maybe its own parent)
    while stack and len(seen) < MAX_ITEMS:
        node, path = stack.pop()
        if id(node) in seen or len(path) > MAX_DEPTH:
            continue
        seen.add(id(node))
        for part, child, mark in _children(node):
            lines.setdefault(join_path(*path, part), mark.line + 1)
            stack.append((child, (*path, part)))
    return lines


def _children(node: yaml.Node | None) -> list[tuple[str | int, yaml.Node, yaml.Mark]]:
    if isinstance(node, yaml.MappingNode):
        return [(k.value, v, k.start_mark) for k, v in node.value if isinstance(k, yaml.ScalarNode)]
    if isinstance(node, yaml.SequenceNode):
        return [(i, item, item.start_mark) for i, item in enumerate(node.value)]
    return []


def line_of(lines: dict[str, int], path: str) -> int | None:
    """The line of `path`, else of its nearest parent in the file (a missing key: its mapping)."""
    while path:
        if path in lines:
            return lines[path]
        path = _LAST_PART.sub("", path) if _LAST_PART.search(path) else ""
    return None


def with_line(problem: Problem, lines: dict[str, int]) -> str:
    """`nodes[1].role: must be ... (line 14)`; unchanged when the field is not in the file."""
    line = line_of(lines, problem.path) if problem.path else None
    return f"{problem} (line {line})" if line else str(problem)
