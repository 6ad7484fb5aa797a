"""SIMULATION: one simulated node's state and how it plays a recipe step.

Nothing is executed: a step's script is stored and identified by its `# k8stui-step:` header, then
the node *pretends* to run it, printing realistic lines, progress and output markers, and records
the step as applied. `check` answers from that per-node record, so re-runs skip like real ones.
"""

from __future__ import annotations

import asyncio
import base64
import time
import uuid
from dataclasses import dataclass, field
from typing import Literal, Protocol

from k8stui.model.cluster import ClusterSpec, NodeSpec
from k8stui.model.facts import OsInfo
from k8stui.model.versions import Version
from k8stui.recipes.catalog import BY_ID
from k8stui.recipes.protocol import OUTPUT, PROGRESS, STATUS, STEP_HEADER
from k8stui.sim import ports, texts
from k8stui.sim.pki import HASH_RE, TOKEN_RE, SimPKI

JOIN_STEPS = frozenset({"join", "join-control-plane"})
PUBLISH_NEEDS_INIT = frozenset({"init", "fetch-kubeconfig", "smoke"})  # they read admin.conf
NEEDS_INIT = frozenset({"fetch-kubeconfig", "smoke", "kubeconfig", "cni", "untaint", *JOIN_STEPS})
CGROUP_V1_OS = frozenset({"centos-7", "centos-8", "rocky-8", "almalinux-8", "rhel-8", "ubuntu-20.04"})
KERNELS = {"ubuntu-20.04": "5.4.0-196-generic", "ubuntu-22.04": "5.15.0-122-generic",
           "ubuntu-24.04": "6.8.0-45-generic", "debian-11": "5.10.0-32-amd64", "debian-12": "6.1.0-26-amd64",
           "centos-7": "3.10.0-1160.119.1.el7.x86_64"}


@dataclass
class Fault:
    """A scripted misbehaviour: `fail` exits 1 with realistic errors; `hang` waits until killed."""

    kind: Literal["fail", "hang"]
    times: int = 1  # how many runs of the step misbehave before it behaves


class Output(Protocol):
    def out(self, line: str) -> None: ...
    def err(self, line: str) -> None: ...
    async def drain(self) -> None: ...


class StepFailed(Exception):
    """The simulated step failed: these lines go to stderr and the step exits 1."""

    def __init__(self, lines: list[str]) -> None:
        super().__init__(lines[0] if lines else "failed")
        self.lines = lines


@dataclass(eq=False)
class World:
    """What all nodes of one simulated cluster share: spec, credentials, timing, faults."""

    spec: ClusterSpec
    pki: SimPKI
    os: OsInfo
    step_seconds: float = 1.5
    speed: float = 1.0
    lines_per_second: float | None = None
    faults: dict[tuple[str, str], Fault] = field(default_factory=dict)
    nodes: dict[str, SimNode] = field(default_factory=dict)
    token_expires: str = ""
    sudo_password: str | None = None  # the login user's sudo password (None: NOPASSWD or root)
    # (source, target, "tcp/6443"): probes of these pairs time out, as a dropped port does.
    blocked_ports: set[tuple[str, str, str]] = field(default_factory=set)

    @property
    def duration(self) -> float:
        return self.step_seconds / self.speed if self.speed > 0 else 0.0

    @property
    def initialised(self) -> bool:
        first = self.spec.first_control_plane
        return first is not None and "init" in self.nodes[first.name].applied

    def take_fault(self, node: str, step: str) -> Fault | None:
        """The fault for this run, if any (`("*", step)` matches every node); uses up one time."""
        key = next((k for k in ((node, step), ("*", step)) if k in self.faults), None)
        if key is None:
            return None
        fault = self.faults[key]
        fault.times -= 1
        if fault.times <= 0:
            del self.faults[key]
        return fault

    def node_status(self) -> str:
        return ",".join(f"{n.name}={'Ready' if n.joined else 'NotReady'}" for n in self.nodes.values())


