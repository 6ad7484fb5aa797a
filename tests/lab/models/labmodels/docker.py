"""docker (Kubernetes < 1.24 runs on Docker Engine through dockershim): info, version, images, image inspect,
pull, ps; docker.service refuses a bad /etc/docker/daemon.json. The cgroup driver comes from daemon.json's
`exec-opts` (native.cgroupdriver=...); without it Docker 20.10 uses cgroupfs on cgroup v1, systemd on v2."""

from __future__ import annotations

import hashlib
import json
import os
from typing import Any

from . import images, pkgdb, state, systemd, vercmp

DAEMON_JSON = "/etc/docker/daemon.json"
EFFECTIVE = "runtime/docker.json"
KNOWN_KEYS = {
    "exec-opts",
    "log-driver",
    "log-opts",
    "registry-mirrors",
    "storage-driver",
    "insecure-registries",
    "data-root",
    "live-restore",
    "default-address-pools",
    "bip",
    "max-concurrent-downloads",
    "debug",
}
NOT_RUNNING = (
    "Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?"
)


def version() -> str:
    db = pkgdb.installed()
    if "docker-ce" not in db:
        return vercmp.upstream(db.get("docker-ce-cli", {}).get("version", "0"))
    return vercmp.upstream(db["docker-ce"]["version"]).split(":")[-1]


def start_problem() -> str | None:
    text = state.read(DAEMON_JSON) if os.path.exists(state.root(DAEMON_JSON)) else "{}"
    try:
        conf = json.loads(text)
    except json.JSONDecodeError as exc:
        return f"unable to configure the Docker daemon with file {DAEMON_JSON}: {exc}"
    unknown = sorted(set(conf) - KNOWN_KEYS)
    if unknown:
        return (
            f"unable to configure the Docker daemon with file {DAEMON_JSON}: the following directives "
            f"don't match any configuration option: {', '.join(unknown)}"
        )
    driver = "systemd" if state.node().get("cgroup") == 2 else "cgroupfs"
    for opt in conf.get("exec-opts", []):
        key, _, value = opt.partition("=")
        if key != "native.cgroupdriver" or value not in ("systemd", "cgroupfs"):
            return f"failed to start daemon: invalid exec-opt {opt!r}"
        driver = value
    state.save(EFFECTIVE, {"cgroup_driver": driver, "mirrors": conf.get("registry-mirrors", [])})
    return None


def running() -> dict[str, Any] | None:
    if not systemd.is_active("docker.service"):
        return None
    if state.load(EFFECTIVE, None) is None and start_problem() is not None:
        return None
    return state.load(EFFECTIVE, None)


def _format(template: str, settings: dict[str, Any]) -> str:
    values = {
        "{{.CgroupDriver}}": settings["cgroup_driver"],
        "{{.Server.Version}}": version(),
        "{{.ServerVersion}}": version(),
        "{{.Client.Version}}": version(),
    }
    if template not in values:
        state.fail(f"k8slab docker model: unsupported --format {template!r}", 2)
    return values[template]


def docker(args: list[str]) -> int:
    fmt = next((args[i + 1] for i, a in enumerate(args[:-1]) if a in ("--format", "-f")), None)
    words = [
        a
        for i, a in enumerate(args)
        if not a.startswith("-") and (i == 0 or args[i - 1] not in ("--format", "-f"))
    ]
    if args in (["--version"], ["-v"]):
        print(f"Docker version {version()}, build k8slab")
        return 0
    settings = running()
    if settings is None:
        state.fail(NOT_RUNNING, 1)
    command = words[:2] if words[:1] == ["image"] else words[:1]
    if command in (["info"], ["version"]):
        if fmt:
            print(_format(fmt, settings))
        elif command == ["info"]:
            print(
                f" Server Version: {version()}\n Storage Driver: overlay2\n Cgroup Driver: "
                f"{settings['cgroup_driver']}\n Cgroup Version: {state.node().get('cgroup', 2)}"
            )
        else:
            print(f"Server: Docker Engine - Community\n Engine:\n  Version:          {version()}")
        return 0
    if command in (["images"], ["image", "ls"]):
        print(f"{'REPOSITORY':<60}{'TAG':<20}IMAGE ID")
        for image in images.present("docker"):
            name, _, tag = image.rpartition(":")
            print(f"{name:<60}{tag:<20}{_id(image)[:12]}")
        return 0
    if command == ["image", "inspect"]:
        refs = words[2:]
        missing = [r for r in refs if not images.has("docker", r)]
        if not refs or missing:
            state.err(f"Error: No such image: {(missing or [''])[0]}")
            print("[]")
            return 1
        print(json.dumps([{"Id": f"sha256:{_id(r)}", "RepoTags": [r]} for r in refs], indent=4))
        return 0
    if command in (["pull"], ["image", "pull"]):
        ref = words[-1]
        images.pull("docker", ref)
        print(f"Status: Downloaded newer image for {ref}")
        return 0
    if command == ["ps"]:
        print("CONTAINER ID   IMAGE     COMMAND   CREATED   STATUS    PORTS     NAMES")
        return 0
    state.calls("docker", args)
    state.fail(f"k8slab docker model: unsupported command {' '.join(args)}", 2)


def _id(image: str) -> str:
    return hashlib.sha256(images.normalize(image).encode()).hexdigest()
