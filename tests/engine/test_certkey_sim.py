"""Two control planes behind an endpoint on simulated nodes, and the certificate key's 2 h lifetime:
a control plane joining after ~1h50m gets a freshly uploaded key from a publish-only run of init."""

from __future__ import annotations

import time
from pathlib import Path

from test_runner_sim import results, runner

from k8stui.engine import certkey
from k8stui.engine.events import Status
from k8stui.recipes import artifacts
from k8stui.sim.cluster import Fault, SimCluster


def test_stale_means_a_key_older_than_the_refresh_age_or_without_a_stamp() -> None:
    now = 10_000_000.0
    assert not certkey.stale({}, now)  # no key: nothing to refresh (init has not run)
    assert certkey.stale({"certificate_key": "ab"}, now)  # an old state file without a stamp
    fresh = {"certificate_key": "ab", "certificate_key_at": str(now - 60)}
    assert not certkey.stale(fresh, now)
    old = {"certificate_key": "ab", "certificate_key_at": str(now - certkey.REFRESH_AFTER - 1)}
    assert certkey.stale(old, now) and certkey.REFRESH_AFTER < certkey.LIFETIME


async def test_two_control_planes_join_through_the_endpoint(tmp_path: Path) -> None:
    async with await SimCluster.start(tmp_path / "sim", control_planes=2, workers=1, speed=50) as sim:
        events: list = []
        run = runner(sim.spec, tmp_path, events)
        summary = await run.run()
        assert summary.ok, summary.failures
        done = results(events)
        assert done[("cp-2", "join-control-plane")].status is Status.OK
        assert done[("cp-1", "endpoint-probe")].status is Status.OK
        outputs = run.state.outputs
        assert abs(float(outputs["certificate_key_at"]) - time.time()) < 120
        config = artifacts.join_config(sim.spec, sim.spec.node("cp-2"), outputs)
        assert f'certificateKey: "{outputs["certificate_key"]}"' in config
        assert f'apiServerEndpoint: "{sim.spec.kubernetes.control_plane_endpoint}"' in config
        init = artifacts.kubeadm_init_config(sim.spec)
        assert f'controlPlaneEndpoint: "{sim.spec.kubernetes.control_plane_endpoint}"' in init
        assert '- "k8s-api.sim.internal"' in init  # the endpoint's name is in the API server's SANs


async def test_a_late_control_plane_join_uploads_the_certificates_again(tmp_path: Path) -> None:
    faults = {("cp-2", "join-control-plane"): Fault("fail")}
    async with await SimCluster.start(tmp_path / "sim", control_planes=2, workers=0, speed=50,
                                      faults=faults) as sim:
        first = runner(sim.spec, tmp_path, [])
        assert [f.step for f in (await first.run()).failures] == ["join-control-plane"]
        stamp = time.time() - certkey.REFRESH_AFTER - 60  # init ran almost two hours ago
        first.state.set_output("certificate_key_at", f"{stamp:.0f}")
        first.state.save()
        publishes = len([c for c in sim.node("cp-1").commands if "init.sh" in c and "publish" in c])
        events: list = []
        late = runner(sim.spec, tmp_path, events)
        assert (await late.retry("cp-2", "join-control-plane", cont=True)).ok
        assert results(events)[("cp-2", "join-control-plane")].status is Status.OK
        calls = [c for c in sim.node("cp-1").commands if "init.sh" in c and "publish" in c]
        assert len(calls) == publishes + 1  # exactly one publish-only run of init on cp-1
        assert float(late.state.outputs["certificate_key_at"]) > stamp + 3600
        assert "uploading the certificates again" in (late.state.logs_dir / "cp-1.log").read_text()
