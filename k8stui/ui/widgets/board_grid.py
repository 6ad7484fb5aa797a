"""The grid of node panes: as many columns as fit, panes as tall as the space allows, scrolling past that.

Arrow keys move the selection by one pane or one row. The selection is a class, not the focus: moving
focus makes Textual refresh every binding and rebuild the footer, too slow while 50 panes stream.
"""

from __future__ import annotations

import time

from textual import events
from textual.binding import Binding
from textual.containers import ScrollableContainer

from k8stui.ui.widgets.node_pane import NodePane

PANE_WIDTH = 44  # a pane narrower than this cuts step names and log lines too short
PANE_HEIGHT = 6  # border + state line + three log lines: 50 nodes still fit a few screens
MAX_PANE_HEIGHT = 16  # a few nodes get taller panes (more log), but not a wall of text


class BoardGrid(ScrollableContainer, can_focus=True):
    """Holds the NodePanes; lays them out for its size; keeps the selected one (class `-selected`)."""

    DEFAULT_CSS = """
    BoardGrid { layout: grid; grid-gutter: 0 1; overflow-x: hidden; overflow-y: auto; height: 1fr; }
    BoardGrid > NodePane { height: 100%; }
    """
    # Priority bindings are run by the App as the key arrives, not after the key has been forwarded
    # through the focused widget's queue: one event-loop round trip instead of several, under load.
    BINDINGS = [
        Binding("left", "move(-1, 0)", "Previous node", show=False, priority=True, id="board.left",
                tooltip="Select the node to the left"),
        Binding("right", "move(1, 0)", "Next node", show=False, priority=True, id="board.right",
                tooltip="Select the node to the right"),
        Binding("up", "move(0, -1)", "Node above", show=False, priority=True, id="board.up",
                tooltip="Select the node above"),
        Binding("down", "move(0, 1)", "Node below", show=False, priority=True, id="board.down",
                tooltip="Select the node below"),
    ]

    _row_height: int = PANE_HEIGHT
    _selected: int = 0
    selected_at: float = 0.0  # monotonic time of the last selection change

    @property
    def panes(self) -> list[NodePane]:
        # A type check, not a CSS query: this runs on every key and flush, and a query matches
        # selectors against each of the 50 children (~0.2 ms a call).
        return [child for child in self.children if isinstance(child, NodePane)]

    @property
    def columns(self) -> int:
        return max(1, (self.size.width or PANE_WIDTH) // PANE_WIDTH)

    def on_resize(self, event: events.Resize) -> None:
        self.relayout()

    def relayout(self) -> None:
        """Columns for the width; row height from the free height when the nodes leave some."""
        columns = self.columns
        rows = max(1, -(-len(self.panes) // columns))
        height = max(PANE_HEIGHT, min(MAX_PANE_HEIGHT, (self.size.height or 0) // rows))
        self.styles.grid_size_columns = columns
        self.styles.grid_rows = str(height)
        self._row_height = height

    def visible_panes(self) -> list[NodePane]:
        """The panes in the scrolled-to window: only those get new lines (the rest catch up later)."""
        panes, columns = self.panes, self.columns
        height = self._row_height
        first = int(self.scroll_y) // height
        last = (int(self.scroll_y) + max(self.size.height, 1) - 1) // height
        return panes[first * columns:(last + 1) * columns]

    @property
    def selected(self) -> NodePane | None:
        panes = self.panes
        return panes[min(self._selected, len(panes) - 1)] if panes else None

    def select(self, index: int, by_user: bool = True) -> None:
        panes = self.panes
        if not panes:
            return
        index = min(max(index, 0), len(panes) - 1)
        panes[min(self._selected, len(panes) - 1)].remove_class("-selected")
        self._selected = index
        if by_user:
            self.selected_at = time.monotonic()
        panes[index].add_class("-selected")
        self.scroll_to_widget(panes[index], animate=False)

    def select_node(self, node: str) -> None:
        self.select(next((i for i, p in enumerate(self.panes) if p.node == node), self._selected))

    def action_move(self, dx: int, dy: int) -> None:
        self.select(self._selected + dx + dy * self.columns)
