"""The cluster file (`cluster.yaml`) as pydantic models: k8stui's user-facing contract.

Field names follow `cluster-file.md` exactly (camelCase on the wire, snake_case in Python).
Structural rules (types, enums, shell-safe strings) live here; rules that look across fields
or need the version catalog live in `k8stui.model.rules` so each problem can name its field.
"""

from __future__ import annotations

import ipaddress
import re
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, SecretStr, field_validator
from pydantic.alias_generators import to_camel

API_VERSION = "k8stui/v1"
KIND = "Cluster"

# A value that may reach a shell or a config file: letters, digits and a few separators only.
# Quoting protects us anyway; this rejects what can never be valid before anything runs.
_SAFE = re.compile(r"^[A-Za-z0-9._:@/\-\[\]%+=,~]+$")
_RFC1123_LABEL = re.compile(r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")
_LABEL = r"[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_HOSTNAME = re.compile(rf"^(?=.{{1,253}}$){_LABEL}(\.{_LABEL})*$")
_DURATION = re.compile(r"^(0|(\d+h)?(\d+m)?(\d+s)?)$")
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_IFACE = re.compile(r"^[A-Za-z0-9_.:@-]{1,15}$")


def _safe(value: str) -> str:
    if not value or not _SAFE.fullmatch(value):
        raise ValueError(f"{value!r} contains characters not allowed here (spaces, quotes, ;, $, ...)")
    return value


def _host(value: str) -> str:
    """An IP address, a DNS name, or an ssh_config alias."""
    try:
        ipaddress.ip_address(value)
        return value
    except ValueError:
        pass
    if not _HOSTNAME.fullmatch(value):
        raise ValueError(f"{value!r} is neither an IP address nor a valid host name")
    if value.rsplit(".", 1)[-1].isdigit():
        # A name's last label is never all digits (RFC 1123): this is a mistyped IP like 10.0.0.300.
        raise ValueError(f"{value!r} is not a valid IP address")
    return value


def _ip(value: str) -> str:
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        raise ValueError(f"{value!r} is not an IP address (for example 10.0.0.11)") from None


def _host_port(value: str) -> str:
    host, sep, port = value.rpartition(":")
    if not sep or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"{value!r} must be host:port (for example k8s-api.internal:6443)")
    _host(host.strip("[]"))
    return value


def _bastion(value: str) -> str:
    user, at, rest = value.rpartition("@")
    if at and not re.fullmatch(r"^[a-z_][a-z0-9_.-]*$", user):
        raise ValueError(f"{value!r}: {user!r} is not a valid user name")
    host, sep, port = rest.rpartition(":")
    if sep and port.isdigit():
        _host(host.strip("[]"))
    else:
        _host(rest)
    return value


def _cidr(value: str) -> str:
    try:
        return str(ipaddress.ip_network(value, strict=True))
    except ValueError as exc:
        raise ValueError(f"{value!r} is not a valid CIDR ({exc}); for example 10.244.0.0/16") from None


def _duration(value: str | int) -> str:
    text = str(value).strip()
    if text in ("", "0h", "0s", "0m"):
        text = "0"
    if not _DURATION.fullmatch(text) or text == "":
        raise ValueError(f"{value!r} is not a duration like 24h, 1h30m or 0 (never expires)")
    return text


SafeStr = Annotated[str, AfterValidator(_safe)]
Host = Annotated[str, AfterValidator(_host)]
IPAddr = Annotated[str, AfterValidator(_ip)]
HostPort = Annotated[str, AfterValidator(_host_port)]
Cidr = Annotated[str, AfterValidator(_cidr)]
Duration = Annotated[str, AfterValidator(_duration)]

