"""The wizard's frame: every step screen edits a copy of the spec and dismisses with a `Nav`.

The App owns the flow (which screen follows which); a step screen only says where to go and hands back
the spec as it left it, so screens stay independent and testable one by one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Footer, Header

from k8stui.model.cluster import ClusterSpec
from k8stui.ui.widgets.step_bar import STEPS, StepBar


@dataclass(frozen=True)
class Nav:
    """Where the wizard goes next ("start" or a step name), with the spec as the screen left it."""

    spec: ClusterSpec
    to: str


class WizardScreen(Screen[Nav]):
    """Base of Inventory, Network, Version & mirrors and Review."""

    STEP: ClassVar[str] = ""
    BINDINGS = [
        Binding("ctrl+n", "next", "Next", id="wizard.next", tooltip="Go to the next step"),
        Binding("escape", "back", "Back", id="wizard.back", tooltip="Go to the previous step"),
    ]

    def __init__(self, spec: ClusterSpec) -> None:
        super().__init__(classes="wizard")
        # A copy: leaving with "back" after a half-typed field must not corrupt the App's spec.
        self.spec = spec.model_copy(deep=True)

    def on_screen_resume(self) -> None:
        self.sub_title = f"cluster {self.spec.name}"

    def compose_frame(self) -> ComposeResult:
        yield Header()
        yield StepBar(self.STEP)

    def compose_footer(self) -> ComposeResult:
        yield Footer()

    def blocker(self) -> str | None:
        """Why the wizard cannot move forward from here (None when it can)."""
        return None

    def action_next(self) -> None:
        if (why := self.blocker()) is not None:
            # markup=False: the message may quote what the operator typed, brackets included.
            self.notify(why, title="Cannot continue", severity="error", markup=False)
            return
        index = STEPS.index(self.STEP)
        if index + 1 < len(STEPS):
            self.leave(STEPS[index + 1])

    def action_back(self) -> None:
        index = STEPS.index(self.STEP)
        self.leave(STEPS[index - 1] if index > 0 else "start")

    def leave(self, to: str) -> None:
        """Hand the spec back to the App and go to `to` (used by the palette's "Go to" too)."""
        self.dismiss(Nav(self.spec, to))
