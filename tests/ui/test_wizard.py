"""Pilot tests: drive each wizard screen by keys and assert on the resulting ClusterSpec and file."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.widgets import DataTable, Input, Select, Tree
from wizard_support import SIZE, FakeProbe, four_nodes, make_app

from k8stui.model.load import load_cluster
from k8stui.ui.dialogs.confirm import ConfirmDialog
from k8stui.ui.dialogs.paste_nodes import PasteNodesDialog
from k8stui.ui.dialogs.save_as import SaveAsDialog
from k8stui.ui.runs import list_runs
from k8stui.ui.screens.inventory import SPINNER, InventoryScreen
from k8stui.ui.screens.network import NetworkScreen
from k8stui.ui.screens.node_form import NodeForm
from k8stui.ui.screens.review import ReviewScreen
from k8stui.ui.screens.start import StartScreen
from k8stui.ui.screens.versions import VersionsScreen
from k8stui.ui.widgets.field import Field


async def type_into(pilot, widget_id: str, text: str, keys: bool = False) -> None:  # type: ignore[no-untyped-def]
    """Focus a field and replace its text: typed key by key, or pasted at once (faster)."""
    widget = pilot.app.screen.query_one(f"#{widget_id}", Input)
    widget.focus()
    widget.value = "" if keys else text
    if keys:
        await pilot.press(*text)
    await pilot.pause()


def field(app, key: str) -> Field:  # type: ignore[no-untyped-def]
    return app.screen.query_one(f"#field-{key.replace('.', '-')}", Field)


async def test_new_cluster_to_saved_file_by_keys(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    app = make_app(None, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        assert isinstance(app.screen, StartScreen)
        await type_into(pilot, "new-name", "prod", keys=True)
        await pilot.press("enter")
        assert isinstance(app.screen, InventoryScreen)
        await pilot.press("p")
        assert isinstance(app.screen, PasteNodesDialog)
        await pilot.press(*"10.0.0.11-13", "enter", *"10.0.0.20 db", "ctrl+s")
        await pilot.pause()
        assert isinstance(app.screen, InventoryScreen)
        assert app.screen.query_one(DataTable).row_count == 4
        await pilot.press("ctrl+n")
        assert isinstance(app.screen, NetworkScreen)
        await type_into(pilot, "pod-subnet", "172.16.0.0/16", keys=True)
        app.screen.query_one("#cni", Select).focus()
        await pilot.press("enter", "down", "enter")  # flannel -> calico
        await pilot.press("ctrl+n")
        assert isinstance(app.screen, VersionsScreen)
        await pilot.press("enter", "up", "enter")  # 1.34.6 -> 1.35.3 (newest first)
        await pilot.press("ctrl+n")
        assert isinstance(app.screen, ReviewScreen)
        await pilot.press("ctrl+s")
        assert isinstance(app.screen, SaveAsDialog)
        await pilot.press("enter")
        await pilot.pause()
    saved = load_cluster(tmp_path / "prod.yaml")
    assert saved.name == "prod"
    assert [(n.name, n.address, n.role) for n in saved.nodes] == [
        ("cp-1", "10.0.0.11", "control-plane"),
        ("node-1", "10.0.0.12", "worker"),
        ("node-2", "10.0.0.13", "worker"),
        ("db", "10.0.0.20", "worker"),
    ]
    assert saved.network.pod_subnet == "172.16.0.0/16"
    assert saved.network.cni == "calico"
    assert saved.kubernetes.version == "1.35.3"


async def test_back_keeps_edits_and_goes_to_start(tmp_path: Path) -> None:
    app = make_app(four_nodes(), tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("ctrl+n")
        await type_into(pilot, "dns-domain", "corp.local")
        await pilot.press("escape")
        assert isinstance(app.screen, InventoryScreen)
        assert app.spec.network.dns_domain == "corp.local"
        await pilot.press("escape")
        assert isinstance(app.screen, StartScreen)
        assert "lab has unsaved changes" in str(app.screen.query_one("#start-intro").content)
        await pilot.press("escape")  # back to the same cluster, edits kept
        assert isinstance(app.screen, InventoryScreen)
        assert app.screen.spec.network.dns_domain == "corp.local"


HOSTILE_FIELDS = [
    ("name", "a;rm -rf /", "name", "not a node name"),
    ("name", "$(x)", "name", "not a node name"),
    ("address", "$(reboot)", "address", "neither an IP address"),
    ("address", "host name", "address", "neither an IP address"),
    ("internal-ip", "10.0.0.300", "internalIP", "not an IP address"),
    ("user", "root;id", "ssh.user", "not a user name"),
    ("port", "99999", "ssh.port", "65535"),
    ("identity", "~/.ssh/id rsa", "ssh.identityFile", "not allowed"),
    ("name", "cp-1", "name", "already in the inventory"),
    ("address", "10.0.0.12", "address", "already the address of node-1"),
    ("internal-ip", "10.0.0.13", "internalIP", "already the internal IP of node-2"),
]


async def test_node_form_shows_inline_errors_and_refuses_to_save(tmp_path: Path) -> None:
    app = make_app(four_nodes(), tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("a")
        assert isinstance(app.screen, NodeForm)
        valid = {
            "name": "new-node",
            "address": "10.0.0.50",
            "internal-ip": "",
            "user": "",
            "port": "",
            "identity": "",
        }
        for widget_id, text in valid.items():
            await type_into(pilot, widget_id, text)
        for widget_id, text, key, fragment in HOSTILE_FIELDS:
            await type_into(pilot, widget_id, text)
            shown = field(app, key)
            assert shown.has_class("-invalid"), (widget_id, text)
            assert fragment in shown.message, (widget_id, text, shown.message)
            await pilot.press("enter")
            assert isinstance(app.screen, NodeForm)  # not saved, not crashed
            await type_into(pilot, widget_id, valid[widget_id])
            assert not shown.has_class("-invalid")
        await pilot.press("escape")
        assert len(app.screen.spec.nodes) == 4


def test_node_form_paths_match_the_model_errors() -> None:
    """The form's field keys are the paths pydantic reports, or an error could never show."""
    from k8stui.ui.screens.node_form import TEXT_FIELDS
    from k8stui.ui.validation import node_errors

    data = {
        "name": "x;",
        "address": "$(a)",
        "internalIP": "nope",
        "ssh": {"user": "a b", "port": "x", "identityFile": "a b", "passwordEnv": "1-x"},
    }
    assert set(node_errors(data)) == {path for _, path in TEXT_FIELDS}


