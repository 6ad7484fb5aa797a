"""The wizard's breadcrumb: where you are, and a click (or the palette) to jump elsewhere."""

from __future__ import annotations

from textual.widgets import Static

SEPARATOR = "\u203a"  # a single right-pointing angle quote
STEPS = ("inventory", "network", "versions", "review")
TITLES = {
    "start": "Start",
    "inventory": "Inventory",
    "network": "Network",
    "versions": "Version & mirrors",
    "review": "Review",
}


class StepBar(Static):
    """`1 Inventory > 2 Network > 3 Version & mirrors > 4 Review`, the current step highlighted."""

    def __init__(self, current: str) -> None:
        super().__init__(id="step-bar")
        self.current = current

    def render(self) -> str:
        parts = []
        for number, step in enumerate(STEPS, start=1):
            label = f" {number} {TITLES[step]} "
            if step == self.current:
                parts.append(f"[reverse b]{label}[/]")
            else:
                # A click action so the mouse can jump; the palette offers the same "Go to" commands.
                parts.append(f"[@click=app.goto('{step}')]{label}[/]")
        return f" [dim]{SEPARATOR}[/] ".join(parts)
