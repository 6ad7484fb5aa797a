"""containerd: `config default` per major (1.x: config version 2, 2.x: version 3), `--version`, and the
start of containerd.service: the config must be valid TOML; the effective settings (CRI plugin on?,
SystemdCgroup, sandbox image) are read with the key names of the config's layout and recorded in
STATE/runtime/containerd.json. Keys of another layout are silently ignored, as by the real daemon.
"""

from __future__ import annotations

import os
from typing import Any

from . import pkgdb, state, vercmp

CONFIG = "/etc/containerd/config.toml"
EFFECTIVE = "runtime/containerd.json"
SOCKET = "/run/containerd/containerd.sock"
DEFAULT_SANDBOX = {1: "registry.k8s.io/pause:3.8", 2: "registry.k8s.io/pause:3.10"}
FAULT = "faults/containerd-start"  # a test writes a message here: the daemon then refuses to start

DEFAULT_V2 = """disabled_plugins = []
imports = []
oom_score = 0
required_plugins = []
root = "/var/lib/containerd"
state = "/run/containerd"
version = 2

[grpc]
  address = "/run/containerd/containerd.sock"

[plugins]

  [plugins."io.containerd.grpc.v1.cri"]
    enable_selinux = false
    max_container_log_line_size = 16384
    sandbox_image = "registry.k8s.io/pause:3.8"

    [plugins."io.containerd.grpc.v1.cri".cni]
      bin_dir = "/opt/cni/bin"
      conf_dir = "/etc/cni/net.d"

    [plugins."io.containerd.grpc.v1.cri".containerd]
      default_runtime_name = "runc"
      snapshotter = "overlayfs"

      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes]

        [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
          runtime_type = "io.containerd.runc.v2"

          [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
            BinaryName = ""
            Root = ""
            ShimCgroup = ""
            SystemdCgroup = false

    [plugins."io.containerd.grpc.v1.cri".registry]
      config_path = ""
"""

DEFAULT_V3 = """version = 3
root = '/var/lib/containerd'
state = '/run/containerd'
disabled_plugins = []
required_plugins = []
oom_score = 0
imports = []

[grpc]
  address = '/run/containerd/containerd.sock'

[plugins]
  [plugins.'io.containerd.cri.v1.images']
    snapshotter = 'overlayfs'
    disable_snapshot_annotations = true

    [plugins.'io.containerd.cri.v1.images'.pinned_images]
      sandbox = 'registry.k8s.io/pause:3.10'

    [plugins.'io.containerd.cri.v1.images'.registry]
      config_path = ''

  [plugins.'io.containerd.cri.v1.runtime']
    enable_selinux = false
    max_container_log_line_size = 16384

    [plugins.'io.containerd.cri.v1.runtime'.containerd]
      default_runtime_name = 'runc'

      [plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes]
        [plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.runc]
          runtime_type = 'io.containerd.runc.v2'

          [plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.runc.options]
            BinaryName = ''
            Root = ''
            ShimCgroup = ''
            SystemdCgroup = false

    [plugins.'io.containerd.cri.v1.runtime'.cni]
      bin_dir = '/opt/cni/bin'
      conf_dir = '/etc/cni/net.d'
"""


def version() -> str:
    db = pkgdb.installed()
    owner = next((n for n in ("containerd.io", "containerd") if n in db), None)
    if owner is None:
        state.fail("bash: containerd: command not found", 127)
    return vercmp.upstream(db[owner]["version"])


def major() -> int:
    return int(version().split(".")[0])


def containerd(args: list[str]) -> int:
    if args in (["--version"], ["-v"], ["version"]):
        package = (
            "containerd.io" if "containerd.io" in pkgdb.installed() else "github.com/containerd/containerd"
        )
        print(f"containerd {package} {version()} k8slab")  # Docker's packages print no "v"
        return 0
    if args == ["config", "default"]:
        print(DEFAULT_V3 if major() >= 2 else DEFAULT_V2, end="")
        return 0
    state.calls("containerd", args)
    state.fail(f"k8slab containerd model: unsupported arguments {args} (config default, --version)", 2)


def _dig(doc: dict[str, Any], *keys: str) -> Any:
    for key in keys:
        if not isinstance(doc, dict) or key not in doc:
            return None
        doc = doc[key]
    return doc


def effective(doc: dict[str, Any], containerd_major: int) -> dict[str, Any] | str:
    """What the daemon runs with, from a parsed config; a string is a fatal config error."""
    layout = doc.get("version", 1)
    if containerd_major < 2 and layout > 2:
        return f"containerd: unsupported config version `{layout}`"
    disabled = doc.get("disabled_plugins", [])
    cri_names = (
        ("cri", "io.containerd.grpc.v1.cri")
        if layout <= 2
        else ("cri", "io.containerd.grpc.v1.cri", "io.containerd.cri.v1.runtime")
    )
    if layout <= 2:  # containerd 2.x migrates version 1/2 configs; 1.x reads them as they are
        cri = "io.containerd.grpc.v1.cri"
        sandbox = _dig(doc, "plugins", cri, "sandbox_image")
        cgroup = _dig(doc, "plugins", cri, "containerd", "runtimes", "runc", "options", "SystemdCgroup")
    else:
        sandbox = _dig(doc, "plugins", "io.containerd.cri.v1.images", "pinned_images", "sandbox")
        cgroup = _dig(
            doc,
            "plugins",
            "io.containerd.cri.v1.runtime",
            "containerd",
            "runtimes",
            "runc",
            "options",
            "SystemdCgroup",
        )
    return {
        "major": containerd_major,
        "layout": layout,
        "cri": not any(n in disabled for n in cri_names),
        "systemd_cgroup": cgroup is True,
        "sandbox": sandbox or DEFAULT_SANDBOX[min(containerd_major, 2)],
    }


def start_problem() -> str | None:
    fault = state.read_state(FAULT).strip()
    if fault:
        return fault
    try:
        import tomllib
    except ModuleNotFoundError:  # Python < 3.11 on the host
        return "k8slab: the containerd model needs Python >= 3.11 (tomllib)"
    text = state.read(CONFIG) if os.path.exists(state.root(CONFIG)) else ""
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        return f"containerd: failed to load TOML from {CONFIG}: {exc}"
    settings = effective(doc, major())
    if isinstance(settings, str):
        return settings
    state.save(EFFECTIVE, settings)
    state.journal("containerd.service", f"containerd[{os.getpid()}]: serving... address={SOCKET}")
    if not settings["cri"]:
        state.journal(
            "containerd.service",
            'containerd: skip loading plugin "io.containerd.grpc.v1.cri"... error="disabled"',
        )
    return None


def running() -> dict[str, Any] | None:
    """The running daemon's settings, None when containerd.service is not active."""
    from . import systemd

    if not systemd.is_active("containerd.service"):
        return None
    if state.load(EFFECTIVE, None) is None and start_problem() is not None:  # started by a postinst
        return None
    return state.load(EFFECTIVE, None)