@dataclass(eq=False)
class SimNode:
    """One simulated machine. Tests read `applied`, `connections` and `commands`."""

    spec: NodeSpec
    index: int
    world: World
    address: str
    port: int = 0
    host_key: str = ""  # "ssh-ed25519 AAAA...", as in known_hosts
    applied: set[str] = field(default_factory=set)
    connections: int = 0
    commands: list[str] = field(default_factory=list)
    scripts: dict[str, str] = field(default_factory=dict)  # uploaded path -> content
    running: dict[str, asyncio.Task[int]] = field(default_factory=dict)  # script path -> its play

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def joined(self) -> bool:
        """Part of the cluster: initialised it or joined it."""
        return bool(self.applied & {"init", *JOIN_STEPS})

    @property
    def ip(self) -> str:
        return self.spec.node_ip or self.address

    @property
    def mac(self) -> str:
        return "52:54:00:{:02x}:{:02x}:{:02x}".format(*(self.index + 1).to_bytes(3, "big"))

    @property
    def product_uuid(self) -> str:
        return str(uuid.uuid5(uuid.NAMESPACE_DNS, f"{self.world.spec.name}.{self.name}.k8stui-sim")).upper()

    def script_header(self, content: str) -> tuple[str | None, str | None]:
        """(step id, node name) from the script's `# k8stui-step: <id> <node>` header line."""
        for line in content.splitlines()[:5]:
            if line.startswith(STEP_HEADER):
                words = line[len(STEP_HEADER):].split()
                return (words[0] if words else None), (words[1] if len(words) > 1 else None)
        return None, None

    # --- what a step publishes --------------------------------------------------------------

    def facts(self) -> dict[str, str]:
        """Every key `Facts.from_outputs` reads, describing this node as it is now."""
        os = self.world.os
        cp = self.spec.is_control_plane
        done = self.applied
        version = self.world.spec.kubernetes.version
        packages = ",".join(f"{p}={version}" for p in ("kubeadm", "kubelet", "kubectl"))
        runtime = texts.containerd_version(Version.parse(version))
        return {
            "hostname": self.name, "os_id": os.id, "os_version": os.version,
            "kernel": KERNELS.get(str(os), "5.14.0-427.13.1.el9_4.x86_64"), "arch": "x86_64",
            "cpus": "4" if cp else "2", "memory_mb": "7937" if cp else "3911",
            "cgroup_version": "1" if str(os) in CGROUP_V1_OS else "2",
            "product_uuid": self.product_uuid,
            "nics": f"lo|00:00:00:00:00:00|127.0.0.1/8;eth0|{self.mac}|{self.ip}/16",
            "swap_kb": "0",
            "firewall": "firewalld" if os.family == "el" and "firewall" not in done else "none",
            "selinux": _selinux(os, done),
            "runtime": f"containerd {runtime}" if "containerd" in done else "none",
            "kube_packages": packages if "kube-packages" in done else "",
            "epoch": f"{time.time():.3f}", "modules": "br_netfilter,overlay",
        }

    def outputs(self, step: str, script: str = "") -> dict[str, str]:
        """The `::k8stui-output::` values of `step` (raises StepFailed when it cannot publish)."""
        world, pki = self.world, self.world.pki
        if step == "facts":
            return self.facts()
        if step in ports.STEPS:
            blocked = {(target, key) for source, target, key in world.blocked_ports if source == self.name}
            return ports.outputs(step, script, blocked)
        if step in PUBLISH_NEEDS_INIT and not world.initialised:
            raise StepFailed(["cat: /etc/kubernetes/admin.conf: No such file or directory"])
        if step == "init":
            key = pki.certificate_key if world.spec.kubernetes.control_plane_endpoint else None
            join = f"kubeadm join {texts.api_server(world.spec)} --token {pki.token} " \
                   f"--discovery-token-ca-cert-hash {pki.ca_hash}"
            values = {"join_command": join, "token": pki.token, "ca_hash": pki.ca_hash,
                      "token_expires": world.token_expires}
            return values | ({"certificate_key": key} if key else {})
        if step == "fetch-kubeconfig":
            kubeconfig = pki.kubeconfig(texts.api_server(world.spec))
            return {"kubeconfig_b64": base64.b64encode(kubeconfig.encode()).decode()}
        if step == "smoke":
            return {"smoke_result": "passed", "node_status": world.node_status()}
        return {}

    def publish(self, step: str, out: Output, script: str = "") -> None:
        for key, value in self.outputs(step, script).items():
            out.out(f"{OUTPUT} {key}={value}")

    # --- playing a step ---------------------------------------------------------------------

    async def play(self, step: str, mode: str, script: str, out: Output) -> int:
        """Pretend to run `<script> <mode>`; returns the exit status."""
        if mode == "check":
            return 0 if step in self.applied else 1
        try:
            if mode == "publish":
                self.publish(step, out, script)
                return 0
            return await self._run(step, mode, script, out)
        except StepFailed as failed:
            for line in failed.lines:
                out.err(line)
            return 1

    async def _run(self, step: str, mode: str, script: str, out: Output) -> int:
        read_only = _read_only(step)
        if mode == "run" and not read_only and step in self.applied:
            out.out(f"{STATUS} skipped")
            self.publish(step, out, script)
            return 0
        await self._apply(step, script, out)
        if mode == "run":
            if not read_only:
                out.out(f"{STATUS} changed")
            self.publish(step, out, script)
        return 0

    async def _apply(self, step: str, script: str, out: Output) -> None:
        world = self.world
        if step in NEEDS_INIT and not world.initialised:
            raise StepFailed(texts.failure_lines(step, world.spec, self.spec, world.os))
        if step in JOIN_STEPS:
            self._validate_join(script)
        fault = world.take_fault(self.name, step)  # only a run that gets this far uses one up
        lines = texts.step_lines(step, world.spec, self.spec, world.os)
        if step == "facts":
            lines = [texts.BANNER.format(name=self.name), *lines]
        if fault is None:
            await self._emit(step, lines, out)
            if step == "init":
                self._init_done(out)
            self.applied.add(step)
            return
        await self._emit(step, lines[: max(1, len(lines) // 2)], out)
        if fault.kind == "hang":
            await out.drain()  # what was printed so far is visible while it hangs
            await asyncio.Event().wait()  # until the kill command, the timeout or a closed channel
        raise StepFailed(texts.failure_lines(step, world.spec, self.spec, world.os))

    def _init_done(self, out: Output) -> None:
        world = self.world
        world.token_expires = world.pki.token_expires(world.spec.kubernetes.token_ttl)
        key = world.pki.certificate_key if world.spec.kubernetes.control_plane_endpoint else None
        for line in texts.join_block(world.spec, world.pki.token, world.pki.ca_hash, key):
            out.out(line)

    def _validate_join(self, script: str) -> None:
        """A join script must carry this cluster's token and CA hash, as kubeadm would insist."""
        pki = self.world.pki
        tokens = TOKEN_RE.findall(script)
        if not pki.tokens & set(tokens):
            token_id = tokens[0].split(".")[0] if tokens else "<none>"
            raise StepFailed([
                "error execution phase preflight: couldn't validate the identity of the API Server: "
                f"could not find a JWS signature in the cluster-info ConfigMap for token ID \"{token_id}\"",
                "To see the stack trace of this error execute with --v=5 or higher"])
        hashes = HASH_RE.findall(script)
        if pki.ca_hash_hex not in hashes:
            pinned = ", ".join(f"sha256:{h}" for h in hashes) or "<none>"
            raise StepFailed([
                "error execution phase preflight: couldn't validate the identity of the API Server: "
                f"cluster CA found in cluster-info ConfigMap is invalid: none of the public keys "
                f"\"{pki.ca_hash}\" are pinned (pinned: {pinned})",
                "To see the stack trace of this error execute with --v=5 or higher"])

    async def _emit(self, step: str, lines: list[str], out: Output) -> None:
        """Print `lines` (plus filler at `lines_per_second`) spread over the step's duration."""
        world = self.world
        total = len(lines)
        if world.lines_per_second:
            total = max(total, int(world.duration * world.lines_per_second))
        loop = asyncio.get_running_loop()
        start, interval = loop.time(), (world.duration / total if total else 0.0)
        every = max(1, total // 4)
        for i in range(total):
            line = lines[i] if i < len(lines) else texts.filler_line(step, i, world.os)
            if i % every == 0:
                out.out(f"{PROGRESS} {i + 1}/{total} {line.strip()[:60] or step}")
            out.out(line)
            await _pace(loop, start + (i + 1) * interval, out)


async def _pace(loop: asyncio.AbstractEventLoop, target: float, out: Output) -> None:
    """Sleep until `target` (batched: short gaps accumulate), letting the channel drain."""
    delay = target - loop.time()
    if delay > 0.005:
        await out.drain()
        await asyncio.sleep(delay)


def _read_only(step: str) -> bool:
    """`changes=False` in the catalog: always runs, no status line (as `_base.sh.j2` renders it)."""
    known = BY_ID.get(step)
    return known is not None and not known.changes


def _selinux(os: OsInfo, done: set[str]) -> str:
    if os.family != "el":
        return "absent"
    return "permissive" if "selinux" in done else "enforcing"
