"""A strict YAML subset reader for the lab's kubeadm and kubectl models (nodes run Python without PyYAML).

Covers what Kubernetes manifests and kubeadm configs use: `---` documents, block mappings and sequences
(also `- key: value` items), comments, quoted and plain scalars, flow `[...]` / `{...}` collections and
literal block scalars (`|`, `|-`). Anything else raises YamlError, like a real parser refusing it.
"""

from __future__ import annotations

import json
import re
from typing import Any


class YamlError(ValueError):
    pass


_KEY = re.compile(r"""^("(?:[^"\\]|\\.)*"|'[^']*'|[^\s"'#\[\]{}-][^#]*?|-[^\s][^#]*?)\s*:(?:\s+(.*))?$""")


def load_all(text: str) -> list[Any]:
    docs: list[list[str]] = [[]]
    for line in text.splitlines():
        if re.fullmatch(r"---\s*(#.*)?", line):
            docs.append([])
        elif line.startswith("..."):
            continue
        else:
            docs[-1].append(line.rstrip())
    out = []
    for number, lines in enumerate(docs, 1):
        if any(_meaningful(line) for line in lines):
            try:
                out.append(_Parser(lines).document())
            except YamlError as exc:
                raise YamlError(f"document {number}: {exc}") from None
    return out


def _meaningful(line: str) -> bool:
    stripped = line.strip()
    return bool(stripped) and not stripped.startswith("#")


def _indent(line: str) -> int:
    if "\t" in line[: len(line) - len(line.lstrip())]:
        raise YamlError(f"tab in indentation: {line!r}")
    return len(line) - len(line.lstrip(" "))


def strip_comment(text: str) -> str:
    quote = ""
    for i, char in enumerate(text):
        if quote:
            if char == quote:
                quote = ""
        elif char in "\"'" and (i == 0 or text[i - 1] in " [{,:"):
            quote = char
        elif char == "#" and (i == 0 or text[i - 1] == " "):
            return text[:i].rstrip()
    return text.rstrip()


class _Parser:
    def __init__(self, lines: list[str]) -> None:
        self.lines = lines
        self.i = 0

    def document(self) -> Any:
        self._skip()
        value = self._node(_indent(self.lines[self.i]))
        self._skip()
        if self.i < len(self.lines):
            raise YamlError(f"unexpected line {self.lines[self.i]!r}")
        return value

    def _skip(self) -> None:
        while self.i < len(self.lines) and not _meaningful(self.lines[self.i]):
            self.i += 1

    def _node(self, indent: int) -> Any:
        content = self.lines[self.i][indent:]
        if content == "-" or content.startswith("- "):
            return self._seq(indent)
        if _KEY.match(strip_comment(content)):
            return self._map(indent)
        self.i += 1
        return scalar(strip_comment(content).strip())

    def _map(self, indent: int) -> dict[str, Any]:
        out: dict[str, Any] = {}
        while True:
            self._skip()
            if self.i >= len(self.lines):
                return out
            line = self.lines[self.i]
            here = _indent(line)
            if here < indent or (here == indent and line[here:].startswith("-")):
                return out
            if here > indent:
                raise YamlError(f"bad indentation: {line!r}")
            m = _KEY.match(strip_comment(line[here:]))
            if not m:
                raise YamlError(f"expected 'key: value': {line!r}")
            key = str(scalar(m.group(1)))
            if key in out:
                raise YamlError(f"duplicate key {key!r}")
            self.i += 1
            out[key] = self._value(m.group(2) or "", indent, in_map=True)

    def _value(self, rest: str, indent: int, in_map: bool) -> Any:
        rest = rest.strip()
        if rest in ("|", "|-", "|+", ">", ">-"):
            return self._block(rest, indent)
        if rest:
            return scalar(rest)
        self._skip()
        if self.i >= len(self.lines):
            return None
        line = self.lines[self.i]
        here = _indent(line)
        if here > indent or (in_map and here == indent and line[here:].startswith("-")):
            return self._node(here)
        return None

    def _seq(self, indent: int) -> list[Any]:
        out: list[Any] = []
        while True:
            self._skip()
            if self.i >= len(self.lines):
                return out
            line = self.lines[self.i]
            content = line[indent:] if _indent(line) == indent else ""
            if not (content == "-" or content.startswith("- ")):
                return out
            after = content[1:]
            text = after.lstrip()
            if not strip_comment(text):
                self.i += 1
                out.append(self._value("", indent, in_map=False))
                continue
            inner = indent + 1 + len(after) - len(text)
            if _KEY.match(strip_comment(text)) or text.startswith("- "):
                self.lines[self.i] = " " * inner + text  # the item is a block node at its own column
                out.append(self._node(inner))
            else:
                self.i += 1
                out.append(scalar(strip_comment(text)))

    def _block(self, style: str, indent: int) -> str:
        body: list[str] = []
        block_indent = None
        while self.i < len(self.lines):
            line = self.lines[self.i]
            if line.strip() and _indent(line) <= indent:
                break
            if line.strip() and block_indent is None:
                block_indent = _indent(line)
            body.append(line[block_indent or 0 :] if line.strip() else "")
            self.i += 1
        while body and not body[-1]:
            body.pop()
        joiner = " " if style.startswith(">") else "\n"
        text = joiner.join(body)
        return text if style.endswith("-") else text + "\n"