Runtime = Literal["containerd", "docker"]
Role = Literal["control-plane", "worker"]
Cni = Literal["flannel", "calico", "none"]
ProxyMode = Literal["iptables", "ipvs", "nftables"]
SudoMode = Literal["auto", "never", "always"]
HostKeyPolicy = Literal["strict", "accept-new"]
MIRROR_PRESETS = ("official", "aliyun", "aliyun-legacy", "ustc", "tuna")
IMAGE_REPOSITORY_PRESETS = {
    "official": "registry.k8s.io",
    "aliyun": "registry.aliyuncs.com/google_containers",
    "aliyun-hangzhou": "registry.cn-hangzhou.aliyuncs.com/google_containers",
}


class Model(BaseModel):
    """Common config: camelCase keys, unknown keys are errors, assignments are validated."""

    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=True,
        extra="forbid",
        validate_assignment=True,
    )


class KubernetesSpec(Model):
    version: str = "1.34.6"
    runtime: Runtime = "containerd"
    package_mirror: str = "official"
    image_repository: SafeStr = "registry.k8s.io"
    token_ttl: Duration = Field("24h", alias="tokenTTL")
    control_plane_endpoint: HostPort | None = None
    untaint_control_plane: bool = False
    # Not in cluster-file.md: the escape hatch the facts sheet names for cgroup v1 hosts on >= 1.35.
    fail_cgroup_v1: bool = Field(True, alias="failCgroupV1")

    @field_validator("version", mode="before")
    @classmethod
    def _version(cls, value: object) -> str:
        text = str(value).strip().removeprefix("v")
        if not re.fullmatch(r"^1\.\d{1,2}(\.\d{1,3})?$", text):
            raise ValueError(f"{value!r} is not a Kubernetes version like 1.34.6 or 1.34")
        return text

    @field_validator("token_ttl", mode="before")
    @classmethod
    def _ttl(cls, value: object) -> object:
        return str(value) if isinstance(value, int) and not isinstance(value, bool) else value

    @field_validator("package_mirror")
    @classmethod
    def _mirror(cls, value: str) -> str:
        if value in MIRROR_PRESETS:
            return value
        if re.fullmatch(r"^https?://[A-Za-z0-9.-]+(:\d+)?(/[A-Za-z0-9._~:/%-]*)?$", value):
            return value.rstrip("/")
        raise ValueError(
            f"{value!r} is not a mirror: use one of {', '.join(MIRROR_PRESETS)} or an https:// URL base"
        )


class NetworkSpec(Model):
    pod_subnet: Cidr = "10.244.0.0/16"
    service_subnet: Cidr = "10.96.0.0/12"
    dns_domain: Annotated[str, AfterValidator(_host)] = "cluster.local"
    cni: Cni = "flannel"
    proxy_mode: ProxyMode = "iptables"
    interface: Annotated[str, AfterValidator(lambda v: _check(v, _IFACE, "an interface name"))] | None = None


class HostPrepSpec(Model):
    firewall: Literal["disable", "open-ports", "leave"] = "disable"
    selinux: Literal["permissive", "leave"] = "permissive"
    disable_ipv6: bool = Field(False, alias="disableIPv6")
    time_servers: list[Host] | None = None


def _check(value: str, pattern: re.Pattern[str], what: str) -> str:
    if not pattern.fullmatch(value):
        raise ValueError(f"{value!r} is not {what}")
    return value


def _matching(pattern: re.Pattern[str], what: str) -> AfterValidator:
    return AfterValidator(lambda v: _check(v, pattern, what))


_USER = re.compile(r"^[a-z_][a-z0-9_.-]{0,31}$")
_OS = re.compile(r"^[a-z]+-[0-9.]+$")
EnvName = Annotated[str, _matching(_ENV_NAME, "an environment variable name")]
UserName = Annotated[str, _matching(_USER, "a user name")]
NodeName = Annotated[str, _matching(_RFC1123_LABEL, "a node name (RFC 1123: a-z, 0-9, -)")]
OsName = Annotated[str, _matching(_OS, "an OS like ubuntu-22.04")]
ClusterName = Annotated[str, _matching(_RFC1123_LABEL, "a cluster name of a-z, 0-9 and -")]
PathStr = Annotated[str, AfterValidator(_safe)]


