"""Snapshots of every wizard screen at 100x30 (update with `pytest --snapshot-update` after a look)."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import Tree
from wizard_support import SIZE, facts_for, four_nodes, make_app

from k8stui.ui.app import K8sTuiApp


def app_with_facts(tmp_path: Path) -> K8sTuiApp:
    app = make_app(four_nodes(), tmp_path)
    app.facts.update(
        {
            "cp-1": facts_for("cp-1", "10.0.0.11", uuid="clone"),
            "node-1": facts_for("node-1", "10.0.0.12", uuid="clone"),
        }
    )
    return app


async def show_review(pilot) -> None:  # type: ignore[no-untyped-def]
    """Review with the node branches collapsed: the snapshot must not change with every new catalog step
    (the Pilot tests check the expanded plan)."""
    pilot.app.action_goto("review")
    await pilot.pause()
    for branch in pilot.app.screen.query_one(Tree).root.children:
        branch.collapse()
    await pilot.pause()


class TestWizardSnapshots:
    def test_start(self, snap_compare, tmp_path: Path, state_dir: Path) -> None:  # type: ignore[no-untyped-def]
        assert snap_compare(make_app(None, tmp_path), terminal_size=SIZE)

    def test_inventory(self, snap_compare, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
        assert snap_compare(app_with_facts(tmp_path), terminal_size=SIZE)

    def test_inventory_form_inline_error(self, snap_compare, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
        async def run_before(pilot) -> None:  # type: ignore[no-untyped-def]
            await pilot.press("down", "e", "ctrl+a", "ctrl+k", *"$(x)")

        assert snap_compare(app_with_facts(tmp_path), terminal_size=SIZE, run_before=run_before)

    def test_paste_dialog(self, snap_compare, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
        async def run_before(pilot) -> None:  # type: ignore[no-untyped-def]
            await pilot.press("p", *"10.0.0.21-23", "enter", *"10.0.0.30 db;x")

        assert snap_compare(make_app(four_nodes(), tmp_path), terminal_size=SIZE, run_before=run_before)

    def test_network_overlap(self, snap_compare, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
        spec = four_nodes()
        spec.network.pod_subnet = "10.0.0.0/16"
        app = make_app(spec, tmp_path)
        assert snap_compare(app, terminal_size=SIZE, press=["ctrl+n"])

    def test_versions_mirror_problem(self, snap_compare, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
        spec = four_nodes()
        spec.kubernetes.package_mirror = "aliyun-legacy"
        app = make_app(spec, tmp_path)
        assert snap_compare(app, terminal_size=SIZE, press=["ctrl+n", "ctrl+n"])

    def test_review(self, snap_compare, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
        async def run_before(pilot) -> None:  # type: ignore[no-untyped-def]
            await show_review(pilot)

        assert snap_compare(app_with_facts(tmp_path), terminal_size=SIZE, run_before=run_before)

    def test_host_key_dialog(self, snap_compare, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
        from k8stui.ui.dialogs.host_key import HostKeyDialog, HostKeyInfo

        info = HostKeyInfo("10.0.0.11", "ssh-ed25519", "SHA256:kWL43KzdkHtDshMdbEOHh1r/q70P8yCuWmJS8pSaBTU")

        async def run_before(pilot) -> None:  # type: ignore[no-untyped-def]
            pilot.app.push_screen(HostKeyDialog(info))
            await pilot.pause()

        assert snap_compare(make_app(four_nodes(), tmp_path), terminal_size=SIZE, run_before=run_before)

    def test_ssh_defaults_inline_error(self, snap_compare, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
        async def run_before(pilot) -> None:  # type: ignore[no-untyped-def]
            await pilot.press("s", "ctrl+a", "ctrl+k", *"ops;x")

        assert snap_compare(make_app(four_nodes(), tmp_path), terminal_size=SIZE, run_before=run_before)

    def test_install_confirmation(self, snap_compare, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
        async def run_before(pilot) -> None:  # type: ignore[no-untyped-def]
            await show_review(pilot)
            await pilot.press("i")

        assert snap_compare(make_app(four_nodes(), tmp_path), terminal_size=SIZE, run_before=run_before)
