"""kubeadm's reading of --config files: which kubeadm.k8s.io API versions this kubeadm accepts, v1beta4's
list-style extraArgs against v1beta3's maps, and the kubernetesVersion skew rule (own minor or one older)."""

from __future__ import annotations

import os
from typing import Any

from . import miniyaml, state

KUBEADM_GROUP = "kubeadm.k8s.io"
OTHER = {
    "KubeletConfiguration": "kubelet.config.k8s.io/v1beta1",
    "KubeProxyConfiguration": "kubeproxy.config.k8s.io/v1alpha1",
}


def accepted(kubeadm_minor: int) -> list[str]:
    """API versions of kubeadm.k8s.io this kubeadm decodes (facts sheet section 3)."""
    out = []
    if 15 <= kubeadm_minor <= 26:
        out.append("v1beta2")
    if 22 <= kubeadm_minor <= 36:
        out.append("v1beta3")
    if kubeadm_minor >= 31:
        out.append("v1beta4")
    return out


def load(path: str, kubeadm_minor: int) -> dict[str, dict[str, Any]]:
    """kind -> document; fails like kubeadm on unknown API versions and wrong extraArgs shapes."""
    if not os.path.isfile(state.root(path)):
        state.fail(f"unable to read config from {path!r} [open {path}: no such file or directory]", 1)
    try:
        docs = miniyaml.load_all(state.read(path))
    except miniyaml.YamlError as exc:
        state.fail(f"error converting YAML to JSON: yaml: {exc}", 1)
    out: dict[str, dict[str, Any]] = {}
    for doc in docs:
        api, kind = str(doc.get("apiVersion", "")), str(doc.get("kind", ""))
        group, _, version = api.partition("/")
        if group == KUBEADM_GROUP:
            _check_version(kind, version, kubeadm_minor)
            _check_extra_args(doc, kind, version)
        elif OTHER.get(kind) != api:
            state.fail(
                f'no kind "{kind}" is registered for version "{api}" in scheme '
                '"k8s.io/kubernetes/cmd/kubeadm/app/apis/kubeadm/scheme/scheme.go:31"',
                1,
            )
        out[kind] = doc
    return out


def _check_version(kind: str, version: str, minor: int) -> None:
    ok = accepted(minor)
    if version in ok:
        return
    known = ["v1beta1", "v1beta2", "v1beta3", "v1beta4"]
    if version in known and known.index(version) < known.index(ok[0]):
        state.fail(
            f'your configuration file uses an old API spec: "{KUBEADM_GROUP}/{version}". Please use '
            f"kubeadm v1.{minor - 1} instead and run 'kubeadm config migrate --old-config old.yaml "
            "--new-config new.yaml', which will write the new, similar spec using a newer API version.",
            1,
        )
    state.fail(
        f'no kind "{kind}" is registered for version "{KUBEADM_GROUP}/{version}" in scheme '
        '"k8s.io/kubernetes/cmd/kubeadm/app/apis/kubeadm/scheme/scheme.go:31"',
        1,
    )


def _extra_args_fields(doc: dict[str, Any]) -> list[tuple[str, Any]]:
    found = [
        ("nodeRegistration.kubeletExtraArgs", (doc.get("nodeRegistration") or {}).get("kubeletExtraArgs"))
    ]
    for comp in ("apiServer", "controllerManager", "scheduler"):
        found.append((f"{comp}.extraArgs", (doc.get(comp) or {}).get("extraArgs")))
    found.append(("etcd.local.extraArgs", ((doc.get("etcd") or {}).get("local") or {}).get("extraArgs")))
    return [(name, value) for name, value in found if value is not None]


def _check_extra_args(doc: dict[str, Any], kind: str, version: str) -> None:
    for field, value in _extra_args_fields(doc):
        if version == "v1beta4":
            if not isinstance(value, list) or not all(
                isinstance(a, dict) and set(a) == {"name", "value"} for a in value
            ):
                state.fail(
                    f"{kind}: json: cannot unmarshal object into Go struct field {field} of type "
                    "[]v1beta4.Arg",
                    1,
                )
        elif not isinstance(value, dict):
            state.fail(
                f"{kind}: json: cannot unmarshal array into Go struct field {field} of type "
                "map[string]string",
                1,
            )


def args_dict(value: Any) -> dict[str, str]:
    """extraArgs of either style as a dict."""
    if isinstance(value, list):
        return {str(a["name"]): str(a["value"]) for a in value}
    return {str(k): str(v) for k, v in (value or {}).items()}


def check_version_skew(wanted: str, kubeadm_version: str) -> str:
    """The normalised kubernetesVersion, failing when this kubeadm cannot deploy it."""
    text = wanted if wanted.startswith("v") else f"v{wanted}"
    parts = text[1:].split(".")
    if len(parts) != 3 or not all(p.isdigit() for p in parts):
        state.fail(f'couldn\'t parse Kubernetes version "{wanted}"', 1)
    minor, own = int(parts[1]), int(kubeadm_version.split(".")[1])
    if minor > own:
        state.fail(
            f"the specified version to deploy ({text}) is newer than the kubeadm version "
            f"(v{kubeadm_version}): kubeadm v1.{own} cannot deploy it",
            1,
        )
    if minor < own - 1:
        state.fail(
            f"this version of kubeadm only supports deploying clusters with the control plane version >= "
            f"1.{own - 1}.0. Current version: {text}",
            1,
        )
    return text
