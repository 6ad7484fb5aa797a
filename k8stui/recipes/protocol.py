"""The wire contract between the engine, the rendered scripts, the simulator and the lab.

A step script is self-contained bash: `script.sh check` exits 0 when the step's effect is already in
place; `script.sh apply` makes it so; `script.sh run` (what the engine calls) does check -> apply ->
check again, and prints marker lines the engine parses and strips from the human log.
"""

from __future__ import annotations

import re

MARK = "::k8stui-"
OUTPUT = "::k8stui-output::"  # `::k8stui-output:: name=value` (value base64 when it may hold newlines)
STATUS = "::k8stui-status::"  # `::k8stui-status:: skipped` | `::k8stui-status:: changed`
PROGRESS = "::k8stui-progress::"  # `::k8stui-progress:: 3/7 installing kubeadm`
STEP_HEADER = "# k8stui-step:"  # first lines of every script: `# k8stui-step: <id> <node>`

REMOTE_DIR = "/var/lib/k8stui"  # root-owned 0700: scripts stay on the node for an operator to read
STEPS_DIR = f"{REMOTE_DIR}/steps"
USER_STAGING = ".k8stui/steps"  # relative to a non-root user's home, 0700, before `sudo install`

EXIT_VERIFY_FAILED = 70  # apply returned 0 but the check still says "not done"
EXIT_SUDO = 71  # sudo refused (needs a password / wrong password / requiretty)

_OUTPUT_RE = re.compile(r"^::k8stui-output:: ([a-z_][a-z0-9_]*)=(.*)$")


def parse_output(line: str) -> tuple[str, str] | None:
    match = _OUTPUT_RE.match(line)
    return (match.group(1), match.group(2)) if match else None


def is_marker(line: str) -> bool:
    return line.startswith(MARK)


def script_name(index: int, step_id: str) -> str:
    return f"{index:02d}-{step_id}.sh"

# How the engine runs a step on a node (k8stui.engine.ssh implements it; the simulator and the lab
# only rely on these facts):
# 1. Upload: one exec session whose command writes stdin to `<dir>/<NN>-<id>.sh` (0700 file in a
#    0700 directory): `<dir>` is STEPS_DIR for root, `$HOME/` + USER_STAGING for a sudo user, who
#    then `sudo install`s it into STEPS_DIR. The script's first lines carry STEP_HEADER.
# 2. Run: one exec session whose command contains the script path and the mode word
#    (run | check | apply | publish) and wraps it in `timeout --kill-after` in its own process group.
#    With a sudo password, stdin carries only the password (`sudo -S -p ''`), never the script.
# 3. Markers on stdout (OUTPUT, STATUS, PROGRESS) are parsed by the engine and kept out of the
#    human log; everything else is the step's output.