class SSHOverride(Model):
    """Per-node SSH settings: any key left out falls back to the cluster-wide `ssh` block."""

    user: UserName | None = None
    port: Annotated[int, Field(ge=1, le=65535)] | None = None
    identity_file: PathStr | None = None
    password: SecretStr | None = Field(None, exclude=True)
    password_env: EnvName | None = None
    sudo: SudoMode | None = None
    sudo_password_env: EnvName | None = None
    bastion: Annotated[str, AfterValidator(_bastion)] | None = None
    known_hosts: PathStr | None = None
    host_key_policy: HostKeyPolicy | None = None


NULLABLE_SSH_KEYS = frozenset({"identity_file", "password", "password_env", "sudo_password_env", "bastion"})


class SSHSpec(SSHOverride):
    """Cluster-wide SSH defaults: every key has a value."""

    user: UserName = "root"
    port: Annotated[int, Field(ge=1, le=65535)] = 22
    identity_file: PathStr | None = "~/.ssh/id_ed25519"
    sudo: SudoMode = "auto"
    known_hosts: PathStr = "~/.ssh/known_hosts"
    host_key_policy: HostKeyPolicy = "strict"

    def merged(self, override: SSHOverride | None) -> SSHSpec:
        """These defaults with a node's overrides applied (only the keys the node set)."""
        if override is None:
            return self
        changes = {k: getattr(override, k) for k in override.model_fields_set}
        # A null only overrides keys that may be null (identityFile: null = use the agent);
        # `port: null` in a node's block means "no override", never "no port".
        changes = {k: v for k, v in changes.items() if v is not None or k in NULLABLE_SSH_KEYS}
        return self.model_copy(update=changes)

    @property
    def needs_sudo(self) -> bool:
        return self.sudo == "always" or (self.sudo == "auto" and self.user != "root")


class NodeSpec(Model):
    name: NodeName
    address: Host
    internal_ip: IPAddr | None = Field(None, alias="internalIP")
    role: Role = "worker"
    os: OsName | None = None
    ssh: SSHOverride | None = None

    @field_validator("ssh")
    @classmethod
    def _empty_override(cls, value: SSHOverride | None) -> SSHOverride | None:
        """`ssh: {}` overrides nothing: keep it as None so a saved file round-trips."""
        return value if value is not None and value.model_fields_set else None

    @property
    def node_ip(self) -> str | None:
        """The address Kubernetes uses: internalIP, else the SSH address when it is an IP."""
        if self.internal_ip:
            return self.internal_ip
        try:
            return str(ipaddress.ip_address(self.address))
        except ValueError:
            return None

    @property
    def is_control_plane(self) -> bool:
        return self.role == "control-plane"


class ClusterSpec(Model):
    api_version: Literal["k8stui/v1"] = API_VERSION
    kind: Literal["Cluster"] = KIND
    name: ClusterName = "lab"
    kubernetes: KubernetesSpec = Field(default_factory=KubernetesSpec)
    network: NetworkSpec = Field(default_factory=NetworkSpec)
    host_prep: HostPrepSpec = Field(default_factory=HostPrepSpec)
    ssh: SSHSpec = Field(default_factory=SSHSpec)
    nodes: list[NodeSpec] = Field(default_factory=list)

    def node(self, name: str) -> NodeSpec:
        for node in self.nodes:
            if node.name == name:
                return node
        raise KeyError(name)

    def ssh_for(self, node: NodeSpec) -> SSHSpec:
        return self.ssh.merged(node.ssh)

    @property
    def control_planes(self) -> list[NodeSpec]:
        return [n for n in self.nodes if n.is_control_plane]

    @property
    def first_control_plane(self) -> NodeSpec | None:
        planes = self.control_planes
        return planes[0] if planes else None

    @property
    def workers(self) -> list[NodeSpec]:
        return [n for n in self.nodes if not n.is_control_plane]
