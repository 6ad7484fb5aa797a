"""plan(spec, ...) -> for each node, the ordered steps that apply to it, plus the cross-node waits.

Planning needs no network: a node's OS comes from its facts when known, else `os:` in the file,
else the `--os` override. Script numbers are catalog positions, so they do not shift between OSes.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from k8stui.model.cluster import ClusterSpec, NodeSpec
from k8stui.model.facts import Facts, OsInfo
from k8stui.recipes.catalog import CATALOG
from k8stui.recipes.context import StepContext
from k8stui.recipes.protocol import script_name
from k8stui.recipes.render import render_step
from k8stui.recipes.step import Step, Target

UNKNOWN_OS = OsInfo("unknown", "")


@dataclass(frozen=True)
class PlannedStep:
    step: Step
    node: str
    number: int  # position in the catalog: the NN of `NN-<id>.sh`
    waits_for: tuple[tuple[str, str], ...] = ()  # (node, step id) on other nodes

    @property
    def key(self) -> tuple[str, str]:
        return (self.node, self.step.id)

    @property
    def script(self) -> str:
        return script_name(self.number, self.step.id)


@dataclass
class Plan:
    spec: ClusterSpec
    nodes: dict[str, list[PlannedStep]] = field(default_factory=dict)
    os: dict[str, OsInfo] = field(default_factory=dict)
    # step id -> the nodes its target names: fixed by the spec, so computed once per plan (not per
    # re-planned node, which made the facts phase O(nodes^2)).
    targeted: dict[str, set[str]] = field(default_factory=dict)

    def steps(self, node: str) -> list[PlannedStep]:
        return self.nodes[node]

    def find(self, node: str, step_id: str) -> PlannedStep | None:
        return next((p for p in self.nodes.get(node, []) if p.step.id == step_id), None)

    def __iter__(self) -> Iterator[PlannedStep]:
        for steps in self.nodes.values():
            yield from steps

    def context(self, node: str, facts: dict[str, Facts] | None = None,
                outputs: dict[str, str] | None = None) -> StepContext:
        facts = facts or {}
        spec_node = self.spec.node(node)
        return StepContext(self.spec, spec_node, self.os[node], facts.get(node), facts, outputs or {})

    def render(self, planned: PlannedStep, facts: dict[str, Facts] | None = None,
               outputs: dict[str, str] | None = None) -> str:
        return render_step(planned.step, planned.number, self.context(planned.node, facts, outputs))


def members(spec: ClusterSpec, target: Target | str) -> list[NodeSpec]:
    """The nodes a target names, in file order."""
    target = Target(target)
    first = spec.first_control_plane
    if target is Target.ALL:
        return list(spec.nodes)
    if target is Target.CONTROL_PLANES:
        return spec.control_planes
    if target is Target.FIRST_CONTROL_PLANE:
        return [first] if first else []
    if target is Target.OTHER_CONTROL_PLANES:
        return spec.control_planes[1:]
    return spec.workers


def node_os(node: NodeSpec, facts: dict[str, Facts] | None, override: str | None) -> OsInfo:
    if facts and node.name in facts:
        return facts[node.name].os
    text = node.os or override
    return OsInfo.parse(text) if text else UNKNOWN_OS


def build_plan(spec: ClusterSpec, facts: dict[str, Facts] | None = None,
               os_override: str | None = None) -> Plan:
    plan = Plan(spec)
    for node in spec.nodes:
        plan.os[node.name] = node_os(node, facts, os_override)
    plan.targeted = {s.id: {n.name for n in members(spec, s.targets)} for s in CATALOG}
    for node in spec.nodes:
        plan.nodes[node.name] = _choose(plan, node.name, facts, plan.targeted)
    _link(plan, list(plan.nodes))
    return plan


def replan_node(plan: Plan, node: str, facts: dict[str, Facts]) -> list[PlannedStep]:
    """Re-plan one node in place once its facts (OS) are known; the other nodes' lists stay.

    Rebuilding the whole plan after every node's facts made a run O(nodes^3); only this node's
    steps can change (OS-dependent steps have no cross-node dependents).
    """
    plan.os[node] = node_os(plan.spec.node(node), facts, None)
    if not plan.targeted:
        plan.targeted = {s.id: {n.name for n in members(plan.spec, s.targets)} for s in CATALOG}
    plan.nodes[node] = _choose(plan, node, facts, plan.targeted)
    _link(plan, [node])
    return plan.nodes[node]


def _choose(plan: Plan, node: str, facts: dict[str, Facts] | None,
            targeted: dict[str, set[str]]) -> list[PlannedStep]:
    ctx = plan.context(node, facts)
    return [PlannedStep(step, node, number) for number, step in enumerate(CATALOG)
            if node in targeted[step.id] and step.applies(ctx)]


def _link(plan: Plan, names: list[str]) -> None:
    """Resolve `needs` of `names` into concrete (node, step) waits, keeping only planned steps."""
    # Planned ids and group members computed once: looking them up per need made every plan
    # O(nodes^2) scans, which dominated a 200-node run.
    planned_ids = {n: {p.step.id for p in steps} for n, steps in plan.nodes.items()}
    groups: dict[str, list[str]] = {}
    for name in names:
        linked = []
        for planned in plan.nodes[name]:
            waits = []
            for need in planned.step.needs:
                if need.on != "self" and need.on not in groups:
                    groups[need.on] = [n.name for n in members(plan.spec, need.on)]
                nodes = [name] if need.on == "self" else groups[need.on]
                waits += [(n, need.step) for n in nodes if n != name and need.step in planned_ids[n]]
            linked.append(PlannedStep(planned.step, name, planned.number, tuple(waits)))
        plan.nodes[name] = linked
