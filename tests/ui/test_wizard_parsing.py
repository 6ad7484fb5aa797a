"""Pure helpers behind the wizard: pasted node lines, table cells, version choices, runs."""

from __future__ import annotations

from pathlib import Path

import pytest
from wizard_support import facts_for, four_nodes

from k8stui.model.cluster import NodeSpec
from k8stui.ui import version_options as opts
from k8stui.ui.inventory_view import flags, ip_hint, ssh_label
from k8stui.ui.node_lines import expand_range, parse_lines
from k8stui.ui.runs import list_runs, run_facts


def test_range_expands_last_octet_and_full_form() -> None:
    assert expand_range("10.0.0.11-13") == ["10.0.0.11", "10.0.0.12", "10.0.0.13"]
    assert expand_range("10.0.0.254-10.0.1.1") == ["10.0.0.254", "10.0.0.255", "10.0.1.0", "10.0.1.1"]
    with pytest.raises(ValueError):
        expand_range("10.0.0.30-10")


def test_paste_names_first_node_cp_and_the_rest_workers() -> None:
    parsed = parse_lines("10.0.0.11-13\n10.0.0.20 db\n10.0.0.21 cp-2 control-plane\n", [])
    assert parsed.errors == []
    got = [(n.name, n.address, n.role) for n in parsed.nodes]
    assert got == [
        ("cp-1", "10.0.0.11", "control-plane"),
        ("node-1", "10.0.0.12", "worker"),
        ("node-2", "10.0.0.13", "worker"),
        ("db", "10.0.0.20", "worker"),
        ("cp-2", "10.0.0.21", "control-plane"),
    ]


def test_paste_continues_numbering_after_existing_nodes() -> None:
    existing = [
        NodeSpec(name="cp-1", address="10.0.0.11", role="control-plane"),
        NodeSpec(name="node-1", address="10.0.0.12"),
    ]
    parsed = parse_lines("10.0.0.13\n", existing)
    assert [(n.name, n.role) for n in parsed.nodes] == [("node-2", "worker")]


@pytest.mark.parametrize(
    ("line", "fragment"),
    [
        ("a;rm -rf /", "neither an IP address"),
        ("$(x)", "neither an IP address"),
        ("10.0.0.5 `id`", "name"),
        ("10.0.0.5 web boss", "not a role"),
        ("10.0.0.1-9 same", "range cannot share one name"),
        ("10.0.0.1 a b c", "expected"),
        ("10.0.0.11", "already in the inventory"),
    ],
)
def test_paste_bad_lines_give_one_error_each(line: str, fragment: str) -> None:
    existing = [NodeSpec(name="cp-1", address="10.0.0.11", role="control-plane")]
    parsed = parse_lines(f"10.0.0.40\n{line}\n", existing)
    assert len(parsed.errors) == 1
    assert parsed.errors[0].startswith("line 2:")
    assert fragment in parsed.errors[0]
    assert [n.address for n in parsed.nodes] == ["10.0.0.40"]


def test_paste_duplicate_name_in_same_paste_is_refused() -> None:
    parsed = parse_lines("10.0.0.1 web\n10.0.0.2 web\n", [])
    assert [n.name for n in parsed.nodes] == ["web"]
    assert "already used" in parsed.errors[0]


def test_flags_mark_cloned_machines_only() -> None:
    spec = four_nodes()
    facts = {
        "cp-1": facts_for("cp-1", "10.0.0.11", uuid="same"),
        "node-1": facts_for("node-1", "10.0.0.12", uuid="same"),
        "node-2": facts_for("cp-1", "10.0.0.13", mac="52:54:00:aa:bb:cc"),
        "node-3": facts_for("node-3", "10.0.0.14", mac="52:54:00:aa:bb:cc"),
    }
    got = flags(spec, facts)
    assert got["cp-1"] == ["dup-hostname", "dup-uuid"]
    assert got["node-1"] == ["dup-uuid"]
    assert got["node-2"] == ["dup-hostname", "dup-mac"]
    assert got["node-3"] == ["dup-mac"]


