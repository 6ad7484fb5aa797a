"""kubectl's JSONPath templates, as far as k8stui's recipes use them: literal text, {"\\n"}, {.a.b},
{.a[0]}, {.a[*]}, {.a[?(@.k=="v")].b} and {range ...}{end} (missing keys print nothing, as in kubectl get)."""

from __future__ import annotations

import json
import re
from typing import Any

_SEGMENT = re.compile(r'\.([A-Za-z0-9_-]+)|\[(\*|\d+)\]|\[\?\(@\.([A-Za-z0-9_.-]+)\s*==\s*"([^"]*)"\)\]')


class JsonPathError(ValueError):
    pass


def _tokens(template: str) -> list[tuple[str, str]]:
    out, i = [], 0
    while i < len(template):
        start = template.find("{", i)
        if start < 0:
            out.append(("text", template[i:]))
            break
        if start > i:
            out.append(("text", template[i:start]))
        end = template.find("}", start)
        while end > 0 and template[start:end].count('"') % 2 == 1:  # a } inside a quoted literal
            end = template.find("}", end + 1)
        if end < 0:
            raise JsonPathError(f"unclosed action in template {template!r}")
        out.append(("expr", template[start + 1 : end].strip()))
        i = end + 1
    return out


def select(obj: Any, path: str) -> list[Any]:
    path = path.strip()
    if path in ("", "."):
        return [obj]
    if not path.startswith((".", "[")):
        raise JsonPathError(f"unrecognized identifier {path}")
    current, pos = [obj], 0
    while pos < len(path):
        m = _SEGMENT.match(path, pos)
        if not m:
            raise JsonPathError(f"unrecognized character in action: {path[pos:]!r}")
        pos = m.end()
        nxt: list[Any] = []
        for item in current:
            if m.group(1) is not None:
                if isinstance(item, dict) and m.group(1) in item:
                    nxt.append(item[m.group(1)])
            elif m.group(2) == "*":
                nxt.extend(
                    item if isinstance(item, list) else (item.values() if isinstance(item, dict) else [])
                )
            elif m.group(2) is not None:
                if isinstance(item, list) and int(m.group(2)) < len(item):
                    nxt.append(item[int(m.group(2))])
            elif isinstance(item, list):
                nxt.extend(x for x in item if _field(x, m.group(3)) == m.group(4))
        current = nxt
    return current


def _field(obj: Any, dotted: str) -> Any:
    for part in dotted.split("."):
        if not isinstance(obj, dict):
            return None
        obj = obj.get(part)
    return obj


def _show(value: Any) -> str:
    if isinstance(value, (dict, list)):
        return json.dumps(value)
    if isinstance(value, bool):
        return str(value).lower()
    return "" if value is None else str(value)


def render(template: str, obj: Any) -> str:
    tokens = _tokens(template)
    out, _ = _run(tokens, 0, obj)
    return out


def _run(tokens: list[tuple[str, str]], i: int, obj: Any) -> tuple[str, int]:
    out = []
    while i < len(tokens):
        kind, text = tokens[i]
        if kind == "text":
            out.append(text)
        elif text == "end":
            return "".join(out), i
        elif text.startswith("range "):
            items = select(obj, text[6:])
            body_end = i
            for item in items:
                part, body_end = _run(tokens, i + 1, item)
                out.append(part)
            if not items:
                _, body_end = _run(tokens, i + 1, {})
            i = body_end
        elif text.startswith('"'):
            out.append(json.loads(text))
        else:
            out.append(" ".join(_show(v) for v in select(obj, text)))
        i += 1
    return "".join(out), i
