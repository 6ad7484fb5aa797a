"""`k8stui init`, `schema` and `validate` through `k8stui.cli.main`, and from a fresh `pip install`."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from k8stui.cli import main
from k8stui.commands.init import example_text
from k8stui.model import rules
from k8stui.model.cluster import ClusterSpec
from k8stui.model.load import SECTIONS, dump_cluster, parse_cluster

ROOT = Path(__file__).resolve().parents[2]
Cap = pytest.CaptureFixture[str]


def run(capsys: Cap, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def write(tmp_path: Path, text: str | bytes, name: str = "cluster.yaml") -> str:
    path = tmp_path / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return str(path)


# ------------------------------------------------------------------------------------------- example


def test_example_is_valid_without_warnings() -> None:
    spec = parse_cluster(example_text(), "example")
    assert rules.warnings(spec) == []
    assert parse_cluster(dump_cluster(spec)) == spec


def test_example_mentions_every_key() -> None:
    text = example_text()
    for model in SECTIONS.values():
        for name, field in model.model_fields.items():
            if name != "password":
                assert f"{field.alias or name}:" in text, field.alias


def test_example_shows_the_china_presets() -> None:
    text = example_text()
    for preset in ("aliyun", "aliyun-legacy", "ustc", "tuna", "registry.aliyuncs.com/google_containers"):
        assert preset in text


# ---------------------------------------------------------------------------------------------- init


def test_init_to_stdout(capsys: Cap) -> None:
    code, out, _ = run(capsys, "init", "-o", "-")
    assert code == 0 and out == example_text()


def test_init_writes_refuses_to_overwrite_then_forces(tmp_path: Path, capsys: Cap) -> None:
    target = tmp_path / "c.yaml"
    assert run(capsys, "init", "-o", str(target))[0] == 0
    assert target.read_text() == example_text()
    target.write_text("mine")
    code, _, err = run(capsys, "init", "-o", str(target))
    assert code == 2 and "--force" in err and target.read_text() == "mine"
    assert run(capsys, "init", "-o", str(target), "--force")[0] == 0
    assert target.read_text() == example_text()


def test_init_into_missing_directory(tmp_path: Path, capsys: Cap) -> None:
    code, _, err = run(capsys, "init", "-o", str(tmp_path / "no" / "c.yaml"))
    assert code == 2 and "cannot write" in err


# -------------------------------------------------------------------------------------------- schema


def test_schema_is_json_with_file_keys(capsys: Cap) -> None:
    code, out, _ = run(capsys, "schema")
    schema = json.loads(out)
    assert code == 0 and schema["$schema"].endswith("2020-12/schema")
    assert list(schema["properties"]) == ["apiVersion", "kind", "name", "kubernetes", "network", "hostPrep",
                                          "ssh", "nodes"]
    assert schema["additionalProperties"] is False
    node = schema["$defs"]["NodeSpec"]["properties"]
    assert "internalIP" in node and "internal_ip" not in node
    assert "tokenTTL" in schema["$defs"]["KubernetesSpec"]["properties"]
    assert all("password" not in d.get("properties", {}) for d in schema["$defs"].values())


# ------------------------------------------------------------------------------------------ validate


def test_validate_ok_summary(tmp_path: Path, capsys: Cap) -> None:
    code, out, err = run(capsys, "validate", "-f", write(tmp_path, example_text()))
    assert code == 0 and err == ""
    assert out == ('ok: cluster "lab", 3 nodes (1 control plane, 2 workers), Kubernetes 1.35.3, '
                   "containerd, flannel, official mirror\n")


def test_validate_ok_with_warnings(tmp_path: Path, capsys: Cap) -> None:
    text = "kubernetes: {version: '1.34', tokenTTL: 0}\n"
    text += "nodes: [{name: a, address: 10.0.0.1, role: control-plane}]\n"
    code, out, err = run(capsys, "validate", "-f", write(tmp_path, text))
    assert code == 0
    assert out.startswith('ok: cluster "lab", 1 node (1 control plane, 0 workers), Kubernetes 1.34.6')
    lines = err.splitlines()
    assert all(line.startswith("warning: ") for line in lines)
    assert any(line.startswith("warning: kubernetes.tokenTTL: ") for line in lines)


def test_validate_problems_exit_2(tmp_path: Path, capsys: Cap) -> None:
    text = example_text().replace("internalIP: 10.0.0.11", "internalIp: 10.0.0.11")
    text = text.replace("role: worker", "role: w", 1)
    code, out, err = run(capsys, "validate", "-f", write(tmp_path, text))
    assert code == 2 and out == ""
    lines = err.splitlines()
    rows = enumerate(text.splitlines(), 1)
    numbers = [i for i, row in rows if "internalIp:" in row or row.strip() == "role: w"]
    hint = "unknown key; did you mean 'internalIP'?"
    assert lines[0] == f"error: nodes[0].internalIp: {hint} (line {numbers[0]})"
    assert lines[1].startswith("error: nodes[1].role: must be 'control-plane' or 'worker'")
    assert lines[1].endswith(f"(line {numbers[1]})")
    assert lines[-1].endswith("2 problems; nothing was contacted")


@pytest.mark.parametrize(
    "content",
    ["", "[1, 2]", b"\xff\xfe\x00garbage\x00", "a: [\n", "nodes: &a [*a]", "ssh: {password: x}",
     "kubernetes: {version: 1.99}\nnodes: []", "port: " + "9" * 5000],
)
def test_validate_never_tracebacks(tmp_path: Path, capsys: Cap, content: str | bytes) -> None:
    code, out, err = run(capsys, "validate", "-f", write(tmp_path, content))
    assert code == 2 and out == ""
    assert "Traceback" not in err and err.count("error: ") >= 1


def test_validate_missing_file(tmp_path: Path, capsys: Cap) -> None:
    code, _, err = run(capsys, "validate", "-f", str(tmp_path / "absent.yaml"))
    assert code == 2 and "cannot read" in err


def test_summary_for_custom_mirror_and_no_cni() -> None:
    from k8stui.commands.validate import summary

    spec = ClusterSpec.model_validate({
        "kubernetes": {"version": "1.35", "packageMirror": "https://mirror.example/k8s"},
        "network": {"cni": "none"},
        "nodes": [{"name": "a", "address": "10.0.0.1", "role": "control-plane"},
                  {"name": "b", "address": "10.0.0.2"}],
    })
    assert summary(spec) == ('cluster "lab", 2 nodes (1 control plane, 1 worker), Kubernetes 1.35.3, '
                             "containerd, no CNI, mirror https://mirror.example/k8s")


# ------------------------------------------------------------------------------------- packaging


def _copy_source(dest: Path) -> Path:
    """The files `pip install .` reads, copied so the build leaves nothing in the checkout."""
    src = dest / "src"
    src.mkdir()
    for name in ("pyproject.toml", "README.md"):
        if (ROOT / name).exists():
            shutil.copy2(ROOT / name, src / name)
    shutil.copytree(ROOT / "k8stui", src / "k8stui", ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    return src


def _fresh_venv(dest: Path) -> Path:
    """A venv whose only k8stui is the one pip installs; dependencies come from this interpreter's
    site-packages through a .pth line (nothing is downloaded)."""
    venv = dest / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", "--without-pip", str(venv)],
                   check=True, timeout=60)
    python = venv / "bin" / "python"
    purelib = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                             check=True, capture_output=True, text=True, timeout=30).stdout.strip()
    Path(purelib, "_k8stui_test_deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    return venv


@pytest.mark.slow
def test_pip_install_gives_a_working_cli(tmp_path: Path) -> None:
    src, venv = _copy_source(tmp_path), _fresh_venv(tmp_path)
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    subprocess.run([sys.executable, "-m", "pip", "--python", str(venv / "bin" / "python"), "install", "-q",
                    "--no-deps", "--no-build-isolation", "--no-input", str(src)],
                   check=True, timeout=120, env=env, cwd=tmp_path, capture_output=True)
    cli = str(venv / "bin" / "k8stui")
    shown = subprocess.run([cli, "init", "-o", "-"], capture_output=True, text=True, timeout=30, env=env,
                           cwd=tmp_path)
    assert shown.returncode == 0 and shown.stdout == example_text()
    assert subprocess.run([cli, "init", "-o", "c.yaml"], timeout=30, env=env, cwd=tmp_path).returncode == 0
    checked = subprocess.run([cli, "validate", "-f", "c.yaml"], capture_output=True, text=True, timeout=30,
                             env=env, cwd=tmp_path)
    assert checked.returncode == 0 and checked.stdout.startswith('ok: cluster "lab"')
    where = subprocess.run([str(venv / "bin" / "python"), "-c", "import k8stui; print(k8stui.__file__)"],
                           capture_output=True, text=True, timeout=30, env=env, cwd=tmp_path).stdout
    assert where.startswith(str(venv))
