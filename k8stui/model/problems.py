"""What is wrong with a cluster file: one `Problem` per field, and the error that carries them.

A problem's path is written the way the file spells it (camelCase keys, 0-based list indices in
brackets), e.g. `nodes[1].internalIP`, so an operator can find the line to fix.
"""

from __future__ import annotations

from typing import NamedTuple

MAX_MESSAGE = 400  # a message may quote a user's value; never let a huge value flood the terminal


class Problem(NamedTuple):
    path: str  # "" when the problem is about the file as a whole
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}" if self.path else self.message


def problem(path: str, message: str) -> Problem:
    """A Problem whose message is capped in length."""
    if len(message) > MAX_MESSAGE:
        message = message[: MAX_MESSAGE - 3] + "..."
    return Problem(path, message)


def join_path(*parts: str | int) -> str:
    """`("nodes", 1, "internalIP")` -> `nodes[1].internalIP`; odd keys are quoted."""
    text = ""
    for part in parts:
        if isinstance(part, int):
            text += f"[{part}]"
            continue
        key = part if part.replace("-", "").replace("_", "").isalnum() else repr(part)
        text += f".{key}" if text else key
    return text


class ClusterFileError(Exception):
    """A cluster file that cannot be used; `problems` says why, one entry per field."""

    def __init__(self, problems: list[Problem], source: str = "") -> None:
        self.problems = list(problems)
        self.source = source
        super().__init__(str(self))

    def __str__(self) -> str:
        head = f"{self.source}: " if self.source else ""
        count = len(self.problems)
        lines = [f"{head}{count} problem{'s' if count != 1 else ''}"]
        return "\n".join(lines + [f"  {p}" for p in self.problems])
