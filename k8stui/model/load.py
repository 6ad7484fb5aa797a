"""Read, check and write the cluster file: any input gives a ClusterSpec or a ClusterFileError, no traceback.

`parse_cluster` checks structure (types, enums, unknown keys) through the pydantic models, then the
cross-field rules of `k8stui.model.rules`. Problems name the field the way the file spells it.
"""

from __future__ import annotations

import contextlib
import difflib
import os
import tempfile
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from k8stui.model import rules
from k8stui.model.cluster import (
    ClusterSpec,
    HostPrepSpec,
    KubernetesSpec,
    NetworkSpec,
    NodeSpec,
    SSHOverride,
    SSHSpec,
)
from k8stui.model.problems import ClusterFileError, Problem, join_path, problem

__all__ = [
    "ClusterFileError", "Problem", "dump_cluster", "load_cluster", "parse_cluster", "save_cluster",
    "validate_file", "validate_text",
]

MAX_BYTES = 4 * 1024 * 1024  # thousands of nodes fit in far less
MAX_ITEMS = 200_000  # values after YAML aliases are expanded ("billion laughs" stays cheap)
MAX_DEPTH = 20  # the deepest real key is nodes[i].ssh.user (depth 4)
INT = int  # marks "any list index" in SECTIONS keys
SECTIONS: dict[tuple[Any, ...], type[BaseModel]] = {
    (): ClusterSpec,
    ("kubernetes",): KubernetesSpec,
    ("network",): NetworkSpec,
    ("hostPrep",): HostPrepSpec,
    ("ssh",): SSHSpec,
    ("nodes", INT): NodeSpec,
    ("nodes", INT, "ssh"): SSHOverride,
}
NULL_MEANS_DEFAULT = ("kubernetes", "network", "hostPrep", "ssh", "nodes")
SECRET_HINT = {
    "password": "passwordEnv",
    "sudoPassword": "sudoPasswordEnv",
}


class YamlLoader(yaml.SafeLoader):
    """SafeLoader that reports duplicate keys and keeps numbers with a dot as text.

    YAML 1.1 reads `version: 1.30` as the float 1.3; no field of the file is a float, so a dotted
    number is only ever a version or an address and is safer kept as written.
    """

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[str] = set()
        for key_node, _ in node.value:
            if isinstance(key_node, yaml.ScalarNode) and key_node.tag != "tag:yaml.org,2002:merge":
                if key_node.value in seen:
                    message = f"the key {key_node.value!r} appears twice in one mapping"
                    raise yaml.constructor.ConstructorError(None, None, message, key_node.start_mark)
                seen.add(key_node.value)
        return super().construct_mapping(node, deep=deep)


YamlLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:float"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


# ---------------------------------------------------------------------------------------------- reading


def load_cluster(path: str | os.PathLike[str], *, check_rules: bool = True) -> ClusterSpec:
    """The cluster file at `path`, checked; raises ClusterFileError listing every problem."""
    return parse_cluster(read_text(path), str(path), check_rules=check_rules)


def read_text(path: str | os.PathLike[str]) -> str:
    source = str(path)
    try:
        with open(path, "rb") as handle:
            data = handle.read(MAX_BYTES + 1)
    except OSError as exc:
        raise _file_error(source, f"cannot read {source}: {exc.strerror or exc}") from None
    if len(data) > MAX_BYTES:
        raise _file_error(source, f"{source} is larger than {MAX_BYTES // 2**20} MiB")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        message = f"{source} is not UTF-8 text (invalid byte at offset {exc.start}); is it the right file?"
        raise _file_error(source, message) from None


def _file_error(source: str, message: str) -> ClusterFileError:
    """A problem with the file as a whole (no field to name)."""
    return ClusterFileError([problem("", message)], source)


def parse_cluster(text: str, source: str = "<text>", *, check_rules: bool = True) -> ClusterSpec:
    """A ClusterSpec from YAML text; raises ClusterFileError (structure first, then cross-field rules)."""
    spec = to_spec(parse_yaml(text, source), source)
    if check_rules:
        found = rules.check(spec)
        if found:
            raise ClusterFileError(found, source)
    return spec


def parse_yaml(text: str, source: str) -> Any:
    if len(text) > MAX_BYTES:
        raise _file_error(source, f"{source} is larger than {MAX_BYTES // 2**20} MiB")
    try:
        return yaml.load(text, Loader=YamlLoader)  # YamlLoader is a SafeLoader: no arbitrary objects
    except yaml.MarkedYAMLError as exc:
        raise _file_error(source, f"{source} is not valid YAML: {_yaml_error(exc)}") from None
    except RecursionError:
        raise _file_error(source, f"{source} is nested too deeply") from None
    except (yaml.YAMLError, ValueError, TypeError, OverflowError) as exc:
        # e.g. an integer with more digits than Python converts; the message has no file content.
        raise _file_error(source, f"{source} is not valid YAML: {type(exc).__name__}") from None


