"""Run state on disk, the run lock, log redaction, passwords from the environment, the printer."""

from __future__ import annotations

import io
import json
import os
import stat
from pathlib import Path

import pytest

from k8stui.engine.events import RunStarted, Status, StepFinished, StepResult, StepStarted, Summary
from k8stui.engine.headless import Printer, exit_code, status_lines, summary_lines
from k8stui.engine.lock import LockHeld, RunLock, holder
from k8stui.engine.logs import LogBook, Redactor
from k8stui.engine.secrets_input import SecretsError, resolve_secrets
from k8stui.engine.state import RunState, default_root
from k8stui.engine.summary import parse_node_status
from k8stui.model.cluster import ClusterSpec

TOKEN = "abcdef.0123456789abcdef"
CERT_KEY = "0f" * 32


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_state_round_trip_private_and_atomic(tmp_path: Path) -> None:
    state = RunState.open("lab", tmp_path)
    state.mark_running("w1", "kernel", 10.0, 123)
    state.record(StepResult("w1", "kernel", Status.FAILED, 2, 10.0, 12.5, "exited with code 2"))
    state.set_output("token", TOKEN)
    state.set_output("kubeconfig_b64", "a3ViZWNvbmZpZwo=")
    state.set_facts("w1", {"os_id": "ubuntu"})
    state.save()
    assert mode(state.dir) == 0o700 and mode(state.logs_dir) == 0o700 and mode(state.path) == 0o600
    assert mode(state.kubeconfig_path) == 0o600 and state.kubeconfig_path.read_text() == "kubeconfig\n"
    assert "kubeconfig_b64" not in state.path.read_text()
    assert [p.name for p in state.dir.iterdir() if p.name.startswith(".")] == []  # no temp file left
    again = RunState.open("lab", tmp_path)
    row = again.row("w1", "kernel")
    assert row is not None and row.state is Status.FAILED and row.log_offset == 123 and row.exit_code == 2
    assert again.outputs == {"token": TOKEN} and again.facts["w1"] == {"os_id": "ubuntu"}
    assert again.kubeconfig == str(state.kubeconfig_path)