def test_flags_mark_cgroup_v1_hosts_only_where_the_kubelet_refuses_them() -> None:
    from dataclasses import replace

    spec = four_nodes()
    facts = {"cp-1": replace(facts_for("cp-1", "10.0.0.11"), cgroup_version=1)}
    spec.kubernetes.version = "1.35.3"
    assert flags(spec, facts)["cp-1"] == ["cgroup-v1"]
    spec.kubernetes.fail_cgroup_v1 = False
    assert flags(spec, facts)["cp-1"] == []
    spec.kubernetes.version = "1.34.6"
    spec.kubernetes.fail_cgroup_v1 = True
    assert flags(spec, facts)["cp-1"] == []


def test_a_public_address_on_no_nic_is_flagged_with_the_local_ones() -> None:
    spec = four_nodes()
    facts = {"node-1": facts_for("node-1", "10.0.0.99")}  # the machine has 10.0.0.99, not 10.0.0.12
    assert flags(spec, facts)["node-1"] == ["ip-not-local"]
    hint = ip_hint(spec.nodes[1], facts["node-1"])
    assert hint is not None and "10.0.0.12 is on no NIC" in hint and "10.0.0.99" in hint


def test_ssh_label_shows_override_user_and_auth() -> None:
    spec = four_nodes()
    assert ssh_label(spec, spec.nodes[0]) == "root key"
    assert ssh_label(spec, spec.nodes[3]) == "ops key"


def test_runtime_choices_offer_docker_only_before_1_24() -> None:
    assert [v for _, v in opts.runtime_choices("1.23.17")] == ["containerd", "docker"]
    assert [v for _, v in opts.runtime_choices("1.24.0")] == ["containerd"]


def test_version_choices_label_support_and_keep_the_file_version() -> None:
    choices = dict((v, label) for label, v in opts.version_choices("1.34.2"))
    assert "supported" in choices["1.37.1"]
    assert "legacy" in choices["1.23.17"]
    assert "end of life" in choices["1.34.2"]


def test_time_server_choices_round_trip() -> None:
    for choice in ("default", "china", "leave"):
        assert opts.time_choice(opts.time_servers(choice, "")) == choice
    servers = opts.time_servers(opts.CUSTOM, "a.example.com, b.example.com")
    assert servers == ["a.example.com", "b.example.com"]


def test_runs_list_counts_and_finds_the_kept_file(state_dir: Path) -> None:
    (run,) = list_runs(state_dir)
    assert (run.name, run.ok, run.failed) == ("lab", 2, 1)
    assert run.file_label == "cluster.yaml (kept with the run)"
    assert run_facts(state_dir, "lab")["cp-1"].os.id == "debian"
    assert list_runs(state_dir / "missing") == []


def test_runs_survive_a_corrupt_state_file(tmp_path: Path) -> None:
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "state.json").write_text("{not json")
    (run,) = list_runs(tmp_path)
    assert (run.name, run.ok, run.failed, run.cluster_file) == ("broken", 0, 0, None)


def test_every_binding_has_an_id_and_a_description() -> None:
    from textual.binding import Binding

    from k8stui.ui.app import K8sTuiApp
    from k8stui.ui.dialogs.confirm import ConfirmDialog
    from k8stui.ui.dialogs.host_key import HostKeyDialog
    from k8stui.ui.dialogs.paste_nodes import PasteNodesDialog
    from k8stui.ui.dialogs.save_as import SaveAsDialog
    from k8stui.ui.dialogs.ssh_defaults import SSHDefaultsDialog
    from k8stui.ui.screens.inventory import InventoryScreen
    from k8stui.ui.screens.node_form import NodeForm
    from k8stui.ui.screens.review import ReviewScreen
    from k8stui.ui.screens.start import StartScreen
    from k8stui.ui.screens.versions import VersionsScreen
    from k8stui.ui.screens.wizard import WizardScreen

    owners = (
        K8sTuiApp,
        ConfirmDialog,
        HostKeyDialog,
        PasteNodesDialog,
        SaveAsDialog,
        SSHDefaultsDialog,
        InventoryScreen,
        NodeForm,
        ReviewScreen,
        StartScreen,
        VersionsScreen,
        WizardScreen,
    )
    for owner in owners:
        for binding in owner.__dict__.get("BINDINGS", []):
            assert isinstance(binding, Binding), owner
            assert binding.id and binding.description and binding.tooltip, (owner.__name__, binding.key)
