"""The UI's one door to validation: pydantic field checks plus the cross-field rules.

Screens ask this module, never pydantic or `k8stui.model.rules` directly, so the mapping from errors to
form fields lives in one place. Every path is spelled like the cluster file: `network.podSubnet`,
`nodes[1].internalIP`.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from pydantic import BaseModel, ValidationError

from k8stui.model import rules
from k8stui.model.cluster import ClusterSpec, NodeSpec
from k8stui.model.problems import Problem, join_path


def model_errors(model: type[BaseModel], data: dict[str, Any]) -> dict[str, str]:
    """Validate `data` as `model`; return {field alias: first message} (empty when valid)."""
    try:
        model.model_validate(data)
    except ValidationError as exc:
        return _by_field(exc)
    return {}


def _by_field(exc: ValidationError) -> dict[str, str]:
    errors: dict[str, str] = {}
    for error in exc.errors(include_url=False):
        key = join_path(*error["loc"]) if error["loc"] else ""
        errors.setdefault(key, _clean(error["msg"]))
    return errors


def _clean(message: str) -> str:
    """pydantic prefixes custom errors with 'Value error, '; the operator does not need that."""
    return message.removeprefix("Value error, ")


def node_errors(data: dict[str, Any]) -> dict[str, str]:
    """Field errors of one node form; keys are NodeSpec aliases (`name`, `internalIP`, `ssh.user`)."""
    return model_errors(NodeSpec, data)


def problems(spec: ClusterSpec) -> list[Problem]:
    """Everything that blocks an install of `spec`."""
    return rules.check(spec)


def warnings(spec: ClusterSpec) -> list[Problem]:
    """Things that work but deserve a second look."""
    return rules.warnings(spec)


def under(found: Iterable[Problem], prefix: str) -> dict[str, str]:
    """{path: message} of the problems at or below `prefix` (first message per path)."""
    result: dict[str, str] = {}
    for item in found:
        if item.path == prefix or item.path.startswith((prefix + ".", prefix + "[")):
            result.setdefault(item.path, item.message)
    return result