def test_default_root_follows_xdg(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path))
    assert default_root() == tmp_path / "k8stui"
    monkeypatch.delenv("XDG_STATE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path))
    assert default_root() == tmp_path / ".local" / "state" / "k8stui"


def test_lock_refuses_a_second_holder_naming_the_pid(tmp_path: Path) -> None:
    path = tmp_path / "lock"
    assert holder(path) is None
    with RunLock(path):
        with pytest.raises(LockHeld) as refused:
            RunLock(path).acquire()
        assert refused.value.pid == os.getpid() and str(os.getpid()) in str(refused.value)
        assert holder(path) == os.getpid()
    assert holder(path) is None
    RunLock(path).acquire().release()  # released on exit: the next run may go


def test_redactor_hides_known_values_and_secret_shapes() -> None:
    redact = Redactor(["s3cret-pass"])
    line = f"kubeadm join x --token {TOKEN} --certificate-key {CERT_KEY} pw=s3cret-pass"
    text = redact(line)
    assert TOKEN not in text and CERT_KEY not in text and "s3cret-pass" not in text
    assert text == "kubeadm join x --token <redacted> --certificate-key <redacted> pw=<redacted>"
    assert redact("sha256:" + "ab" * 32) == "sha256:" + "ab" * 32  # the CA hash is public


def test_node_log_is_private_timestamped_and_redacted(tmp_path: Path) -> None:
    book = LogBook(tmp_path, Redactor(["hunter22"]))
    log = book.node("w1")
    log.write("kernel", [("out", "modprobe br_netfilter"), ("err", "password hunter22")])
    text = log.path.read_text()
    assert mode(log.path) == 0o600 and "hunter22" not in text
    assert text.splitlines()[0].endswith("kernel out| modprobe br_netfilter")
    assert book.tail("w1", limit=1) == [text.splitlines()[1]]


def _spec(**ssh: object) -> ClusterSpec:
    return ClusterSpec.model_validate({"name": "lab", "ssh": ssh, "nodes": [
        {"name": "cp1", "address": "10.0.0.10", "role": "control-plane"},
        {"name": "w1", "address": "10.0.0.11", "ssh": {"user": "ops", "sudoPasswordEnv": "SUDO_PW"}},
    ]})


def test_passwords_come_from_named_environment_variables() -> None:
    spec = _spec(passwordEnv="SSH_PW", identityFile=None)
    secrets = resolve_secrets(spec, env={"SSH_PW": "a-pass", "SUDO_PW": "b-pass"}, interactive=False)
    assert secrets.ssh_password("cp1") == "a-pass" and secrets.sudo_password("w1") == "b-pass"
    assert secrets.sudo_password("cp1") is None  # root needs no sudo
    assert "a-pass" not in repr(secrets)
    with pytest.raises(SecretsError, match="SSH_PW"):
        resolve_secrets(spec, env={}, interactive=False)


def test_password_prompt_only_on_a_tty_without_key_or_agent() -> None:
    asked: list[str] = []
    spec = _spec(identityFile=None)
    env = {"SUDO_PW": "x-pass"}
    secrets = resolve_secrets(spec, env=env, interactive=True, ask=lambda p: asked.append(p) or "typed")
    assert secrets.ssh_password("cp1") == "typed" and len(asked) == 2  # root and ops: one prompt each
    assert resolve_secrets(spec, env=env, interactive=False).ssh_passwords == {}
    assert resolve_secrets(spec, env={**env, "SSH_AUTH_SOCK": "/agent"}, interactive=True,
                           ask=lambda p: pytest.fail("asked")).ssh_passwords == {}


def test_node_status_parsing() -> None:
    assert parse_node_status("cp1=Ready,w1=NotReady") == {"cp1": "Ready", "w1": "NotReady"}
    both = {"a": "Ready,SchedulingDisabled", "b": "Ready"}
    assert parse_node_status("a=Ready,SchedulingDisabled b=Ready") == both
    assert parse_node_status(None) == {}


def test_line_printer_and_summary() -> None:
    out = io.StringIO()
    printer = Printer(out)
    printer(RunStarted("lab", ("w1",), {"w1": ("facts", "join")}))
    printer(StepStarted("w1", "join", 2, 2))
    failure = StepResult("w1", "join", Status.FAILED, 1, 1.0, 3.5, "exited with code 1", ("boom",))
    printer(StepFinished(failure))
    lines = out.getvalue().splitlines()
    assert lines[1] == "w1             join                 running (2/2)"
    assert lines[2] == "w1             join                 failed 2.5s  exited with code 1"
    assert lines[3].endswith("| boom")
    summary = Summary("lab", False, join_command="kubeadm join x", kubeconfig="/k/config",
                      failures=(failure,), logs={"w1": "/logs/w1.log"})
    text = "\n".join(summary_lines(summary, "c.yaml"))
    assert "export KUBECONFIG=/k/config" in text and "(log: /logs/w1.log)" in text
    assert "k8stui retry -f c.yaml --node w1 --step join --continue" in text
    assert exit_code(summary) == 1 and exit_code(Summary("lab", True)) == 0
    assert exit_code(Summary("lab", False, cancelled=True)) == 130


def test_live_printer_redraws_in_place() -> None:
    out = io.StringIO()
    printer = Printer(out, live=True)
    printer(RunStarted("lab", ("w1",), {"w1": ("facts", "join")}))
    printer.draw()
    printer(StepStarted("w1", "facts", 1, 2))
    printer.draw()
    assert "\x1b[1F\x1b[J" in out.getvalue()  # moved up over the previous table and cleared it
    assert "facts" in printer.table()[0] and "0/2" in printer.table()[0]


def test_status_lines_mark_interrupted_runs(tmp_path: Path) -> None:
    state = RunState.open("lab", tmp_path)
    assert "no runs recorded" in status_lines(state)[0]
    state.record(StepResult("w1", "facts", Status.OK, 0, 1.0, 2.0))
    state.mark_running("w1", "kernel", 3.0, 0)
    lines = status_lines(state, {"w1": ["facts", "kernel"]}, running_pid=None)
    assert "facts" in lines[1] and " ok " in lines[1]
    assert "kernel" in lines[2] and "interrupted" in lines[2]
    data = json.loads(state.snapshot())
    assert data["rows"]["w1"]["kernel"]["status"] == "running"
