"""The exact shell commands the SSH layer sends to a node (bash + coreutils only; no Python there).

Kept apart from the connection code so the simulator and the tests can build and read the same strings.
Every interpolated value goes through `shlex.quote`; `$HOME` is the only thing the login shell expands.

Shapes (`<sudo>` is empty, `sudo -n --`, or `sudo -S -p '' --` with the password alone on stdin):
- upload:  `umask 077 && mkdir -p DIR && chmod 0700 ... && cat > PATH.tmp && ... mv -f PATH.tmp PATH`
- step:    `<sudo> bash -c WRAPPER k8stui RUNDIR PIDNAME SECONDS SRC DST bash DST MODE`
- command: `<sudo> bash -c WRAPPER k8stui RUNDIR PIDNAME SECONDS '' '' bash -c COMMAND`
- cancel:  `<sudo> bash -c KILLER k8stui PIDFILE...`
The wrapper prints STARTED once sudo let it run, then runs `timeout --kill-after=10 SECONDS ARGV...`
in the background (GNU timeout puts itself and its children in a new process group whose id is its
pid), records that pid in RUNDIR/PIDNAME (atomically), waits, removes the pidfile and exits with the
status. The killer never removes pidfiles: a kill that raced the wrapper must leave it for a retry.
"""

from __future__ import annotations

import math
import shlex
from dataclasses import dataclass

from k8stui.recipes.protocol import REMOTE_DIR, STEPS_DIR, USER_STAGING

STARTED = "::k8stui-started::"  # wrapper marker: sudo (if any) accepted us; consumed by the SSH layer
RUN_DIR = f"{REMOTE_DIR}/run"
USER_RUN_DIR = ".k8stui/run"  # relative to a non-root user's home (unprivileged diagnostics)
KILL_AFTER = 10

WRAPPER = r"""exec </dev/null
umask 077
rundir=$1 pidfile=$1/$2 limit=$3 src=$4 dst=$5
shift 5
mkdir -p -- "$rundir" && chmod 0700 -- "$rundir" || exit 125
if [ -n "$src" ]; then
  install -d -m 0700 -- "${dst%/*}" && install -D -m 0700 -- "$src" "$dst" && rm -f -- "$src" || exit 125
fi
echo '::k8stui-started::'
timeout --kill-after=10 "$limit" "$@" &
pid=$!
echo "$pid" > "$pidfile.tmp" && mv -f -- "$pidfile.tmp" "$pidfile"
wait "$pid"
rc=$?
rm -f -- "$pidfile"
exit "$rc"
"""

KILLER = r"""exec </dev/null
# Only a process still named `timeout` is ours when its group is missing (a pid can be reused).
lone() { [ "$(cat "/proc/$1/comm" 2>/dev/null)" = timeout ] && kill "$2" "$1"; }
pids=
for f in "$@"; do
  pid=$(cat -- "$f" 2>/dev/null) || continue
  case $pid in ''|*[!0-9]*) continue ;; esac
  # the group may not exist for a split second after the fork: then signal timeout itself
  { kill -TERM -- "-$pid" || lone "$pid" -TERM; } 2>/dev/null && pids="$pids $pid"
done
n=0
while [ -n "$pids" ] && [ "$n" -lt 10 ]; do
  alive=
  for pid in $pids; do { kill -0 -- "-$pid" || lone "$pid" -0; } 2>/dev/null && alive="$alive $pid"; done
  pids=$alive
  [ -n "$pids" ] && sleep 0.5
  n=$((n + 1))
done
for pid in $pids; do { kill -KILL -- "-$pid" || lone "$pid" -KILL; } 2>/dev/null; done
exit 0
"""


