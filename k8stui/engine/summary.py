"""The end of a run in one value: what the operator needs next (join command, kubeconfig, failures)."""

from __future__ import annotations

import re

from k8stui.engine.events import Status, StepResult, Summary
from k8stui.engine.state import RunState


def parse_node_status(text: str | None) -> dict[str, str]:
    """`cp1=Ready,w1=NotReady` (or `;`/space separated, `:` for `=`) -> {"cp1": "Ready", "w1": "NotReady"}."""
    tokens = re.split(r"[;\s]+|,(?=[a-z0-9][a-z0-9.-]*[=:])", text or "")
    pairs = (re.split(r"[=:]", token, maxsplit=1) for token in tokens)
    return {pair[0]: pair[1] for pair in pairs if len(pair) == 2 and pair[0] and pair[1]}


def build_summary(cluster: str, state: RunState, results: dict[tuple[str, str], StepResult],
                  cancelled: bool, logs: dict[str, str]) -> Summary:
    values = list(results.values())
    failures = tuple(r for r in values if r.status is Status.FAILED)
    unfinished = any(not r.status.done for r in values)
    outputs = state.outputs
    return Summary(
        cluster=cluster,
        ok=not unfinished and not cancelled,
        join_command=outputs.get("join_command"),
        token_expires=outputs.get("token_expires"),
        ca_hash=outputs.get("ca_hash"),
        kubeconfig=state.kubeconfig,
        node_status=parse_node_status(outputs.get("node_status")),
        smoke_result=outputs.get("smoke_result"),
        failures=failures,
        logs=logs,
        cancelled=cancelled or any(r.status is Status.CANCELLED for r in values),
    )


def summary_from_state(cluster: str, state: RunState) -> Summary:
    """A summary of whatever the state holds (for `status` and after a retry)."""
    results = {
        (node, step): StepResult(node, step, row.state, row.exit_code, row.started, row.finished, row.message)
        for node, steps in state.rows.items() for step, row in steps.items()
    }
    logs = {node: str(state.log_path(node)) for node in state.rows}
    return build_summary(cluster, state, results, False, logs)
