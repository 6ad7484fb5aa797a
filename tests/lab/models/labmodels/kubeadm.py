"""kubeadm: version, token generate/create, config images list/pull, init (kubeadm_init.py),
init phase upload-certs, join (kubeadm_join.py) and reset."""

from __future__ import annotations

import os
import secrets
import time

from . import (
    daemon,
    flags,
    images,
    kubeadm_checks,
    kubeadm_config,
    kubeclient,
    pkgdb,
    state,
    systemd,
    vercmp,
)

ADMIN = "/etc/kubernetes/admin.conf"
COMMON = {"--v", "--kubeconfig", "--rootfs"}


def version() -> str:
    return vercmp.upstream(pkgdb.installed()["kubeadm"]["version"])


def minor() -> int:
    return int(version().split(".")[1])


def kubeadm(args: list[str]) -> int:
    head = [a for a in args if not a.startswith("-")][:3]
    if head[:1] == ["version"]:
        return _version(args[1:])
    if head[:2] == ["token", "generate"]:
        print(f"{secrets.token_hex(3)}.{secrets.token_hex(8)}")
        return 0
    if head[:2] == ["token", "create"]:
        return token_create(args[2:])
    if head[:3] in (["config", "images", "list"], ["config", "images", "pull"]):
        return config_images(head[2], args[3:])
    if head[:3] == ["init", "phase", "upload-certs"]:
        return upload_certs(args[3:])
    if head[:1] == ["init"]:
        from . import kubeadm_init

        return kubeadm_init.init(args[1:])
    if head[:1] == ["join"]:
        from . import kubeadm_join

        return kubeadm_join.join(args[1:])
    if head[:1] == ["reset"]:
        return reset(args[1:])
    state.calls("kubeadm", args)
    state.fail(f"k8slab kubeadm model: unsupported command {' '.join(args)!r}", 1)


def _version(args: list[str]) -> int:
    opts, _ = flags.parse(args, {"-o", "--output"}, set())
    fmt = opts.get("-o", opts.get("--output", ""))
    v = version()
    if fmt == "short":
        print(f"v{v}")
    elif fmt == "":
        print(
            f'kubeadm version: &version.Info{{Major:"1", Minor:"{v.split(".")[1]}", GitVersion:"v{v}", '
            f'GitTreeState:"clean", GoVersion:"go1.24.6", Compiler:"gc", Platform:"linux/amd64"}}'
        )
    else:
        state.fail(f"invalid output format: {fmt}", 1)
    return 0


def admin_client(opts: dict[str, str]) -> kubeclient.Client:
    return kubeclient.from_kubeconfig(opts.get("--kubeconfig", ADMIN))


def _duration(text: str) -> float:
    total, number = 0.0, ""
    for char in text:
        if char.isdigit() or char == ".":
            number += char
        elif char in "hms":
            total += float(number or 0) * {"h": 3600, "m": 60, "s": 1}[char]
            number = ""
        else:
            state.fail(f'invalid argument "{text}" for "--ttl" flag: time: invalid duration "{text}"', 1)
    if number:
        state.fail(f'invalid argument "{text}" for "--ttl" flag: time: missing unit in duration "{text}"', 1)
    return total


def token_create(args: list[str]) -> int:
    opts, _ = flags.parse(
        args,
        COMMON | {"--ttl", "--description", "--groups", "--usages", "--config", "--certificate-key"},
        {"--print-join-command"},
    )
    from . import pki

    client = admin_client(opts)
    ttl = _duration(opts.get("--ttl", "24h"))
    try:
        token = client.request(
            "POST", "/lab/tokens", {"ttl": ttl, "description": opts.get("--description", "")}
        )
    except kubeclient.ApiError as exc:
        state.fail(f"failed to create or update bootstrap token: {exc}", 1)
    if "--print-join-command" not in opts:
        print(token["token"])
        return 0
    ca_hash = pki.ca_hash()
    endpoint = client.server.removeprefix("https://")
    print(f"kubeadm join {endpoint} --token {token['token']} --discovery-token-ca-cert-hash {ca_hash} ")
    return 0


def upload_certs(args: list[str]) -> int:
    opts, _ = flags.parse(
        args, COMMON | {"--config", "--certificate-key"}, {"--upload-certs", "--skip-certificate-key-print"}
    )
    if "--upload-certs" not in opts:
        state.fail("[upload-certs] Skipping phase. Please see --upload-certs", 0)
    if "--config" in opts:
        kubeadm_config.load(opts["--config"], minor())
    try:
        key = admin_client(opts).request("POST", "/lab/upload-certs", {})["key"]
    except kubeclient.ApiError as exc:
        state.fail(f"error execution phase upload-certs: error uploading certs: {exc}", 1)
    print('[upload-certs] Storing the certificates in Secret "kubeadm-certs" in the "kube-system" Namespace')
    print("[upload-certs] Using certificate key:")
    print(key)
    return 0