async def test_node_form_add_and_edit(tmp_path: Path) -> None:
    app = make_app(four_nodes(), tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("a")
        await type_into(pilot, "name", "node-9")
        await type_into(pilot, "address", "10.0.0.90")
        await type_into(pilot, "user", "ops")
        await pilot.press("enter")
        screen = app.screen
        assert isinstance(screen, InventoryScreen)
        added = screen.spec.nodes[-1]
        assert (added.name, added.address, added.role) == ("node-9", "10.0.0.90", "worker")
        assert added.ssh is not None and added.ssh.user == "ops"
        await pilot.press("e")
        await type_into(pilot, "internal-ip", "10.0.1.90")
        await pilot.press("ctrl+s")
        assert screen.spec.nodes[-1].internal_ip == "10.0.1.90"
        await pilot.press("d")
        assert [n.name for n in screen.spec.nodes] == ["cp-1", "node-1", "node-2", "node-3"]


async def test_paste_dialog_lists_errors_and_blocks_adding(tmp_path: Path) -> None:
    app = make_app(four_nodes(), tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("p", *"10.0.0.60", "enter", *"$(x)")
        await pilot.pause()
        status = str(app.screen.query_one("#paste-status").content)
        assert "1 node ready" in status
        assert "line 2:" in status
        await pilot.press("ctrl+s")
        assert isinstance(app.screen, PasteNodesDialog)
        await pilot.press("escape")
        assert len(app.screen.spec.nodes) == 4


async def test_test_connections_fills_facts_and_shows_failures(tmp_path: Path) -> None:
    probe = FakeProbe(fail=("node-2",), delay=0.5)
    app = make_app(four_nodes(), tmp_path, probe=probe)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("t")
        spinning = app.screen.query_one(DataTable).get_cell("node-1", "status")
        assert spinning in SPINNER  # a spinner per row while the test runs
        await app.workers.wait_for_complete()
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, InventoryScreen)
        assert sorted(probe.calls) == ["cp-1", "node-1", "node-2", "node-3"]
        assert screen.status == {"cp-1": "ok", "node-1": "ok", "node-2": "failed", "node-3": "ok"}
        assert set(app.facts) == {"cp-1", "node-1", "node-3"}
        table = screen.query_one(DataTable)
        assert table.get_cell("cp-1", "os") == "ubuntu-22.04"
        assert table.columns["os"].content_width >= len("ubuntu-22.04")  # widened, not truncated
        assert table.get_cell("node-2", "os") == "-"
        assert "Connection refused" in str(screen.query_one("#inventory-problems").content)


async def test_network_bad_cidr_is_inline_and_blocks_next(tmp_path: Path) -> None:
    app = make_app(four_nodes(), tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("ctrl+n")
        await type_into(pilot, "service-subnet", "10.96.0.0/33", keys=True)
        assert field(app, "network.serviceSubnet").has_class("-invalid")
        assert "not a valid CIDR" in field(app, "network.serviceSubnet").message
        await pilot.press("ctrl+n")
        assert isinstance(app.screen, NetworkScreen)
        assert app.screen.spec.network.service_subnet == "10.96.0.0/32"  # the last good value typed


async def test_network_overlap_with_node_ips_and_each_other(tmp_path: Path) -> None:
    app = make_app(four_nodes(), tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("ctrl+n")
        await type_into(pilot, "pod-subnet", "10.0.0.0/16")
        pod = field(app, "network.podSubnet")
        assert pod.has_class("-invalid")
        assert "10.0.0.11" in pod.message
        await type_into(pilot, "pod-subnet", "10.96.0.0/16")
        assert "overlaps podSubnet" in field(app, "network.serviceSubnet").message
        await type_into(pilot, "pod-subnet", "10.244.0.0/30")
        assert "smaller than the /24" in field(app, "network.podSubnet").message


async def test_nftables_needs_1_33(tmp_path: Path) -> None:
    spec = four_nodes()
    spec.kubernetes.version = "1.30.14"
    app = make_app(spec, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("ctrl+n")
        app.screen.query_one("#proxy-mode", Select).value = "nftables"
        await pilot.pause()
        assert "1.33" in field(app, "network.proxyMode").message
        assert field(app, "network.proxyMode").has_class("-invalid")


async def test_versions_offer_docker_only_for_old_versions(tmp_path: Path) -> None:
    app = make_app(four_nodes(), tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("ctrl+n", "ctrl+n")
        screen = app.screen
        assert isinstance(screen, VersionsScreen)
        runtime = screen.query_one("#runtime", Select)
        screen.query_one("#version", Select).value = "1.23.17"
        await pilot.pause()
        runtime.value = "docker"
        await pilot.pause()
        assert screen.spec.kubernetes.runtime == "docker"
        screen.query_one("#version", Select).value = "1.35.3"
        await pilot.pause()
        assert screen.spec.kubernetes.runtime == "containerd"
        assert "switched to containerd" in field(app, "kubernetes.runtime").message
        assert [v for _, v in runtime._options if v is not Select.NULL] == ["containerd"]


async def test_versions_mirror_problem_custom_url_and_china_presets(tmp_path: Path) -> None:
    app = make_app(four_nodes(), tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("ctrl+n", "ctrl+n")
        screen = app.screen
        screen.query_one("#mirror", Select).value = "aliyun-legacy"
        await pilot.pause()
        assert "stops at 1.28" in field(app, "kubernetes.packageMirror").message
        await pilot.press("ctrl+n")
        assert isinstance(app.screen, VersionsScreen)  # blocked
        screen.query_one("#mirror", Select).value = "custom"
        await type_into(pilot, "mirror-url", "ftp://x;y")
        assert field(app, "custom.mirror-url").has_class("-invalid")
        await type_into(pilot, "mirror-url", "https://mirror.example.com/k8s")
        assert screen.spec.kubernetes.package_mirror == "https://mirror.example.com/k8s"
        await pilot.press("ctrl+g")
        await pilot.pause()
        k8s = screen.spec.kubernetes
        assert k8s.package_mirror == "aliyun"
        assert k8s.image_repository == "registry.aliyuncs.com/google_containers"
        assert screen.spec.host_prep.time_servers == ["ntp.aliyun.com", "ntp.ntsc.ac.cn"]
        await type_into(pilot, "token-ttl", "forever")
        assert field(app, "kubernetes.tokenTTL").has_class("-invalid")


async def test_review_shows_scripts_and_install_without_board_saves_and_names_command(
    tmp_path: Path,
) -> None:
    path = tmp_path / "lab.yaml"
    app = make_app(four_nodes(), tmp_path, path=path)
    async with app.run_test(size=SIZE) as pilot:
        app.action_goto("review")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, ReviewScreen)
        assert screen.plan.os["node-3"].id == "rocky"  # from the file's os:
        assert screen.plan.os["cp-1"].id == "ubuntu"  # the preview OS
        tree = screen.query_one(Tree)
        await pilot.press("down")  # the second document: every problem and warning
        await pilot.pause(0.2)  # the viewer renders once the highlight rests
        assert str(screen.query_one("#viewer").border_title) == "problems.txt"
        assert "warning: kubernetes.version" in str(screen.query_one("#document").content.code)
        await pilot.press("down")
        await pilot.pause(0.2)
        assert str(screen.query_one("#viewer").border_title) == "kubeadm-config.yaml"
        facts = next(n for n in tree.root.children[4].children if n.data.step.id == "facts")
        tree.move_cursor(facts)
        await pilot.pause(0.2)
        assert str(screen.query_one("#viewer").border_title).startswith("cp-1/00-facts.sh")
        assert "k8stui-step: facts cp-1" in str(screen.query_one("#document").content.code)
        await pilot.press("i")
        assert isinstance(app.screen, ConfirmDialog)
        await pilot.press("y")
        await pilot.pause()
        messages = [n.message for n in app._notifications]
        assert any(f"k8stui apply -f {path}" in m for m in messages)
    assert load_cluster(path).nodes == four_nodes().nodes
    (tmp_path / "state" / "lab" / "state.json").write_text("{}")  # what `k8stui apply` then writes
    (run,) = list_runs(tmp_path / "state")  # Start can resume this cluster from its own file
    assert run.cluster_file == path.resolve()


async def test_review_install_pushes_the_install_screen(tmp_path: Path) -> None:
    from textual.screen import Screen

    seen = []

    def board(spec):  # type: ignore[no-untyped-def]
        seen.append(spec)
        return Screen()

    app = make_app(four_nodes(), tmp_path, path=tmp_path / "c.yaml", install_screen=board)
    async with app.run_test(size=SIZE) as pilot:
        app.action_goto("review")
        await pilot.pause()
        await pilot.press("i", "n")
        assert seen == []  # refused
        await pilot.press("i", "y")
        await pilot.pause()
        assert [s.name for s in seen] == ["lab"]


async def test_review_refuses_install_with_problems(tmp_path: Path) -> None:
    spec = four_nodes()
    spec.nodes[1].role = "control-plane"  # two control planes without an endpoint
    app = make_app(spec, tmp_path, path=tmp_path / "c.yaml")
    async with app.run_test(size=SIZE) as pilot:
        app.action_goto("review")
        await pilot.pause()
        await pilot.press("i")
        assert isinstance(app.screen, ReviewScreen)
        assert "-invalid" in app.screen.query_one("#review-problems").classes
        assert not (tmp_path / "c.yaml").exists()


async def test_start_open_file_errors_then_success(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("apiVersion: k8stui/v1\nkind: Cluster\nnodes:\n  - name: a;b\n    address: x\n")
    app = make_app(None, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await type_into(pilot, "open-path", str(tmp_path / "missing.yaml"))
        await pilot.press("enter")
        assert "no such file" in str(app.screen.query_one("#open-error").content)
        await type_into(pilot, "open-path", str(bad))
        await pilot.press("enter")
        assert "nodes[0].name" in str(app.screen.query_one("#open-error").content)
        good = tmp_path / "good.yaml"
        from k8stui.ui.files import save_cluster

        save_cluster(four_nodes(), good)
        await type_into(pilot, "open-path", str(good))
        await pilot.press("enter")
        assert isinstance(app.screen, InventoryScreen)
        assert app.path == good


async def test_start_resume_loads_the_run_and_its_facts(tmp_path: Path, state_dir: Path) -> None:
    app = make_app(None, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("ctrl+r", "enter")
        assert isinstance(app.screen, InventoryScreen)
        assert app.spec.name == "lab"
        assert app.facts["cp-1"].os.id == "debian"


async def test_palette_reaches_steps_and_screen_actions(tmp_path: Path) -> None:
    from k8stui.ui.palette import WizardCommands

    app = make_app(four_nodes(), tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        provider = WizardCommands(app.screen)
        names = {name for name, _, _ in provider.commands()}
        expected = {
            "Go to Network",
            "Go to Review",
            "Save cluster file",
            "Inventory: Test SSH",
            "Inventory: Paste",
            "Inventory: Next",
        }
        assert expected <= names
        await pilot.press("ctrl+p")
        await pilot.press(*"go to netw")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, NetworkScreen)


async def test_review_hides_next_from_footer_and_palette(tmp_path: Path) -> None:
    from k8stui.ui.palette import WizardCommands

    app = make_app(four_nodes(), tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        app.action_goto("review")
        await pilot.pause()
        names = {name for name, _, _ in WizardCommands(app.screen).commands()}
        assert "Review: Install" in names
        assert "Review: Next" not in names
        await pilot.press("ctrl+n")
        assert isinstance(app.screen, ReviewScreen)  # nothing after the last step


def test_tui_command_refuses_a_broken_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from k8stui.cli import EXIT_BAD_INPUT, build_parser
    from k8stui.commands import tui

    bad = tmp_path / "bad.yaml"
    bad.write_text("apiVersion: k8stui/v1\nkind: Cluster\nnodez: []\n")
    args = build_parser().parse_args(["-f", str(bad)])
    assert tui.run(args) == EXIT_BAD_INPUT
    assert "nodez" in capsys.readouterr().err


async def test_quit_asks_only_with_unsaved_edits(tmp_path: Path) -> None:
    app = make_app(four_nodes(), tmp_path, path=tmp_path / "c.yaml")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("d")  # remove a node: now the file on disk (none yet) differs
        await pilot.press("ctrl+q")
        assert isinstance(app.screen, ConfirmDialog)
        await pilot.press("n")
        assert isinstance(app.screen, InventoryScreen)
        assert app.return_code is None  # still running
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert not app.unsaved
        await pilot.press("ctrl+q")
        await pilot.pause()
        assert app.return_code == 0  # exited without asking


async def test_ssh_defaults_dialog_validates_and_applies(tmp_path: Path) -> None:
    from k8stui.ui.dialogs.ssh_defaults import SSHDefaultsDialog

    app = make_app(four_nodes(), tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("s")
        assert isinstance(app.screen, SSHDefaultsDialog)
        await type_into(pilot, "ssh-user", "ops;id")
        assert "not a user name" in field(app, "user").message
        await type_into(pilot, "ssh-bastion", "jump@$(x):22")
        assert field(app, "bastion").has_class("-invalid")
        await pilot.press("ctrl+s")
        assert isinstance(app.screen, SSHDefaultsDialog)  # refused
        await type_into(pilot, "ssh-user", "ops")
        await type_into(pilot, "ssh-bastion", "jump@10.0.0.1:2222")
        await type_into(pilot, "ssh-identity", "")
        app.screen.query_one("#ssh-policy", Select).value = "accept-new"
        await pilot.press("ctrl+s")
        screen = app.screen
        assert isinstance(screen, InventoryScreen)
        ssh = screen.spec.ssh
        assert (ssh.user, ssh.bastion, ssh.identity_file, ssh.host_key_policy) == (
            "ops",
            "jump@10.0.0.1:2222",
            None,
            "accept-new",
        )
        assert screen.query_one(DataTable).get_cell("cp-1", "ssh") == "ops agent"
        assert screen.query_one(DataTable).get_cell("node-3", "ssh") == "ops agent"


async def test_hostile_paths_and_bracketed_values_never_crash(tmp_path: Path) -> None:
    app = make_app(None, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await type_into(pilot, "open-path", "a" * 5000)
        await pilot.press("enter")
        assert "no such file" in str(app.screen.query_one("#open-error").content)
        await type_into(pilot, "open-path", "[b]x[/b]/[not markup")
        await pilot.press("enter")
        assert "[not markup" in str(app.screen.query_one("#open-error").content)
        await pilot.press("ctrl+n")
        await pilot.press("ctrl+n")  # no nodes yet: refused with a notification
        await pilot.press("ctrl+s")
        await type_into(pilot, "save-path", "x" * 300 + "/c.yaml")
        await pilot.press("enter")
        assert "does not exist" in str(app.screen.query_one("#save-error").content)
        await type_into(pilot, "save-path", str(tmp_path / "[weird].yaml"))
        await pilot.press("enter")
        await pilot.pause()
        assert (tmp_path / "[weird].yaml").is_file()
        assert isinstance(app.screen, InventoryScreen)