@dataclass(frozen=True)
class RemotePath:
    """A path on the node: absolute, or relative to the login user's $HOME (expanded by its shell)."""

    path: str
    home: bool = False

    def shell(self) -> str:
        return f'"$HOME"/{shlex.quote(self.path)}' if self.home else shlex.quote(self.path)

    def parent(self) -> RemotePath:
        return RemotePath(self.path.rsplit("/", 1)[0], self.home)

    def child(self, name: str) -> RemotePath:
        return RemotePath(f"{self.path}/{name}", self.home)


ROOT_STEPS = RemotePath(STEPS_DIR)
USER_STEPS = RemotePath(USER_STAGING, home=True)
ROOT_RUN = RemotePath(RUN_DIR)
USER_RUN = RemotePath(USER_RUN_DIR, home=True)


def sudo_prefix(needs_sudo: bool, with_password: bool) -> str:
    if not needs_sudo:
        return ""
    return "sudo -S -p '' -- " if with_password else "sudo -n -- "


def limit_seconds(timeout: float) -> int:
    """GNU timeout takes whole seconds everywhere (fractions need coreutils >= 7)."""
    return max(1, math.ceil(timeout))


def upload_command(dest: RemotePath) -> str:
    """Write stdin to `dest` (0700 file in 0700 directories), atomically via a temporary name."""
    folder, tmp = dest.parent(), RemotePath(dest.path + ".tmp", dest.home)
    dirs = f"{folder.parent().shell()} {folder.shell()}"
    return (f"umask 077 && mkdir -p {folder.shell()} && chmod 0700 {dirs} && cat > {tmp.shell()}"
            f" && chmod 0700 {tmp.shell()} && mv -f {tmp.shell()} {dest.shell()}")


def wrapped(prefix: str, run_dir: RemotePath, pid_name: str, timeout: float,
            argv: list[str], *, src: RemotePath | None = None, dst: RemotePath | None = None) -> str:
    args = [run_dir.shell(), shlex.quote(pid_name), str(limit_seconds(timeout)),
            src.shell() if src else "''", dst.shell() if dst else "''"]
    return f"{prefix}bash -c {shlex.quote(WRAPPER)} k8stui {' '.join(args)} {' '.join(argv)}"


def step_command(prefix: str, script: RemotePath, mode: str, timeout: float, pid_name: str, *,
                 staged: RemotePath | None = None, run_dir: RemotePath = ROOT_RUN) -> str:
    """Run a step script by path (installing the staged copy first when going through sudo)."""
    argv = ["bash", script.shell(), shlex.quote(mode)]
    return wrapped(prefix, run_dir, pid_name, timeout, argv, src=staged, dst=script if staged else None)


def shell_command(prefix: str, run_dir: RemotePath, command: str, timeout: float, pid_name: str) -> str:
    return wrapped(prefix, run_dir, pid_name, timeout, ["bash", "-c", shlex.quote(command)])


def cancel_command(prefix: str, pidfiles: list[RemotePath]) -> str:
    return f"{prefix}bash -c {shlex.quote(KILLER)} k8stui {' '.join(p.shell() for p in pidfiles)}"


_SUDO_PROBLEMS = (
    (("a password is required", "a terminal is required"),
     "it needs a password: set sudoPasswordEnv (or allow NOPASSWD for this user)"),
    (("incorrect password", "sorry, try again", "no password was provided"),
     "the sudo password was rejected (check sudoPasswordEnv)"),
    (("must have a tty", "requiretty"),
     "sudoers requires a tty (requiretty): add `Defaults:<user> !requiretty` on the node"),
    (("not in the sudoers file", "is not allowed to", "may not run sudo"),
     "this user may not use sudo on the node"),
    (("sudo: command not found", "sudo: not found"), "sudo is not installed on the node"),
)


def sudo_problem(lines: list[str]) -> str | None:
    """Name sudo's own failure from what it printed before our wrapper started, if it was sudo."""
    text = "\n".join(lines).lower()
    for needles, message in _SUDO_PROBLEMS:
        if any(needle in text for needle in needles):
            return message
    return None
