"""Network: pod and service CIDRs, DNS domain, CNI, kube-proxy mode and the CNI's interface."""

from __future__ import annotations

from pydantic import ValidationError
from textual import on
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Input, Select, Static

from k8stui.model.cluster import ClusterSpec
from k8stui.ui.screens.wizard import WizardScreen
from k8stui.ui.validation import problems, under, warnings
from k8stui.ui.widgets.field import Field

CNIS = [
    ("flannel (VXLAN, simple)", "flannel"),
    ("calico (BGP/IPIP, policies)", "calico"),
    ("none (install your own)", "none"),
]
PROXY_MODES = [
    ("iptables", "iptables"),
    ("ipvs (deprecated from 1.35)", "ipvs"),
    ("nftables (>= 1.33)", "nftables"),
]
# Input id -> (NetworkSpec attribute, cluster-file path)
TEXT_FIELDS = {
    "pod-subnet": ("pod_subnet", "network.podSubnet"),
    "service-subnet": ("service_subnet", "network.serviceSubnet"),
    "dns-domain": ("dns_domain", "network.dnsDomain"),
    "interface": ("interface", "network.interface"),
}
SELECT_FIELDS = {"cni": ("cni", "network.cni"), "proxy-mode": ("proxy_mode", "network.proxyMode")}


class NetworkScreen(WizardScreen):
    """Step 2. Each field checks itself as you type, then the cross-field rules run on the whole spec."""

    STEP = "network"
    TITLE = "Network"

    def __init__(self, spec: ClusterSpec) -> None:
        super().__init__(spec)
        self.field_errors: dict[str, str] = {}  # path -> why the typed value was not accepted

    def compose(self) -> ComposeResult:
        net = self.spec.network
        yield from self.compose_frame()
        with VerticalScroll(classes="form", id="network-form"):
            yield Field(
                "Pod subnet", Input(net.pod_subnet, compact=True, id="pod-subnet"), "network.podSubnet"
            )
            yield Field(
                "Service subnet",
                Input(net.service_subnet, compact=True, id="service-subnet"),
                "network.serviceSubnet",
            )
            yield Field(
                "DNS domain", Input(net.dns_domain, compact=True, id="dns-domain"), "network.dnsDomain"
            )
            yield Field(
                "CNI", Select(CNIS, value=net.cni, allow_blank=False, compact=True, id="cni"), "network.cni"
            )
            yield Field(
                "kube-proxy mode",
                Select(PROXY_MODES, value=net.proxy_mode, allow_blank=False, compact=True, id="proxy-mode"),
                "network.proxyMode",
            )
            yield Field(
                "CNI interface",
                Input(net.interface or "", placeholder="auto (default route)", compact=True, id="interface"),
                "network.interface",
                hint="Only for nodes with several NICs, e.g. eth1.",
            )
            yield Static(id="network-nodes", classes="hint")
        yield from self.compose_footer()

    def on_mount(self) -> None:
        ips = [n.node_ip for n in self.spec.nodes if n.node_ip]
        shown = ", ".join(ips[:6]) + (f" and {len(ips) - 6} more" if len(ips) > 6 else "")
        self.query_one("#network-nodes", Static).update(f"Node IPs: {shown or 'none yet'}")
        self.revalidate()
        self.query_one("#pod-subnet", Input).focus()

    @on(Input.Changed)
    def _text_changed(self, event: Input.Changed) -> None:
        if event.input.id in TEXT_FIELDS:
            attr, path = TEXT_FIELDS[event.input.id]
            value = event.value.strip() or (None if attr == "interface" else "")
            self._assign(attr, path, value)

    @on(Select.Changed)
    def _select_changed(self, event: Select.Changed) -> None:
        if event.select.id in SELECT_FIELDS and event.value is not Select.NULL:
            attr, path = SELECT_FIELDS[event.select.id]
            self._assign(attr, path, event.value)

    def _assign(self, attr: str, path: str, value: object) -> None:
        """validate_assignment keeps the last good value when the new one is refused."""
        try:
            setattr(self.spec.network, attr, value)
        except ValidationError as exc:
            message = exc.errors(include_url=False)[0]["msg"].removeprefix("Value error, ")
            self.field_errors[path] = message
        else:
            self.field_errors.pop(path, None)
        self.revalidate()

    def revalidate(self) -> None:
        """Field errors first; a field whose text is valid shows the cross-field problem (overlaps...)."""
        found = {**under(problems(self.spec), "network"), **self.field_errors}
        advice = under(warnings(self.spec), "network")
        for field in self.query(Field):
            field.show(found.get(field.key), advice.get(field.key))

    def blocker(self) -> str | None:
        found = {**under(problems(self.spec), "network"), **self.field_errors}
        if found:
            path, message = next(iter(found.items()))
            return f"{path}: {message}"
        return None
