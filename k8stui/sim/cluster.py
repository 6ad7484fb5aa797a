"""SIMULATION: a whole cluster of simulated nodes served by one in-process asyncssh server set.

`SimCluster.start(workdir)` plays N machines, each on its own loopback address (127.0.0.11, .12, ...;
all of 127/8 routes to `lo` on Linux; past 200 nodes the next block, 127.0.1.11 ...), each with
its own freshly generated ed25519 host key and an ephemeral port. Only the client key written to
`workdir/id_ed25519` may log in, and `workdir/known_hosts` lists every node's host key as
`[127.0.0.11]:PORT ssh-ed25519 ...`, so a real client connects with hostKeyPolicy strict.
`cluster.spec` is a valid cluster file for those nodes. Nothing is installed anywhere: the nodes
only pretend to run the recipe steps (see k8stui.sim.node).
"""

from __future__ import annotations

import asyncio
import dataclasses
import os as _os
from pathlib import Path
from types import TracebackType

import asyncssh

from k8stui.model import versions
from k8stui.model.cluster import ClusterSpec
from k8stui.model.facts import OsInfo
from k8stui.model.versions import Version
from k8stui.sim.node import Fault, SimNode, World
from k8stui.sim.pki import SimPKI
from k8stui.sim.server import NodeServer, process_factory

__all__ = ["Fault", "SimCluster", "SimNode", "node_address"]

NODES_PER_BLOCK = 200
FIRST_HOST = 11
# AES-GCM only: with AES-NI it costs a fraction of chacha20-poly1305 in pure-Python asyncssh, and the
# server's CPU is shared with the client under test in this one process. Clients negotiate it as usual.
SIM_CIPHERS = ("aes128-gcm@openssh.com", "aes256-gcm@openssh.com")
ENDPOINT = "k8s-api.sim.internal:6443"  # multi-control-plane sims need an endpoint; nothing resolves it


# The demo installs the newest upstream-supported minor (its latest known patch).
DEMO_VERSION = str(Version.parse(f"1.{max(versions.SUPPORTED_MINORS)}"))


def node_address(index: int) -> tuple[str, str]:
    """(loopback SSH address, fake internal IP) of the index-th node: 127.0.B.H and 10.77.B.H."""
    block, host = divmod(index, NODES_PER_BLOCK)
    return f"127.0.{block}.{FIRST_HOST + host}", f"10.77.{block}.{FIRST_HOST + host}"


def _layout(control_planes: int, workers: int) -> list[tuple[str, str]]:
    """(name, role) of every node, control planes first."""
    cps = [(f"cp-{i + 1}", "control-plane") for i in range(control_planes)]
    return cps + [(f"node-{i + 1}", "worker") for i in range(workers)]


def _spec(workdir: Path, layout: list[tuple[str, str]], ports: list[int], os: str,
          version: str, user: str) -> ClusterSpec:
    nodes = []
    for index, ((name, role), port) in enumerate(zip(layout, ports, strict=True)):
        address, internal = node_address(index)
        nodes.append({"name": name, "address": address, "internalIP": internal, "role": role, "os": os,
                      "ssh": {"port": port}})
    endpoint = ENDPOINT if sum(role == "control-plane" for _, role in layout) > 1 else None
    return ClusterSpec.model_validate({
        "name": "sim",
        "kubernetes": {"version": version, "controlPlaneEndpoint": endpoint},
        "ssh": {"user": user, "identityFile": str(workdir / "id_ed25519"),
                "knownHosts": str(workdir / "known_hosts"), "hostKeyPolicy": "strict"},
        "nodes": nodes,
    })


def _write_private(path: Path, data: bytes) -> None:
    """0600 from the start: a key file is never world-readable, not even for a moment."""
    fd = _os.open(path, _os.O_WRONLY | _os.O_CREAT | _os.O_TRUNC, 0o600)
    _os.fchmod(fd, 0o600)  # a reused workdir may hold an older, wider file
    with _os.fdopen(fd, "wb") as handle:
        handle.write(data)