def config_images(verb: str, args: list[str]) -> int:
    opts, _ = flags.parse(
        args,
        COMMON
        | {"--kubernetes-version", "--image-repository", "--config", "--cri-socket", "--feature-gates"},
        {"--allow-missing-template-keys"},
    )
    repository, wanted = opts.get("--image-repository"), opts.get("--kubernetes-version")
    if "--config" in opts:
        conf = kubeadm_config.load(opts["--config"], minor()).get("ClusterConfiguration", {})
        repository = repository or conf.get("imageRepository")
        wanted = wanted or conf.get("kubernetesVersion")
    if not wanted:
        state.err(
            "W1127 remote_version.go:... could not fetch a Kubernetes version from the internet: unable to "
            'get URL "https://dl.k8s.io/release/stable-1.txt": dial tcp: lookup dl.k8s.io: no such host'
        )
        state.err(f"W1127 version.go:... falling back to the local client version: v{version()}")
        wanted = f"v{version()}"
    listed = images.kubeadm_list(kubeadm_config.check_version_skew(wanted, version()), repository)
    if verb == "list":
        print("\n".join(listed))
        return 0
    runtime = _pull_runtime(opts.get("--cri-socket"))
    for image in listed:
        try:
            images.pull(runtime, image)
        except state.Fail as exc:
            state.fail(
                f'failed to pull image "{image}": output: {exc}, error: exit status 1\n'
                "To see the stack trace of this error execute with --v=5 or higher",
                1,
            )
        print(f"[config/images] Pulled {image}")
    return 0


def _pull_runtime(socket: str | None) -> str:
    check = kubeadm_checks.Preflight([])
    name = kubeadm_checks.runtime(check, socket, minor())
    problems = [e for e in check.errors if "CRI" in e or "Docker" in e]
    if problems:
        state.fail(f"failed to create new CRI image service: {problems[0].split(': ', 1)[1]}", 1)
    return name


def reset(args: list[str]) -> int:
    opts, _ = flags.parse(
        args,
        COMMON | {"--cri-socket", "--ignore-preflight-errors", "--cert-dir"},
        {"-f", "--force", "--cleanup-tmp-dir", "--dry-run"},
    )
    if "-f" not in opts and "--force" not in opts:
        state.fail(
            "[reset] Are you sure you want to proceed? [y/N]: error: won't proceed; the user didn't answer "
            "(Y|y) in order to continue",
            1,
        )
    print("[preflight] Running pre-flight checks")
    if systemd.info("kubelet.service"):
        systemd.stop("kubelet.service")
    daemon.stop("kubelet-agent")  # first: its sync loop would start the static API server again
    daemon.stop("kube-apiserver")
    for path in (
        "/etc/kubernetes/admin.conf",
        "/etc/kubernetes/super-admin.conf",
        "/etc/kubernetes/kubelet.conf",
        "/etc/kubernetes/bootstrap-kubelet.conf",
        "/etc/kubernetes/controller-manager.conf",
        "/etc/kubernetes/scheduler.conf",
        "/var/lib/kubelet/config.yaml",
        "/var/lib/kubelet/kubeadm-flags.env",
    ):
        _remove(state.root(path))
    for folder in ("/etc/kubernetes/manifests", "/etc/kubernetes/pki"):
        _remove_tree(state.root(folder))
    _remove(state.path("cluster", "state.json"))
    state.save("runtime/containers.json", [])
    print("[reset] Deleted contents of: [/etc/kubernetes/manifests /var/lib/kubelet /etc/kubernetes/pki]")
    print(
        "\nThe reset process does not clean CNI configuration. To do so, you must remove /etc/cni/net.d\n\n"
        "The reset process does not reset or clean up iptables rules or IPVS tables.\n"
        'If you wish to reset iptables, you must do so manually by using the "iptables" command.\n'
    )
    return 0


def _remove(path: str) -> None:
    if os.path.isfile(path) or os.path.islink(path):
        os.unlink(path)


def _remove_tree(folder: str) -> None:
    for root, dirs, files in os.walk(folder, topdown=False):
        for name in files:
            os.unlink(os.path.join(root, name))
        for name in dirs:
            os.rmdir(os.path.join(root, name))


def wait_healthy(client: kubeclient.Client, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if client.request("GET", "/healthz") == "ok":
                return True
        except kubeclient.ApiError:
            pass
        time.sleep(0.2)
    return False