def _yaml_error(exc: yaml.MarkedYAMLError) -> str:
    """Line, column and what is wrong, without PyYAML's echo of the line (it could hold a secret)."""
    mark = exc.problem_mark or exc.context_mark
    where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
    what = " ".join(filter(None, [exc.context, exc.problem])) or "syntax error"
    return where + what


def to_spec(data: Any, source: str = "<data>") -> ClusterSpec:
    """A ClusterSpec from already-parsed YAML/JSON data; raises ClusterFileError."""
    found = _shape_problems(data, source)
    if found:
        raise ClusterFileError(found, source)
    data, found = _strip_secrets(data)
    try:
        spec = ClusterSpec.model_validate(data, by_alias=True, by_name=False)
    except ValidationError as exc:
        found += [_from_pydantic(err) for err in exc.errors(include_url=False)]
    if found:
        raise ClusterFileError(found, source)
    return spec


def _shape_problems(data: Any, source: str) -> list[Problem]:
    if data is None:
        return [problem("", f"{source} is empty; `k8stui init` writes a commented example to start from")]
    if not isinstance(data, dict):
        return [problem("", f"{source} must be a mapping (apiVersion: k8stui/v1, kind: Cluster, ...), "
                            f"not {_describe(data)}")]
    return _walk(data)


def _walk(data: dict[Any, Any]) -> list[Problem]:
    """Bounded, iterative walk: size, depth, and mapping keys that are not text."""
    found: list[Problem] = []
    stack: list[tuple[Any, tuple[str | int, ...]]] = [(data, ())]
    items = 0
    while stack:
        value, path = stack.pop()
        items += 1
        if items > MAX_ITEMS or len(path) > MAX_DEPTH:
            what = "too large" if items > MAX_ITEMS else "nested too deeply"
            return [problem(join_path(*path[:2]), f"the file is {what} (recursive YAML aliases?)")]
        if isinstance(value, dict):
            for key, child in value.items():
                if not isinstance(key, str):
                    found.append(problem(join_path(*path), f"keys must be text, not {_describe(key)}"))
                    continue
                stack.append((child, (*path, key)))
        elif isinstance(value, list):
            stack.extend((child, (*path, i)) for i, child in enumerate(value))
    return found


def _strip_secrets(data: dict[str, Any]) -> tuple[dict[str, Any], list[Problem]]:
    """Passwords never live in the file (null is allowed: the documented placeholder).

    Returns a copy without the offending keys (and without null sections), so the rest of the file
    is still checked.
    """
    # A section whose keys are all commented out is null in YAML: it means "all defaults".
    data = {k: v for k, v in data.items() if not (v is None and k in NULL_MEANS_DEFAULT)}
    found: list[Problem] = []
    if "ssh" in data:
        data["ssh"] = _strip_block(data["ssh"], ("ssh",), found)
    if isinstance(data.get("nodes"), list):
        data["nodes"] = [_strip_node(node, i, found) for i, node in enumerate(data["nodes"])]
    return data, found


def _strip_node(node: Any, index: int, found: list[Problem]) -> Any:
    if not isinstance(node, dict) or "ssh" not in node:
        return node
    return {**node, "ssh": _strip_block(node["ssh"], ("nodes", index, "ssh"), found)}


def _strip_block(block: Any, path: tuple[str | int, ...], found: list[Problem]) -> Any:
    if not isinstance(block, dict):
        return block
    secrets = [k for k, v in block.items() if k in SECRET_HINT and v is not None]
    found.extend(problem(join_path(*path, key), _secret_message(key)) for key in secrets)
    return {k: v for k, v in block.items() if k not in secrets}


def _secret_message(key: str) -> str:
    env = SECRET_HINT[key]
    return (f"passwords are never stored in the file; remove {key} and set {env}: NAME "
            f"(the environment variable that holds it), or let k8stui prompt for it")


# ----------------------------------------------------------------------------------- pydantic -> Problem


def _from_pydantic(err: Any) -> Problem:
    loc = tuple(err["loc"])  # the models have no tagged unions: every part is a key or an index
    path = join_path(*loc)
    kind, found = err["type"], _describe(err.get("input"))
    if kind == "extra_forbidden" and loc:
        return problem(path, _unknown_key(loc))
    if kind == "missing":
        return problem(path, "is required")
    if kind == "literal_error":
        return problem(path, f"must be {err['ctx']['expected']}, not {found}")
    if kind == "value_error":
        return problem(path, err["msg"].removeprefix("Value error, "))
    return problem(path, _type_message(kind, err["msg"], found))


