"""crictl over the containerd model: endpoints from flags or /etc/crictl.yaml; images, pull, inspecti,
ps, info, version. The CRI API answers only while containerd runs with its CRI plugin enabled."""

from __future__ import annotations

import hashlib
import json
import os

from . import containerd, images, miniyaml, pkgdb, state, vercmp

CONFIG = "/etc/crictl.yaml"
CONTAINERD = ("unix:///run/containerd/containerd.sock", "unix:///var/run/containerd/containerd.sock")
CONTAINERS = "runtime/containers.json"
_GLOBAL = {
    "-r": "runtime-endpoint",
    "--runtime-endpoint": "runtime-endpoint",
    "-i": "image-endpoint",
    "--image-endpoint": "image-endpoint",
    "-t": "timeout",
    "--timeout": "timeout",
    "--config": "config",
    "-c": "config",
}


def _split(args: list[str]) -> tuple[dict[str, str], list[str]]:
    opts: dict[str, str] = {}
    i = 0
    while i < len(args) and args[i].startswith("-"):
        name, eq, value = args[i].partition("=")
        if name not in _GLOBAL:
            if name in ("-D", "--debug"):
                i += 1
                continue
            break
        if not eq:
            i += 1
            value = args[i] if i < len(args) else ""
        opts[_GLOBAL[name]] = value
        i += 1
    return opts, args[i:]


def _endpoint(opts: dict[str, str], key: str) -> str:
    if key in opts:
        return opts[key]
    path = opts.get("config", CONFIG)
    if os.path.exists(state.root(path)):
        docs = miniyaml.load_all(state.read(path))
        conf = docs[0] if docs and isinstance(docs[0], dict) else {}
        if conf.get(key):
            return str(conf[key])
        if key == "image-endpoint" and conf.get("runtime-endpoint"):
            return str(conf["runtime-endpoint"])
    state.err(f'WARN[0000] Config "{path}" does not exist, trying next: "{CONTAINERD[0]}"')
    return CONTAINERD[0]


def _connect(endpoint: str, service: str) -> None:
    if endpoint not in CONTAINERD:
        sock = endpoint.removeprefix("unix://")
        state.fail(
            f'validate service connection: validate CRI v1 {service} API for endpoint "{endpoint}": '
            f'rpc error: code = Unavailable desc = connection error: desc = "transport: Error while '
            f'dialing: dial unix {sock}: connect: no such file or directory"',
            1,
        )
    settings = containerd.running()
    if settings is None:
        state.fail(
            f'validate service connection: validate CRI v1 {service} API for endpoint "{endpoint}": '
            'rpc error: code = Unavailable desc = connection error: desc = "transport: Error while '
            'dialing: dial unix /run/containerd/containerd.sock: connect: connection refused"',
            1,
        )
    if not settings["cri"]:
        state.fail(
            f'validate service connection: validate CRI v1 {service} API for endpoint "{endpoint}": '
            "rpc error: code = Unimplemented desc = unknown service "
            f"runtime.v1.{'ImageService' if service == 'image' else 'RuntimeService'}",
            1,
        )


def crictl(args: list[str]) -> int:
    if args in (["--version"], ["-v"]):
        package = pkgdb.installed().get("cri-tools", {})
        print(f"crictl version v{vercmp.upstream(package.get('version', '0'))}")
        return 0
    opts, rest = _split(args)
    if not rest:
        state.fail("crictl: missing command (images, pull, inspecti, ps, info, version)", 1)
    command, params = rest[0], rest[1:]
    if command in ("images", "image", "img", "pull", "inspecti", "rmi"):
        _connect(_endpoint(opts, "image-endpoint"), "image")
        return _image_command(command, params)
    if command in ("ps", "info", "version", "pods"):
        _connect(_endpoint(opts, "runtime-endpoint"), "runtime")
        return _runtime_command(command, params)
    state.fail(f"crictl: k8slab models no command {command!r}", 1)


def _image_command(command: str, params: list[str]) -> int:
    refs = [p for p in params if not p.startswith("-")]
    if command == "pull":
        if len(refs) != 1:
            state.fail("crictl pull: exactly one image reference", 1)
        images.pull("containerd", refs[0])
        print(f"Image is up to date for sha256:{_id(refs[0])}")
        return 0
    if command == "inspecti":
        if not refs or not all(images.has("containerd", r) for r in refs):
            state.fail(f'no such image "{refs[0] if refs else ""}" present', 1)
        print(json.dumps({"status": {"repoTags": [images.normalize(r) for r in refs]}}, indent=2))
        return 0
    if command == "rmi":
        state.fail("crictl rmi: not modelled", 1)
    quiet = "-q" in params
    if not quiet:
        print(f"{'IMAGE':<60}{'TAG':<20}IMAGE ID")
    for image in images.present("containerd"):
        name, _, tag = image.rpartition(":")
        print(f"sha256:{_id(image)}" if quiet else f"{name:<60}{tag:<20}{_id(image)[:13]}")
    return 0


def _runtime_command(command: str, params: list[str]) -> int:
    settings = containerd.running() or {}
    if command == "version":
        print(
            f"Version:  0.1.0\nRuntimeName:  containerd\nRuntimeVersion:  v{containerd.version()}\n"
            "RuntimeApiVersion:  v1"
        )
        return 0
    if command == "info":
        config = {
            "containerd": {
                "runtimes": {"runc": {"options": {"SystemdCgroup": settings.get("systemd_cgroup")}}}
            },
            "sandboxImage": settings.get("sandbox"),
        }
        print(
            json.dumps(
                {
                    "status": {
                        "conditions": [
                            {"type": "RuntimeReady", "status": True},
                            {"type": "NetworkReady", "status": _cni_ready()},
                        ]
                    },
                    "config": config,
                },
                indent=2,
            )
        )
        return 0
    show_all = "-a" in params or "--all" in params
    print(f"{'CONTAINER':<15}{'IMAGE':<55}{'CREATED':<16}{'STATE':<10}{'NAME':<26}ATTEMPT")
    for row in state.load(CONTAINERS, []):
        if show_all or row["state"] == "Running":
            print(
                f"{row['id']:<15}{row['image']:<55}{'1 minute ago':<16}{row['state']:<10}{row['name']:<26}0"
            )
    return 0


def _cni_ready() -> bool:
    folder = state.root("/etc/cni/net.d")
    return os.path.isdir(folder) and bool(os.listdir(folder))


def _id(image: str) -> str:
    return hashlib.sha256(images.normalize(image).encode()).hexdigest()
