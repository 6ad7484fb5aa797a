"""SIMULATION: canned answers to the non-step commands a client may send to a simulated node.

Diagnostics collected after a failure (journalctl, systemctl, crictl, kubectl ...), the harmless
probes a client runs when it connects (id -u, uname -r, sudo -n true, command -v ...), and
`kubeadm token create --print-join-command` on the first control plane. The text reflects the
node's simulated state (what was applied), so it reads plausibly. Unknown commands exit 127.
"""

from __future__ import annotations

import shlex
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from k8stui.sim import texts
from k8stui.sim.commands import strip_wrappers

if TYPE_CHECKING:
    from k8stui.sim.node import SimNode

UNSUPPORTED = "k8stui-sim: unsupported command"
_OPERATORS = ("&&", "||", ";")


@dataclass(frozen=True)
class Reply:
    out: str = ""
    err: str = ""
    code: int = 0


def _lines(*lines: str) -> str:
    return "".join(f"{line}\n" for line in lines)


def answer(node: SimNode, text: str) -> Reply:
    """Run a (possibly compound: `a && b; c || d`) command line against the node's state."""
    out, err, code, op = [], [], 0, ";"
    for segment, next_op in _segments(text):
        if (op == "&&" and code != 0) or (op == "||" and code == 0):
            op = next_op
            continue
        reply = _one(node, segment)
        out.append(reply.out)
        err.append(reply.err)
        code, op = reply.code, next_op
        if code == 127:
            break
    return Reply("".join(out), "".join(err), code)


def _segments(text: str) -> list[tuple[list[str], str]]:
    """Simple commands and the operator after each; of a pipeline only the first command counts."""
    try:
        lexer = shlex.shlex(text, posix=True, punctuation_chars=True)
        lexer.whitespace_split = True
        tokens = list(lexer)
    except ValueError:
        tokens = text.split()
    segments: list[tuple[list[str], str]] = []
    current: list[str] = []
    in_pipe = False
    for token in tokens:
        if token in _OPERATORS:
            segments.append((current, token))
            current, in_pipe = [], False
        elif token == "|":
            in_pipe = True
        elif not in_pipe:
            current.append(token)
    segments.append((current, ";"))
    return [(_drop_redirects(words), op) for words, op in segments if words]


def _drop_redirects(words: list[str]) -> list[str]:
    kept: list[str] = []
    skip = False
    for word in words:
        if skip:
            skip = False
        elif set(word) <= set("<>&") and word:
            skip = not word.endswith("&")
            if kept and kept[-1].isdigit():
                kept.pop()
        else:
            kept.append(word)
    return [w for w in kept if not w.startswith(("2>", ">"))]


def _one(node: SimNode, words: list[str]) -> Reply:
    as_root = words[:1] == ["sudo"]
    words = strip_wrappers(words)
    if not words:
        return Reply()
    if as_root and words[0] in ("id", "whoami"):
        return Reply(_lines("root" if words[0] == "whoami" or "-un" in words else "0"))
    handler = _HANDLERS.get(words[0].rsplit("/", 1)[-1])
    if handler is None:
        return Reply(err=f"{UNSUPPORTED}: {shlex.join(words)}\n", code=127)
    return handler(node, words[1:])


def _ok(_node: SimNode, _args: list[str]) -> Reply:
    return Reply()


def _false(_node: SimNode, _args: list[str]) -> Reply:
    return Reply(code=1)


def _echo(node: SimNode, args: list[str]) -> Reply:
    user = node.world.spec.ssh.user
    home = "/root" if user == "root" else f"/home/{user}"
    text = " ".join(a for a in args if a != "-n").replace("${HOME}", home).replace("$HOME", home)
    return Reply(_lines(text.replace("$USER", user)))


def _id(node: SimNode, args: list[str]) -> Reply:
    """The login user's ids (a `sudo id` is answered the same: the sim does not track the sudo)."""
    user = node.world.spec.ssh.user
    uid = 0 if user == "root" else 1000
    flags = "".join(a.lstrip("-") for a in args)
    if "n" in flags:
        return Reply(_lines(user if "u" in flags else ("root" if uid == 0 else user)))
    if "u" in flags or "g" in flags:
        return Reply(_lines(str(uid)))
    return Reply(_lines(f"uid={uid}({user}) gid={uid}({user}) groups={uid}({user})"))


def _whoami(node: SimNode, _args: list[str]) -> Reply:
    return Reply(_lines(node.world.spec.ssh.user))