class SimCluster:
    """N simulated nodes; use `async with await SimCluster.start(tmp_path) as sim:`."""

    def __init__(self, workdir: Path, world: World, client_key: asyncssh.SSHKey) -> None:
        self.workdir = workdir
        self.world = world
        self.client_key = client_key
        self._acceptors: list[asyncssh.SSHAcceptor] = []
        self._live: set[asyncssh.SSHServerConnection] = set()

    @classmethod
    async def start(cls, workdir: Path, *, workers: int = 3, control_planes: int = 1, speed: float = 1.0,
                    step_seconds: float = 1.5, os: str = "ubuntu-22.04", version: str = "1.34.6",
                    faults: dict[tuple[str, str], Fault] | None = None,
                    lines_per_second: float | None = None, user: str = "root",
                    sudo_password: str | None = None) -> SimCluster:
        """Start the nodes. A non-root `user` goes through sudo (NOPASSWD unless `sudo_password` is
        given; that password is never written anywhere: hand it to the client as a secret)."""
        if control_planes < 1:
            raise ValueError("a simulated cluster needs at least one control-plane node")
        workdir = Path(workdir)
        workdir.mkdir(parents=True, exist_ok=True)
        workdir.chmod(0o700)
        layout = _layout(control_planes, workers)
        spec = _spec(workdir, layout, [22] * len(layout), os, version, user)  # real ports once bound
        world = World(spec, SimPKI(), OsInfo.parse(os), step_seconds, speed, lines_per_second,
                      sudo_password=sudo_password)
        sim = cls(workdir, world, asyncssh.generate_private_key("ssh-ed25519"))
        try:
            ports = await sim._listen(spec)
        except BaseException:
            await sim.stop()
            raise
        sim._finish(_spec(workdir, layout, ports, os, version, user))
        for (node, step), fault in (faults or {}).items():
            sim.inject(node, step, fault)
        return sim

    async def _listen(self, spec: ClusterSpec) -> list[int]:
        authorized = asyncssh.import_authorized_keys(self.client_key.export_public_key().decode())
        for index, node_spec in enumerate(spec.nodes):
            self.world.nodes[node_spec.name] = SimNode(node_spec, index, self.world, node_spec.address)
        # One host key per node, generated fresh: ed25519 is cheap even for hundreds of nodes.
        serving = (self._serve(node, authorized) for node in self.world.nodes.values())
        return list(await asyncio.gather(*serving))

    async def _serve(self, node: SimNode, authorized: asyncssh.SSHAuthorizedKeys) -> int:
        host_key = asyncssh.generate_private_key("ssh-ed25519")
        acceptor = await asyncssh.listen(
            node.address, 0, server_host_keys=[host_key], authorized_client_keys=authorized,
            server_factory=lambda: NodeServer(node, self._live), process_factory=process_factory(node),
            encoding="utf-8", line_editor=False, allow_scp=False, agent_forwarding=False,
            x11_forwarding=False, login_timeout=30, encryption_algs=SIM_CIPHERS,
        )
        self._acceptors.append(acceptor)
        node.port = acceptor.get_port()
        node.host_key = " ".join(host_key.export_public_key().decode().split()[:2])
        return node.port

    def _finish(self, spec: ClusterSpec) -> None:
        """Adopt the spec with real ports; write the client key and known_hosts."""
        self.world.spec = spec
        for node in self.world.nodes.values():
            node.spec = spec.node(node.name)
        _write_private(self.workdir / "id_ed25519", self.client_key.export_private_key())
        (self.workdir / "id_ed25519.pub").write_bytes(self.client_key.export_public_key())
        lines = [f"[{n.address}]:{n.port} {n.host_key}\n" for n in self.world.nodes.values()]
        (self.workdir / "known_hosts").write_text("".join(lines))

    # --- the public surface ---------------------------------------------------------------

    @property
    def spec(self) -> ClusterSpec:
        return self.world.spec

    @property
    def nodes(self) -> list[SimNode]:
        return list(self.world.nodes.values())

    @property
    def known_hosts(self) -> Path:
        return self.workdir / "known_hosts"

    @property
    def identity_file(self) -> Path:
        return self.workdir / "id_ed25519"

    @property
    def token(self) -> str:
        return self.world.pki.token

    @property
    def ca_hash(self) -> str:
        """`sha256:<hex>` over the SPKI of `ca_cert_pem`."""
        return self.world.pki.ca_hash

    @property
    def ca_cert_pem(self) -> bytes:
        return self.world.pki.ca_cert_pem

    def node(self, name: str) -> SimNode:
        return self.world.nodes[name]

    def inject(self, node: str, step: str, fault: Fault) -> None:
        """Make `step` misbehave on `node` ("*" = every node) for the next `fault.times` runs."""
        if node != "*" and node not in self.world.nodes:
            raise KeyError(f"no simulated node {node!r}")
        self.world.faults[(node, step)] = dataclasses.replace(fault)

    def clear_faults(self) -> None:
        self.world.faults.clear()
        self.world.blocked_ports.clear()

    def block_port(self, source: str, target: str, port: str) -> None:
        """Drop `port` ("tcp/6443") from `source` to `target`: the port matrix reports that pair blocked."""
        self.world.blocked_ports.add((source, target, port))

    async def connect(self, name: str, **options: object) -> asyncssh.SSHClientConnection:
        """A raw asyncssh client connection to a node, verifying its host key (tests, benchmarks)."""
        node = self.node(name)
        return await asyncssh.connect(
            node.address, node.port, username=self.spec.ssh.user, known_hosts=str(self.known_hosts),
            client_keys=[self.client_key], agent_path=None, config=None, **options,
        )

    async def stop(self) -> None:
        for node in self.world.nodes.values():
            for task in node.running.values():
                task.cancel()
        for acceptor in self._acceptors:
            acceptor.close()
        for conn in list(self._live):
            conn.close()
        await asyncio.gather(*(a.wait_closed() for a in self._acceptors), return_exceptions=True)
        await asyncio.gather(*(c.wait_closed() for c in list(self._live)), return_exceptions=True)
        self._acceptors.clear()

    async def __aenter__(self) -> SimCluster:
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        await self.stop()
