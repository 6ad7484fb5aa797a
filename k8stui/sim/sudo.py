"""SIMULATION: sudo and file permissions as a non-root login user meets them on a node.

Root needs no sudo. A non-root user gets `Permission denied` under /var/lib/k8stui without sudo;
with sudo and no password configured (NOPASSWD) it simply works; with a password, `sudo -n` says
"a password is required", plain `sudo` says "a terminal is required", and `sudo -S` reads the first
stdin line and compares it, answering "Sorry, try again." when wrong, as real sudo does.
"""

from __future__ import annotations

from dataclasses import dataclass

from k8stui.recipes.protocol import REMOTE_DIR
from k8stui.sim.commands import Command, Exec, Install, Upload

_ARG_FLAGS = {"-p", "-u", "-g", "-C", "-h", "-U", "-r", "-t", "-D"}
EXIT_SUDO_FAILED = 1


@dataclass(frozen=True)
class SudoUse:
    """How a command line invokes sudo (only a leading `sudo` counts)."""

    used: bool = False
    stdin: bool = False  # -S: the password comes on stdin
    non_interactive: bool = False  # -n: fail instead of prompting


def sudo_use(words: list[str]) -> SudoUse:
    if not words or words[0] != "sudo":
        return SudoUse()
    flags: set[str] = set()
    i = 1
    while i < len(words) and words[i].startswith("-") and words[i] != "--":
        word = words[i]
        if word.startswith("--"):
            flags.add(word)
        else:
            flags.update(f"-{c}" for c in word[1:])  # bundled short flags: -nS
        i += 2 if word in _ARG_FLAGS else 1
    return SudoUse(True, "-S" in flags or "--stdin" in flags, "-n" in flags or "--non-interactive" in flags)


def refusal(use: SudoUse, password: str | None, given: str | None) -> str | None:
    """sudo's own complaint for this attempt, or None when it lets the command run."""
    if password is None:
        return None
    if use.non_interactive:
        return "sudo: a password is required"
    if not use.stdin:
        return ("sudo: a terminal is required to read the password; either use the -S option to read "
                "from standard input or configure an askpass helper")
    if not given:
        return "sudo: no password was provided"
    if given != password:
        return "Sorry, try again.\nsudo: 1 incorrect password attempt"
    return None


def denied(action: Command) -> str | None:
    """What a non-root user without sudo gets for touching the root-owned step directory."""
    if isinstance(action, Upload) and action.path.startswith(REMOTE_DIR):
        return f"mkdir: cannot create directory '{REMOTE_DIR}': Permission denied"
    if isinstance(action, Exec) and action.path.startswith(REMOTE_DIR):
        return f"bash: {action.path}: Permission denied"
    if isinstance(action, Install) and action.target.startswith(REMOTE_DIR):
        return f"install: cannot create regular file '{action.target}': Permission denied"
    return None