def _hostname(node: SimNode, _args: list[str]) -> Reply:
    return Reply(_lines(node.name))


def _uname(node: SimNode, args: list[str]) -> Reply:
    kernel = node.facts()["kernel"]
    table = {"-r": kernel, "-m": "x86_64", "-s": "Linux", "-n": node.name}
    if args and args[0] in table:
        return Reply(_lines(table[args[0]]))
    return Reply(_lines(f"Linux {node.name} {kernel} #1 SMP x86_64 x86_64 x86_64 GNU/Linux"))


def _which(_node: SimNode, args: list[str]) -> Reply:
    names = [a for a in args if not a.startswith("-")]
    return Reply(_lines(*(f"/usr/bin/{n}" for n in names)))


def _cat(node: SimNode, args: list[str]) -> Reply:
    out, err, code = [], [], 0
    for path in args:
        name = path.rsplit("/", 1)[-1]
        if path == "/etc/os-release":
            out.append(_os_release(node))
        elif name in node.scripts:
            out.append(node.scripts[name])
        else:
            err.append(f"cat: {path}: No such file or directory\n")
            code = 1
    return Reply("".join(out), "".join(err), code)


def _os_release(node: SimNode) -> str:
    os = node.world.os
    pretty = {"ubuntu": "Ubuntu", "debian": "Debian GNU/Linux", "rocky": "Rocky Linux",
              "centos": "CentOS Linux", "almalinux": "AlmaLinux", "rhel": "Red Hat Enterprise Linux"}
    name = pretty.get(os.id, os.id.capitalize())
    like = "debian" if os.family == "debian" else "rhel centos fedora"
    return _lines(f'PRETTY_NAME="{name} {os.version}"', f'NAME="{name}"', f'VERSION_ID="{os.version}"',
                  f"ID={os.id}", f'ID_LIKE="{like}"', f"VERSION_CODENAME={os.codename}")


def _unit_of(args: list[str]) -> str:
    names = [a for a in args if not a.startswith("-") and a not in ("status", "is-active", "show")]
    return (names[0] if names else "kubelet").removesuffix(".service")


_UNIT_OWNER = {"containerd": "containerd", "docker": "docker", "kubelet": "kube-packages",
               "chronyd": "timesync", "chrony": "timesync", "sshd": "", "ssh": ""}


def _unit_state(node: SimNode, unit: str) -> str:
    """`missing` (not installed), `active`, or `auto-restart` (the kubelet before init/join)."""
    step = _UNIT_OWNER.get(unit)
    if step is None or (step and step not in node.applied):
        return "missing"
    if unit == "kubelet" and not node.joined:
        return "auto-restart"
    return "active"


def _systemctl(node: SimNode, args: list[str]) -> Reply:
    unit = _unit_of(args)
    state = _unit_state(node, unit)
    if state == "missing":
        return Reply(err=_lines(f"Unit {unit}.service could not be found."), code=4)
    active = state == "active"
    if args and args[0] == "is-active":
        return Reply(_lines("active" if active else "activating"), code=0 if active else 3)
    since = "since Fri 2026-11-27 14:02:11 UTC; 12min ago"
    text = f"active (running) {since}" if active else f"activating (auto-restart) (Result: exit-code) {since}"
    loaded = f"     Loaded: loaded (/lib/systemd/system/{unit}.service; enabled; vendor preset: enabled)"
    return Reply(_lines(f"● {unit}.service - {unit}", loaded, f"     Active: {text}",
                        f"   Main PID: {1000 + node.index if active else 0} ({unit})"),
                 code=0 if active else 3)


def _journalctl(node: SimNode, args: list[str]) -> Reply:
    unit = _unit_of(args[args.index("-u") + 1:] if "-u" in args else args)
    at = f"Nov 27 14:1{node.index % 10}:0{node.index % 6} {node.name}"
    state = _unit_state(node, unit)
    if state == "missing":
        return Reply(_lines("-- No entries --"))
    if state == "auto-restart":
        return Reply(_lines(
            f"{at} systemd[1]: kubelet.service: Main process exited, code=exited, status=1/FAILURE",
            f"{at} kubelet[4121]: E1127 \"command failed\" err=\"failed to load kubelet config file, "
            "path: /var/lib/kubelet/config.yaml, error: open /var/lib/kubelet/config.yaml: no such file\"",
            f"{at} systemd[1]: kubelet.service: Scheduled restart job, restart counter is at 12."))
    return Reply(_lines(f"{at} systemd[1]: Started {unit}.service.",
                        f"{at} {unit}[{2000 + node.index}]: level=info msg=\"{unit} running\""))


