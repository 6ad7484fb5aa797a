"""SELinux (getenforce/setenforce over STATE + /etc/selinux/config), firewalld's firewall-cmd, and ufw."""

from __future__ import annotations

import re

from . import state, systemd

_PORT = re.compile(r"^(\d{1,5})(-(\d{1,5}))?/(tcp|udp|sctp|dccp)$")


def selinux_mode() -> str:
    return state.load("selinux.json", {}).get("mode", "Disabled")


def getenforce(args: list[str]) -> int:
    print(selinux_mode())
    return 0


def setenforce(args: list[str]) -> int:
    if len(args) != 1:
        state.fail("usage:  setenforce [ Enforcing | Permissive | 1 | 0 ]", 1)
    mode = selinux_mode()
    if mode == "Disabled":
        state.fail("setenforce: SELinux is disabled", 1)
    word = {"1": "Enforcing", "0": "Permissive"}.get(args[0], args[0].capitalize())
    if word not in ("Enforcing", "Permissive"):
        state.fail("usage:  setenforce [ Enforcing | Permissive | 1 | 0 ]", 1)
    state.save("selinux.json", {"mode": word})
    return 0


# --- firewalld -------------------------------------------------------------------------


def _fw() -> dict[str, list[str]]:
    return state.load("firewalld.json", {"permanent": ["ssh"], "runtime": ["ssh"]})


def firewall_cmd(args: list[str]) -> int:
    if not systemd.is_active("firewalld.service"):
        if "--state" in args:
            print("not running")
            return 252
        state.fail("FirewallD is not running", 252)
    if "--state" in args:
        print("running")
        return 0
    fw = _fw()
    layer = "permanent" if "--permanent" in args else "runtime"
    for arg in args:
        opt, _, value = arg.partition("=")
        if opt in ("--add-port", "--remove-port", "--query-port"):
            if not _PORT.match(value) or not all(0 < int(p) < 65536 for p in re.findall(r"\d+", value)[:2]):
                state.fail(f"Error: INVALID_PORT: {value}", 103)
            code = _port(fw, layer, opt, value)
            if code:
                return code
        elif opt == "--reload":
            fw["runtime"] = list(fw["permanent"])
        elif opt in ("--list-ports", "--list-all"):
            ports = [p for p in fw[layer] if "/" in p]
            print(" ".join(ports) if opt == "--list-ports" else f"public\n  ports: {' '.join(ports)}")
        elif opt in ("--add-service", "--remove-service"):
            _port(fw, layer, opt.replace("service", "port"), value)
        elif opt not in ("--permanent", "--zone", "--quiet", "-q"):
            state.fail(f"firewall-cmd: error: unrecognized arguments: {arg}", 2)
    state.save("firewalld.json", fw)
    if any(a.startswith(("--add-", "--remove-", "--reload")) for a in args) and "-q" not in args:
        print("success")
    return 0


def _port(fw: dict[str, list[str]], layer: str, opt: str, value: str) -> int:
    present = value in fw[layer]
    if opt == "--query-port":
        print("yes" if present else "no")
        return 0 if present else 1
    if opt == "--add-port":
        if present:
            state.err(f"Warning: ALREADY_ENABLED: {value.replace('/', ':')}")
        else:
            fw[layer].append(value)
    elif present:
        fw[layer].remove(value)
    return 0


# --- ufw -------------------------------------------------------------------------------


def _ufw_enabled() -> bool:
    return "ENABLED=yes" in state.read("/etc/ufw/ufw.conf")


def _ufw_set(enabled: bool) -> None:
    conf = state.read("/etc/ufw/ufw.conf", "ENABLED=no\nLOGLEVEL=low\n")
    conf = re.sub(r"^ENABLED=.*$", f"ENABLED={'yes' if enabled else 'no'}", conf, flags=re.M)
    state.write("/etc/ufw/ufw.conf", conf)


def ufw(args: list[str]) -> int:
    words = [a for a in args if a not in ("--force", "-f")]
    rules: list[str] = state.load("ufw.json", [])
    if not words or words[0] == "status":
        print(f"Status: {'active' if _ufw_enabled() else 'inactive'}")
        if _ufw_enabled() and rules:
            print(
                "\nTo                         Action      From\n--                         ------      ----"
            )
            for rule in rules:
                print(f"{rule:<27}ALLOW       Anywhere")
        return 0
    verb = words[0]
    if verb == "enable":
        if "--force" not in args and "-f" not in args:
            print("Command may disrupt existing ssh connections. Proceed with operation (y|n)? Aborted")
            return 1
        _ufw_set(True)
        print("Firewall is active and enabled on system startup")
    elif verb == "disable":
        _ufw_set(False)
        print("Firewall stopped and disabled on system startup")
    elif verb in ("allow", "deny", "delete") and len(words) >= 2:
        return _ufw_rule(verb, words[1:], rules)
    else:
        state.fail("ERROR: Invalid syntax", 1)
    return 0


def _ufw_rule(verb: str, words: list[str], rules: list[str]) -> int:
    rule = words[-1]  # `allow 6443/tcp`, `delete allow 6443/tcp`
    if not (_PORT.match(rule) or re.fullmatch(r"\d{1,5}(:\d{1,5})?(/(tcp|udp))?|OpenSSH|ssh", rule)):
        state.fail(f"ERROR: Bad port '{rule}'", 1)
    if verb == "allow" and rule not in rules:
        rules.append(rule)
        print("Rules updated\nRules updated (v6)")
    elif verb == "allow":
        print("Skipping adding existing rule\nSkipping adding existing rule (v6)")
    elif rule in rules:
        rules.remove(rule)
        print("Rule deleted\nRule deleted (v6)")
    state.save("ufw.json", rules)
    return 0
