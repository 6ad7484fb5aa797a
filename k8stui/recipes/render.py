"""The Jinja2 environment: StrictUndefined, shell quoting by filter, templates shipped in the package."""

from __future__ import annotations

import json
import shlex
from functools import cache
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined

from k8stui.recipes.context import StepContext
from k8stui.recipes.step import Step


def shell_quote(value: object) -> str:
    """`{{ x | q }}`: the only way a value reaches a shell. None is refused rather than rendered."""
    if value is None:
        raise ValueError("refusing to shell-quote None: a template used a value that is not set")
    return shlex.quote(str(value))


def shell_words(values: object) -> str:
    """`{{ list | qw }}`: each item quoted, joined with spaces."""
    return " ".join(shell_quote(v) for v in values)  # type: ignore[attr-defined]


def yaml_scalar(value: object) -> str:
    """`{{ x | y }}`: a safely quoted YAML/JSON scalar (JSON strings are valid YAML)."""
    return json.dumps(value if isinstance(value, (int, float, bool)) or value is None else str(value))


@cache
def environment() -> Environment:
    env = Environment(
        loader=PackageLoader("k8stui", "templates"),
        undefined=StrictUndefined,
        autoescape=False,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        # Shipped templates never change under a running process: skip the stat() per file per render.
        auto_reload=False,
    )
    env.filters["q"] = shell_quote
    env.filters["qw"] = shell_words
    env.filters["y"] = yaml_scalar
    return env


def render(template: str, **variables: Any) -> str:
    return environment().get_template(template).render(**variables)


def render_step(step: Step, index: int, ctx: StepContext) -> str:
    """The exact script the node runs for this step (`<NN>-<id>.sh`)."""
    return render(step.template_name, step=step, index=index, **ctx.template_vars())