def _type_message(kind: str, msg: str, found: str) -> str:
    wanted = {
        "string_type": "text (quote it if it looks like a number or yes/no)",
        "int_type": "a whole number", "int_parsing": "a whole number", "int_from_float": "a whole number",
        "bool_type": "true or false", "bool_parsing": "true or false",
        "model_type": "a mapping (key: value lines)", "dict_type": "a mapping (key: value lines)",
        "model_attributes_type": "a mapping (key: value lines)", "list_type": "a list",
    }
    if kind in wanted:
        return f"expected {wanted[kind]}, found {found}"
    return f"{msg[:1].lower()}{msg[1:]}, found {found}"


def _unknown_key(loc: tuple[Any, ...]) -> str:
    key = str(loc[-1])
    section = tuple(INT if isinstance(p, int) else p for p in loc[:-1])
    model = SECTIONS.get(section)
    if key in SECRET_HINT:
        return _secret_message(key)
    if model is None:
        return "unknown key"
    allowed = [f.alias or n for n, f in model.model_fields.items() if n != "password"]
    guess = _closest(key, allowed)
    hint = f"did you mean {guess!r}?" if guess else f"known keys here: {', '.join(allowed)}"
    return f"unknown key; {hint}"


def _closest(key: str, allowed: list[str]) -> str | None:
    squash = {a.lower(): a for a in allowed}
    plain = key.replace("_", "").replace("-", "").lower()
    if plain in squash:
        return squash[plain]  # internal_ip, internalIp -> internalIP
    matches = difflib.get_close_matches(key.lower(), list(squash), n=1, cutoff=0.6)
    return squash[matches[0]] if matches else None


def _describe(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, (list, tuple)):
        return "a list"
    if isinstance(value, str):
        text = value if len(value) <= 60 else value[:57] + "..."
        return repr(text)
    if isinstance(value, int):
        return "a number" if abs(value) > 10**30 else f"the number {value}"
    return f"a {type(value).__name__}"


# ---------------------------------------------------------------------------------------------- writing


class _Quoted(str):
    """A string always written in double quotes (versions: `1.30` must never become a number)."""


class _Dumper(yaml.SafeDumper):
    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        # Indent list items under their key, as in the documented example.
        super().increase_indent(flow, False)

    def ignore_aliases(self, data: Any) -> bool:
        return True


_Dumper.add_representer(
    _Quoted, lambda dumper, value: dumper.represent_scalar("tag:yaml.org,2002:str", str(value), style='"')
)

HEADER = "# k8stui cluster file (`k8stui init` writes a commented example, `k8stui schema` its schema)\n"
NULLABLE_OVERRIDES = {"identity_file", "password_env", "sudo_password_env", "bastion"}


def dump_cluster(spec: ClusterSpec) -> str:
    """Readable YAML in the documented key order. Passwords are never written."""
    data = _plain(spec)
    data["kubernetes"]["version"] = _Quoted(data["kubernetes"]["version"])
    body = yaml.dump(data, Dumper=_Dumper, sort_keys=False, default_flow_style=False, allow_unicode=True)
    # A blank line before each section makes the file easier to scan.
    lines = [("\n" + ln) if ln.endswith(":") and not ln.startswith(" ") else ln for ln in body.splitlines()]
    return HEADER + "\n".join(lines) + "\n"


def _plain(model: BaseModel) -> dict[str, Any]:
    """Aliased keys; a null is written only where the default is not null (or a node override sets it)."""
    override = isinstance(model, SSHOverride) and not isinstance(model, SSHSpec)
    out: dict[str, Any] = {}
    for name, field in type(model).model_fields.items():
        value = getattr(model, name)
        if field.exclude:
            continue
        explicit = override and name in model.model_fields_set and name in NULLABLE_OVERRIDES
        if value is None and field.default is None and not explicit:
            continue
        out[field.alias or name] = _plain_value(value)
    return out


def _plain_value(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return _plain(value)
    if isinstance(value, list):
        return [_plain_value(v) for v in value]
    return value


def save_cluster(spec: ClusterSpec, path: str | os.PathLike[str]) -> None:
    """Write atomically (temp file + fsync + rename), mode 0644: the file holds no secrets."""
    target = Path(path)
    text = dump_cluster(spec)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


# ------------------------------------------------------------------------------------------- validation


Validation = tuple[ClusterSpec | None, list[Problem], list[Problem]]


def validate_text(text: str, source: str = "<text>") -> Validation:
    """(spec, problems, warnings). The spec is None only when the file's structure is wrong; it is
    returned with cross-field problems too, so the TUI can open a file to fix it."""
    try:
        spec = parse_cluster(text, source, check_rules=False)
    except ClusterFileError as exc:
        return None, exc.problems, []
    return spec, rules.check(spec), rules.warnings(spec)


def validate_file(path: str | os.PathLike[str]) -> Validation:
    """`validate_text` for a file: unreadable, non-UTF-8 or oversized files are problems too."""
    try:
        text = read_text(path)
    except ClusterFileError as exc:
        return None, exc.problems, []
    return validate_text(text, str(path))
