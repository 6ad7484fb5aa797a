"""What the Review screen can show: the cluster file, kubeadm config, and each planned step's script.

Rendering is done on demand (one document at a time) and every failure becomes readable text, so a
half-finished template or an impossible spec never takes the screen down.
"""

from __future__ import annotations

from dataclasses import dataclass

from jinja2 import TemplateError

from k8stui.model.cluster import ClusterSpec
from k8stui.model.facts import Facts
from k8stui.model.problems import Problem
from k8stui.recipes import artifacts
from k8stui.recipes.plan import Plan, PlannedStep, build_plan
from k8stui.recipes.step import Kind
from k8stui.ui.files import dump_cluster

RENDER_ERRORS = (TemplateError, ValueError, KeyError, LookupError, TypeError, AttributeError)


@dataclass(frozen=True)
class Document:
    """A text to show, and the language to highlight it as."""

    title: str
    text: str
    language: str


def make_plan(spec: ClusterSpec, facts: dict[str, Facts], preview_os: str) -> Plan:
    """The plan with each node's OS from facts, else its `os:`, else the chosen preview OS."""
    known = {name: f for name, f in facts.items() if any(n.name == name for n in spec.nodes)}
    return build_plan(spec, known, os_override=preview_os)


def os_source(spec: ClusterSpec, facts: dict[str, Facts], name: str) -> str:
    """Where a node's OS comes from, for the tree label."""
    if name in facts:
        return "tested"
    return "file" if spec.node(name).os else "preview"


def cluster_file(spec: ClusterSpec) -> Document:
    return Document("cluster.yaml", dump_cluster(spec), "yaml")


def problem_list(found: list[Problem], advice: list[Problem]) -> Document:
    """Every problem (blocks Install) and warning, one per line, as `k8stui validate` prints them."""
    lines = [f"error: {p}" for p in found] + [f"warning: {p}" for p in advice]
    return Document("problems.txt", "\n".join(lines or ["no problems, no warnings"]) + "\n", "text")


def kubeadm_config(spec: ClusterSpec) -> Document:
    try:
        text = artifacts.kubeadm_init_config(spec)
    except RENDER_ERRORS as exc:
        text = f"# cannot render the kubeadm config yet: {exc}\n"
    return Document("kubeadm-config.yaml", text, "yaml")


def cni_manifest(spec: ClusterSpec) -> Document:
    try:
        text = artifacts.cni_manifest(spec) or "# cni: none -- no CNI manifest is applied\n"
    except RENDER_ERRORS as exc:
        text = f"# cannot render the CNI manifest: {exc}\n"
    return Document("cni.yaml", text, "yaml")


def step_script(plan: Plan, planned: PlannedStep, facts: dict[str, Facts]) -> Document:
    title = f"{planned.node}/{planned.script}: {planned.step.title}"
    if planned.step.kind is Kind.LOCAL:
        waits = ", ".join(f"{step}@{node}" for node, step in planned.waits_for) or "nothing"
        text = (
            f"# {planned.step.title}: decided on the jump host, no script runs on {planned.node}.\n"
            f"# It waits for: {waits}\n"
        )
        return Document(title, text, "bash")
    try:
        text = plan.render(planned, facts)
    except RENDER_ERRORS as exc:
        text = f"# cannot render {planned.script}: {type(exc).__name__}: {exc}\n"
    return Document(title, text, "bash")
