"""Cobra-style flag parsing for the kubeadm and kubectl models: unknown flags fail loudly."""

from __future__ import annotations

from . import state


def parse(
    args: list[str], valued: set[str], switches: set[str], short: dict[str, str] | None = None
) -> tuple[dict[str, str], list[str]]:
    """(flags, positional). `--a=b`, `--a b`, `-n b` (via `short`); repeated flags keep the last value
    except `--ignore-preflight-errors`, which accumulates comma-separated."""
    short = short or {}
    opts: dict[str, str] = {}
    rest: list[str] = []
    i = 0
    while i < len(args):
        arg = args[i]
        if arg == "--":
            rest += args[i + 1 :]
            break
        if arg.startswith("-") and arg != "-":
            name, eq, value = arg.partition("=")
            name = short.get(name, name)
            if name in switches:
                opts[name] = value if eq else "true"
            elif name in valued:
                if not eq:
                    i += 1
                    if i >= len(args):
                        state.fail(f"flag needs an argument: {arg}", 1)
                    value = args[i]
                if name == "--ignore-preflight-errors" and name in opts:
                    value = f"{opts[name]},{value}"
                opts[name] = value
            else:
                state.fail(
                    f"unknown flag: {name}\nTo see the stack trace of this error execute with --v=5 or higher"
                    if name.startswith("--")
                    else f"unknown shorthand flag: {name[1:2]!r} in {arg}",
                    1,
                )
        else:
            rest.append(arg)
        i += 1
    return opts, rest
