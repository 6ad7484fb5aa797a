"""SIMULATION: what a simulated node understands of an exec command line.

The real client (k8stui.engine.ssh) wraps its commands in umask/mkdir/mv/sudo/setsid/timeout and
pidfile bookkeeping; the simulator only needs the intent, so it classifies a command liberally by
what it contains: an upload (`cat >` into `<NN>-<step>.sh`), a run of such a script with a mode word,
a kill of a step's pidfile, a staged `install`, a diagnostics command, or a few harmless probes.
Anything else is `Unknown`, answered with exit 127 so mistakes are loud.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass

MODES = ("run", "check", "apply", "publish")
# A step script path: starts at a word boundary (the lookbehind halves the scan of long commands).
SCRIPT_RE = re.compile(r"(?<![^\s'\";&|<>()])[^\s'\";&|<>()]*?\d{2}-[a-z0-9][a-z0-9-]*\.sh(?![\w.-])")
_MODE_AFTER_RE = re.compile(r"\d{2}-[a-z0-9][a-z0-9-]*\.sh['\"]?\s+['\"]?(run|check|apply|publish)\b")
_PIDFILE_RE = re.compile(r"([A-Za-z0-9][A-Za-z0-9._-]*\.pid)\b")
# The engine's wrapper script (k8stui.engine.remote.WRAPPER) prints this marker; its positional
# arguments are `k8stui RUNDIR PIDNAME SECONDS SRC DST ARGV...`.
STARTED = "::k8stui-started::"
_UPLOAD_RE = re.compile(r"\bcat\s*>")
# `kill`/`pkill` in command position (start, after ; & | ( { or a newline, or after sudo and its flags),
# so `echo kill` or `grep kill` never cancels anything.
_KILL_RE = re.compile(r"(?:^|[;&|({\n]|\bsudo(?:\s+-\S+)*)\s*(?:kill|pkill)\s")
_WORD_RE = re.compile(r"""(?:[^\s'"\\]+|'[^']*'|"(?:[^"\\]|\\.)*"|\\.)+""", re.S)
_PIECE_RE = re.compile(r"""'([^']*)'|"((?:[^"\\]|\\.)*)"|\\(.)|([^'"\\]+)""", re.S)
_DQ_ESCAPE_RE = re.compile(r"""\\([\\"$`])""")
_WRAPPERS = {"sudo", "setsid", "nohup", "env", "exec", "nice", "stdbuf"}
_DURATION_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}


@dataclass(frozen=True)
class Upload:
    path: str  # where the script ends up (the last `NN-<step>.sh` path of the command)


@dataclass(frozen=True)
class Install:
    source: str
    target: str


@dataclass(frozen=True)
class Exec:
    path: str
    mode: str
    timeout: float | None  # from a `timeout [opts] DURATION` wrapper
    staged_from: str | None = None  # `sudo install SRC PATH && ... PATH run` in one command
    pid: str | None = None  # the pidfile name the engine's wrapper records (for kills)
    started: bool = False  # the engine's wrapper prints STARTED before running


@dataclass(frozen=True)
class Kill:
    pidfiles: tuple[str, ...]  # pidfile names (`15-init-1a2b3c4d.pid`) named by the command
    scripts: tuple[str, ...]  # or step script names (`pkill -f 15-init.sh`); neither: kill all


@dataclass(frozen=True)
class Plain:
    """Anything else: diagnostics, probes, or unknown (decided by the diagnostics module)."""

    words: tuple[str, ...]
    text: str
    started: bool = False
    timeout: float | None = None


Command = Upload | Install | Exec | Kill | Plain


def split(text: str) -> list[str]:
    """POSIX shell words (quotes and backslashes as `shlex.split` treats them), by regex: shlex reads
    char by char in Python and cost ~1 ms on the engine's long wrapper commands, per session."""
    words, end = [], 0
    for match in _WORD_RE.finditer(text):
        if text[end:match.start()].strip():
            return text.split()  # an unbalanced quote: no shell would run this either
        words.append("".join(_unquote(piece) for piece in _PIECE_RE.finditer(match.group(0))))
        end = match.end()
    return words if not text[end:].strip() else text.split()


