"""Test connections against simulated nodes over real SSH: facts gathered, unknown host keys asked."""

from __future__ import annotations

from pathlib import Path

from wizard_support import SIZE, make_app

from k8stui.engine.ssh import ConnectOptions
from k8stui.sim.cluster import SimCluster
from k8stui.ui.dialogs.host_key import HostKeyDialog, HostKeyInfo
from k8stui.ui.facts_probe import gather_facts
from k8stui.ui.screens.inventory import InventoryScreen

NO_CONFIG = ConnectOptions(ssh_config=False, agent=False, connect_timeout=10)


async def never(_info: HostKeyInfo) -> bool:
    raise AssertionError("no host key question expected: the sim's known_hosts lists every node")


async def test_gather_facts_from_a_simulated_node(tmp_path: Path) -> None:
    async with await SimCluster.start(tmp_path / "sim", workers=1, speed=50, os="rocky-9") as sim:
        node = sim.spec.nodes[1]
        facts = await gather_facts(sim.spec, node, never, options=NO_CONFIG)
    assert str(facts.os) == "rocky-9"
    assert node.node_ip in facts.ips  # the sim's NIC carries the internal IP: no ip-not-local flag
    assert facts.hostname
    assert facts.cpus > 0


async def test_inventory_test_asks_about_unknown_host_keys(tmp_path: Path) -> None:
    async def probe(spec, node, prompt):  # type: ignore[no-untyped-def]
        return await gather_facts(spec, node, prompt, options=NO_CONFIG)

    async with await SimCluster.start(tmp_path / "sim", workers=1, speed=50) as sim:
        spec = sim.spec.model_copy(deep=True)
        spec.ssh.known_hosts = str(tmp_path / "empty_known_hosts")  # every key is unknown now
        app = make_app(spec, tmp_path, probe=probe)
        async with app.run_test(size=SIZE) as pilot:
            await pilot.press("t")
            answers = []
            for _ in range(200):  # bounded: two dialogs, one per node
                await pilot.pause(0.05)
                if isinstance(app.screen, HostKeyDialog):
                    answers.append(app.screen.info)
                    await pilot.press("a" if len(answers) == 1 else "escape")
                screen = app.screen
                done = isinstance(screen, InventoryScreen) and "testing" not in screen.status.values()
                if done and answers:
                    break
            screen = app.screen
            assert isinstance(screen, InventoryScreen)
            assert len(answers) == 2
            assert all(a.fingerprint.startswith("SHA256:") and a.key_type == "ssh-ed25519" for a in answers)
            assert sorted(screen.status.values()) == ["failed", "ok"]
            refused = next(name for name, state in screen.status.items() if state == "failed")
            assert "host key" in screen.errors[refused].lower()
    assert "ssh-ed25519" in (tmp_path / "empty_known_hosts").read_text()  # the accepted key was recorded
