"""The lab network: one bridge in its own netns, a veth per node, a veth from the jump host.

Every name starts with PREFIX and the lab's slot number, so a crashed run is found and removed by name.
The bridge netns has an address too and is the nodes' default gateway, but it never forwards (a new
netns has ip_forward=0): nodes have a default route, as recipes expect, and no way out of the lab.
"""

from __future__ import annotations

import ipaddress
import subprocess

PREFIX = "k8slab"


def subnet(slot: int) -> ipaddress.IPv4Network:
    """Slot 0 is 172.30.213.0/24, the next labs take the following /24s."""
    return ipaddress.IPv4Network(f"172.30.{213 + slot}.0/24")


def host_ip(slot: int) -> str:
    return str(subnet(slot).network_address + 1)


def gateway_ip(slot: int) -> str:
    return str(subnet(slot).network_address + 254)


def node_ip(slot: int, index: int) -> str:
    """Node 0 is .11, node 1 is .12, ..."""
    return str(subnet(slot).network_address + 11 + index)


def bridge_ns(slot: int) -> str:
    return f"{PREFIX}{slot}-br"


def node_ns(slot: int, name: str) -> str:
    return f"{PREFIX}{slot}-{name}"


def host_veth(slot: int) -> str:
    return f"{PREFIX}{slot}h"


def ip(*args: str) -> None:
    subprocess.run(["ip", *args], check=True, capture_output=True, text=True, timeout=20)


def create_bridge(slot: int) -> None:
    br, veth = bridge_ns(slot), host_veth(slot)
    prefix = subnet(slot).prefixlen
    ip("netns", "add", br)
    ip("-n", br, "link", "set", "lo", "up")
    ip("-n", br, "link", "add", "br0", "type", "bridge")
    ip("-n", br, "addr", "add", f"{gateway_ip(slot)}/{prefix}", "dev", "br0")
    ip("-n", br, "link", "set", "br0", "up")
    ip("link", "add", veth, "type", "veth", "peer", "name", "jump", "netns", br)
    ip("addr", "add", f"{host_ip(slot)}/{prefix}", "dev", veth)
    ip("link", "set", veth, "up")
    ip("-n", br, "link", "set", "jump", "master", "br0", "up")


def create_node_net(slot: int, index: int, name: str) -> str:
    """The node's netns with eth0 on the bridge; returns the netns name."""
    ns, br = node_ns(slot, name), bridge_ns(slot)
    ip("netns", "add", ns)
    ip("-n", br, "link", "add", f"n{index}", "type", "veth", "peer", "name", "eth0", "netns", ns)
    ip("-n", br, "link", "set", f"n{index}", "master", "br0", "up")
    ip("-n", ns, "link", "set", "lo", "up")
    ip("-n", ns, "addr", "add", f"{node_ip(slot, index)}/{subnet(slot).prefixlen}", "dev", "eth0")
    ip("-n", ns, "link", "set", "eth0", "up")
    ip("-n", ns, "route", "add", "default", "via", gateway_ip(slot))
    return ns


def subnet_in_use(slot: int) -> bool:
    """A route of the host already covers the slot's subnet."""
    out = subprocess.run(["ip", "-o", "route", "show", "match", str(subnet(slot).network_address + 11)],
                         capture_output=True, text=True, timeout=20).stdout
    return any(not line.startswith("default") for line in out.splitlines())


def lab_netns(slot: int | None = None) -> list[str]:
    """Existing lab netns names (of one slot, or of every slot)."""
    out = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True, timeout=20).stdout
    names = [line.split()[0] for line in out.splitlines() if line.strip()]
    head = PREFIX if slot is None else f"{PREFIX}{slot}-"
    return [n for n in names if n.startswith(head)]


def lab_links(slot: int | None = None) -> list[str]:
    """Lab veths left in the host's root netns."""
    out = subprocess.run(["ip", "-o", "link", "show"], capture_output=True, text=True, timeout=20).stdout
    names = [line.split(":")[1].strip().split("@")[0] for line in out.splitlines() if ":" in line]
    want = host_veth(slot) if slot is not None else None
    return [n for n in names if (n == want if want else n.startswith(PREFIX))]


def destroy(slot: int) -> None:
    """Remove the slot's netns and host veth; deleting a netns deletes the veths inside it."""
    for link in lab_links(slot):
        subprocess.run(["ip", "link", "del", link], capture_output=True, timeout=20)
    for ns in lab_netns(slot):
        subprocess.run(["ip", "netns", "del", ns], capture_output=True, timeout=20)