def _crictl(node: SimNode, _args: list[str]) -> Reply:
    header = "CONTAINER           IMAGE               CREATED             STATE     NAME             POD"
    if not node.joined:
        return Reply(_lines(header))
    names = ["kube-proxy"]
    if node.spec.is_control_plane:
        names += ["kube-apiserver", "etcd", "kube-scheduler"]
    rows = [f"{i:013x}{node.index:x}   {i:013x}   2 minutes ago       Running   {n:<16} {n}-{node.name}"
            for i, n in enumerate(names, start=0xA11CE)]
    return Reply(_lines(header, *rows))


def _kubectl(node: SimNode, args: list[str]) -> Reply:
    if not node.world.initialised:
        return Reply(err=_lines("The connection to the server localhost:8080 was refused"), code=1)
    if "nodes" in args or "node" in args:
        version = node.world.spec.kubernetes.version
        rows = [f"{n.name:<12} {'Ready' if n.joined else 'NotReady':<9} "
                f"{'control-plane' if n.spec.is_control_plane else '<none>':<14} 5m    v{version}"
                for n in node.world.nodes.values() if n.joined]
        return Reply(_lines("NAME         STATUS    ROLES          AGE   VERSION", *rows))
    return Reply(_lines("NAMESPACE     NAME                          READY   STATUS    RESTARTS   AGE",
                        "kube-system   coredns-7c65d6cfc9-x2x7k      1/1     Running   0          5m",
                        f"kube-system   kube-apiserver-{node.name:<14} 1/1     Running   0          5m"))


def _kubeadm(node: SimNode, args: list[str]) -> Reply:
    world = node.world
    if not world.initialised or not node.spec.is_control_plane:
        return Reply(err=_lines("failed to load admin kubeconfig: open /etc/kubernetes/admin.conf: "
                                "no such file or directory",
                                "To see the stack trace of this error execute with --v=5 or higher"), code=1)
    if args[:2] == ["token", "create"]:
        token = world.pki.create_token()
        if "--print-join-command" in args:
            return Reply(f"kubeadm join {texts.api_server(world.spec)} --token {token} "
                         f"--discovery-token-ca-cert-hash {world.pki.ca_hash} \n")
        return Reply(_lines(token))
    if "upload-certs" in args:
        return Reply(_lines("[upload-certs] Storing the certificates in Secret \"kubeadm-certs\" in the "
                            "\"kube-system\" Namespace", "[upload-certs] Using certificate key:",
                            world.pki.certificate_key))
    return Reply(err=f"{UNSUPPORTED}: kubeadm {shlex.join(args)}\n", code=127)


def _lsmod(_node: SimNode, _args: list[str]) -> Reply:
    return Reply(_lines("Module                  Size  Used by", "br_netfilter           32768  0",
                        "bridge                311296  1 br_netfilter", "overlay               151552  0"))


def _sysctl(_node: SimNode, _args: list[str]) -> Reply:
    return Reply(_lines("net.bridge.bridge-nf-call-ip6tables = 1", "net.bridge.bridge-nf-call-iptables = 1",
                        "net.ipv4.ip_forward = 1"))


def _chronyc(_node: SimNode, _args: list[str]) -> Reply:
    return Reply(_lines("MS Name/IP address         Stratum Poll Reach LastRx Last sample",
                        "===============================================================================",
                        "^* ntp.example.internal          2   6   377    23   -112us[ -140us] +/-   15ms"))


_HANDLERS: dict[str, Callable[[SimNode, list[str]], Reply]] = {
    "true": _ok, ":": _ok, "false": _false, "test": _ok, "[": _ok, "mkdir": _ok, "chmod": _ok,
    "chown": _ok, "umask": _ok, "rm": _ok, "export": _ok, "cd": _ok, "echo": _echo, "printf": _echo,
    "id": _id, "whoami": _whoami, "hostname": _hostname, "uname": _uname, "which": _which, "type": _which,
    "command": _which,
    "cat": _cat, "systemctl": _systemctl, "journalctl": _journalctl, "crictl": _crictl,
    "kubectl": _kubectl, "kubeadm": _kubeadm, "lsmod": _lsmod, "sysctl": _sysctl, "chronyc": _chronyc,
}
