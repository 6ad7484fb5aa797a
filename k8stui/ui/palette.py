"""Command palette: every wizard step, save, and every binding of the screen the palette opened over."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from functools import partial
from typing import TYPE_CHECKING, cast

from textual.binding import Binding
from textual.command import DiscoveryHit, Hit, Hits, Provider
from textual.screen import Screen

from k8stui.ui.widgets.step_bar import STEPS, TITLES

if TYPE_CHECKING:
    from k8stui.ui.app import K8sTuiApp

Command = tuple[str, str, Callable[[], object]]


def screen_bindings(screen: Screen[object]) -> Iterator[Binding]:
    """Bindings a screen class declares (its own and inherited), each action once."""
    seen: set[str] = set()
    for cls in type(screen).__mro__:
        for item in cls.__dict__.get("BINDINGS", []):
            binding = item if isinstance(item, Binding) else Binding(*item)
            if binding.description and binding.action not in seen:
                seen.add(binding.action)
                yield binding


class WizardCommands(Provider):
    """Go to a step, save, and the current screen's actions (named as in the footer)."""

    def commands(self) -> list[Command]:
        app = cast("K8sTuiApp", self.app)
        found: list[Command] = [
            (f"Go to {TITLES[step]}", "Wizard step", partial(app.action_goto, step))
            for step in ("start", *STEPS)
        ]
        found.append(("Save cluster file", "Write the cluster file (ctrl+s)", app.action_save))
        found.append(("Save cluster file as...", "Choose where to write it", app.action_save_as))
        screen = self.screen
        prefix = f"{screen.title}: " if screen.title else ""
        for binding in screen_bindings(screen):
            if screen.check_action(binding.action, ()) is False:
                continue  # the screen hides this action here (e.g. Next on the last step)
            help_text = f"{binding.tooltip or binding.description} (key: {binding.key})"
            action = partial(screen.run_action, binding.action)
            found.append((prefix + binding.description, help_text, action))
        return found

    async def discover(self) -> Hits:
        for name, help_text, callback in self.commands():
            yield DiscoveryHit(name, callback, help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for name, help_text, callback in self.commands():
            if (score := matcher.match(name)) > 0:
                yield Hit(score, matcher.highlight(name), callback, help=help_text)
