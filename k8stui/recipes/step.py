"""The unit of the install: a small, declarative step with a check, an apply and diagnostics."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from enum import Enum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from k8stui.recipes.context import StepContext


class Target(str, Enum):
    """Which nodes a step runs on."""

    ALL = "all"
    CONTROL_PLANES = "control-planes"
    FIRST_CONTROL_PLANE = "first-control-plane"
    OTHER_CONTROL_PLANES = "other-control-planes"
    WORKERS = "workers"


class Kind(str, Enum):
    REMOTE = "remote"  # a rendered bash script run on the node over SSH
    LOCAL = "local"  # decided on the jump host from what other steps published (e.g. preflight)


@dataclass(frozen=True)
class Need:
    """A step that must have finished (ok or skipped) before this one starts.

    `on` names where: "self" (this node), or a Target meaning *every* node of that group
    (a group with no nodes is satisfied at once).
    """

    step: str
    on: str = "self"

    @classmethod
    def parse(cls, text: str) -> Need:
        step, _, on = text.partition("@")
        return cls(step, on or "self")

    def __str__(self) -> str:
        return self.step if self.on == "self" else f"{self.step}@{self.on}"


@dataclass(frozen=True)
class Step:
    """One step of the catalog. `template` is `steps/<id>.sh.j2` unless given."""

    id: str
    title: str
    targets: Target = Target.ALL
    needs: tuple[Need, ...] = ()
    timeout: float = 300.0
    retry_safe: bool = True
    diagnostics: tuple[str, ...] = ()
    when: Callable[[StepContext], bool] | None = None
    kind: Kind = Kind.REMOTE
    changes: bool = True  # False for read-only steps (facts): dry run runs them in full
    template: str = ""
    outputs: tuple[str, ...] = ()  # names this step publishes (::k8stui-output:: name=value)
    # Every node publishes its own value of the same names: stored as `name@node` (the port matrix).
    node_outputs: bool = False
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def template_name(self) -> str:
        return self.template or f"steps/{self.id}.sh.j2"

    def applies(self, ctx: StepContext) -> bool:
        return self.when is None or self.when(ctx)