def _unquote(piece: re.Match[str]) -> str:
    single, double, escaped, bare = piece.groups()
    if single is not None:
        return single
    if double is not None:
        return _DQ_ESCAPE_RE.sub(r"\1", double)
    return escaped if escaped is not None else bare


def strip_wrappers(words: list[str]) -> list[str]:
    """Drop `sudo -n -S -p ''`, `timeout 30`, `env X=Y`, `setsid` ... in front of a command."""
    i = 0
    while i < len(words):
        word = words[i]
        if word == "timeout":
            i = _after_timeout(words, i) + 1
        elif word in _WRAPPERS:
            i += 1
            while i < len(words) and words[i].startswith("-"):
                i += 2 if words[i] in ("-p", "-u", "-g") else 1
        elif re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*=\S*", word):
            i += 1
        else:
            break
    return words[i:]


def _after_timeout(words: list[str], i: int) -> int:
    """Index of the DURATION word of the `timeout` at words[i]."""
    j = i + 1
    while j < len(words) and words[j].startswith("-"):
        j += 2 if words[j] in ("-k", "-s", "--kill-after", "--signal") else 1
    return j


def _seconds(text: str) -> float | None:
    match = re.fullmatch(r"(\d+(?:\.\d+)?)([smhd]?)", text)
    return float(match.group(1)) * _DURATION_UNITS[match.group(2)] if match else None


def parse_timeout(words: list[str]) -> float | None:
    for i, word in enumerate(words):
        if word == "timeout":
            j = _after_timeout(words, i)
            return _seconds(words[j]) if j < len(words) else None
    return None


def _mode(text: str, words: list[str]) -> str:
    match = _MODE_AFTER_RE.search(text)
    if match:
        return match.group(1)
    return next((w for w in words if w in MODES), "run")


def classify(text: str) -> Command:
    scripts = SCRIPT_RE.findall(text)
    if _UPLOAD_RE.search(text) and scripts:
        return Upload(scripts[-1])
    if _KILL_RE.search(text):
        names = tuple(script_name(p) for p in _PIDFILE_RE.findall(text))
        return Kill(names, tuple(script_name(p) for p in scripts))
    words = split(text)
    wrapped = _wrapped(words)
    if wrapped is not None:
        return wrapped
    if len(scripts) >= 2 and re.search(r"\b(install|cp|mv)\b", text):
        if not _MODE_AFTER_RE.search(text):
            return Install(scripts[0], scripts[-1])
        return Exec(scripts[-1], _mode(text, words), parse_timeout(words), staged_from=scripts[0])
    if scripts:
        return Exec(scripts[-1], _mode(text, words), parse_timeout(words))
    return Plain(tuple(words), text)


def _wrapped(words: list[str]) -> Exec | Plain | None:
    """The engine's `bash -c WRAPPER k8stui RUNDIR PIDNAME SECONDS SRC DST ARGV...` shape."""
    at = next((i for i, w in enumerate(words) if STARTED in w), None)
    if at is None or len(words) < at + 8:
        return None
    pid, limit, src, argv = words[at + 3], _seconds(words[at + 4]), words[at + 5], words[at + 7:]
    if argv[:2] == ["bash", "-c"] and len(argv) > 2:
        return Plain(tuple(split(argv[2])), argv[2], started=True, timeout=limit)
    scripts = [w for w in argv if SCRIPT_RE.fullmatch(w)]
    if not scripts:
        return Plain(tuple(argv), shlex.join(argv), started=True, timeout=limit)
    mode = next((w for w in argv if w in MODES), "run")
    return Exec(scripts[0], mode, limit, staged_from=src or None, pid=pid, started=True)


def script_name(path: str) -> str:
    """`/var/lib/k8stui/steps/03-hostname.sh` -> `03-hostname.sh`."""
    return path.rsplit("/", 1)[-1]
