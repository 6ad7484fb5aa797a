"""A fresh certificate key for control planes that join late.

`kubeadm init --upload-certs` stores the control-plane certificates in the cluster encrypted with the
certificate key, and deletes them after 2 hours. A control plane joining later (slow image pulls, a
retry the next day) would fail with "secret kubeadm-certs not found". So before `join-control-plane`
the runner checks the age of the published key and, when it is older than REFRESH_AFTER, re-runs init's
`publish` on the first control plane: that phase runs `kubeadm init phase upload-certs --upload-certs`
and publishes a new key (and a new join token). The age is measured on the jump host's clock from the
moment the key was published, so node clocks do not matter.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable

from k8stui.engine.errors import SSHError
from k8stui.engine.events import EngineEvent, Status
from k8stui.engine.logs import LogBook
from k8stui.engine.stepexec import RemoteStep, Session
from k8stui.model.cluster import ClusterSpec, NodeSpec
from k8stui.model.facts import Facts
from k8stui.recipes.plan import Plan

KEY = "certificate_key"
STAMP = "certificate_key_at"  # epoch seconds (jump host) when KEY was published
LIFETIME = 2 * 3600
REFRESH_AFTER = LIFETIME - 10 * 60  # ten minutes to spare for the join itself
WHY = "the certificate key from kubeadm init is near its 2 h expiry and no new one could be uploaded"


def stale(outputs: dict[str, str], now: float | None = None) -> bool:
    """A key exists and is (or may be) too old to join with; a key without a stamp counts as old."""
    if not outputs.get(KEY):
        return False  # no key at all: init has not run, and the join says so itself
    try:
        published = float(outputs.get(STAMP) or 0)
    except ValueError:
        published = 0.0
    return (now if now is not None else time.time()) - published > REFRESH_AFTER


async def refresh(spec: ClusterSpec, plan: Plan, facts: dict[str, Facts], outputs: dict[str, str], *,
                  session_factory: Callable[[NodeSpec], Session], logs: LogBook,
                  emit: Callable[[EngineEvent], None]) -> tuple[dict[str, str], str]:
    """(new outputs, "") from a publish-only run of init on the first control plane, or ({}, why not).

    A session of its own: the first control plane's walker may be using (or have closed) its session.
    """
    first = spec.first_control_plane
    planned = plan.find(first.name, "init") if first else None
    if first is None or planned is None:
        return {}, f"{WHY}: no kubeadm init is planned on a first control plane"
    log = logs.node(first.name)
    log.note("init", "=== the certificate key is close to its 2 h expiry: uploading the certificates again")
    try:
        script = plan.render(planned, facts, outputs)
    except Exception as err:  # a template bug must fail this join, not the whole run
        return {}, f"{WHY}: could not render {planned.script}: {err}"
    session = session_factory(first)
    try:
        await session.connect()
        outcome = await RemoteStep(planned, session, log, emit).run(script, "publish", time.time())
    except (SSHError, OSError) as err:
        return {}, f"{WHY}: cannot reach {first.name}: {getattr(err, 'message', None) or err}"
    finally:
        with contextlib.suppress(SSHError, OSError):
            await session.close()
    if outcome.result.status is not Status.OK or not outcome.outputs.get(KEY):
        said = outcome.result.message or "printed no certificate key"
        return {}, f"{WHY}: init publish on {first.name} {said}"
    return outcome.outputs, ""