def scalar(text: str) -> Any:
    text = text.strip()
    if not text:
        return None
    if text[0] in "[{":
        value, end = _flow(text, 0)
        if text[end:].strip():
            raise YamlError(f"trailing text after flow collection: {text!r}")
        return value
    if text[0] == '"':
        if not text.endswith('"') or len(text) < 2:
            raise YamlError(f"unterminated string: {text!r}")
        return json.loads(text)
    if text[0] == "'":
        if not text.endswith("'") or len(text) < 2:
            raise YamlError(f"unterminated string: {text!r}")
        return text[1:-1].replace("''", "'")
    if text in ("true", "True"):
        return True
    if text in ("false", "False"):
        return False
    if text in ("null", "~", "Null"):
        return None
    if re.fullmatch(r"-?\d+", text):
        return int(text)
    if text[0] in "&*!|>%@`":
        raise YamlError(f"unsupported YAML construct: {text!r}")
    return text


def _flow(text: str, i: int) -> tuple[Any, int]:
    opening = text[i]
    closing = "]" if opening == "[" else "}"
    items: list[Any] = []
    mapping: dict[str, Any] = {}
    i += 1
    while True:
        while i < len(text) and text[i] == " ":
            i += 1
        if i >= len(text):
            raise YamlError(f"unterminated flow collection: {text!r}")
        if text[i] == closing:
            return (items if opening == "[" else mapping), i + 1
        value, i = _flow_item(text, i, closing)
        if opening == "{":
            if not (isinstance(value, tuple)):
                raise YamlError(f"expected key: value in {text!r}")
            mapping[str(value[0])] = value[1]
        else:
            items.append(value)
        while i < len(text) and text[i] == " ":
            i += 1
        if i < len(text) and text[i] == ",":
            i += 1


def _flow_item(text: str, i: int, closing: str) -> tuple[Any, int]:
    if text[i] in "[{":
        return _flow(text, i)
    start, quote = i, ""
    while i < len(text):
        char = text[i]
        if quote:
            if char == "\\" and quote == '"':
                i += 1
            elif char == quote:
                quote = ""
        elif char in "\"'":
            quote = char
        elif char in ("," + closing):
            break
        elif char == ":" and closing == "}" and text[i + 1 : i + 2] in (" ", ""):
            key = scalar(text[start:i])
            i += 1
            while text[i] == " ":
                i += 1
            value, i = _flow_item(text, i, closing)
            return (key, value), i
        i += 1
    return scalar(text[start:i]), i
