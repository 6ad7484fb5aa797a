"""kubectl over the lab's API server: get (--raw, nodes, pods, daemonsets, deployments, services,
namespaces; -o wide|json|name|jsonpath=), apply -f FILE|-, taint nodes --all KEY-, create/delete
namespace, wait --for=condition=Ready nodes --all, rollout status deployment/NAME, version --client."""

from __future__ import annotations

import json
import os
import sys
import time
from typing import Any

from . import flags, jsonpath, kubeclient, miniyaml, pkgdb, state, vercmp

GLOBAL = {
    "--kubeconfig",
    "--request-timeout",
    "-n",
    "--namespace",
    "-o",
    "--output",
    "-f",
    "--filename",
    "--timeout",
    "--for",
    "--raw",
    "--wait",
    "--v",
    "--selector",
    "-l",
    "--field-manager",
}
SWITCHES = {
    "-A",
    "--all-namespaces",
    "--all",
    "--ignore-not-found",
    "--client",
    "--overwrite",
    "--watch",
    "-w",
}
SHORT = {"-n": "-n", "-o": "-o", "-f": "-f", "-l": "-l"}
KINDS = {
    "node": "Node",
    "nodes": "Node",
    "no": "Node",
    "pod": "Pod",
    "pods": "Pod",
    "po": "Pod",
    "daemonset": "DaemonSet",
    "daemonsets": "DaemonSet",
    "ds": "DaemonSet",
    "deployment": "Deployment",
    "deployments": "Deployment",
    "deploy": "Deployment",
    "service": "Service",
    "services": "Service",
    "svc": "Service",
    "namespace": "Namespace",
    "namespaces": "Namespace",
    "ns": "Namespace",
}


def _seconds(text: str, default: float) -> float:
    if not text:
        return default
    unit = {"s": 1, "m": 60, "h": 3600}.get(text[-1])
    try:
        return float(text[:-1]) * unit if unit else float(text)
    except ValueError:
        state.fail(f'error: invalid duration "{text}"', 1)


def kubectl(args: list[str]) -> int:
    opts, rest = flags.parse(args, GLOBAL, SWITCHES, SHORT)
    if rest[:1] == ["version"]:
        v = vercmp.upstream(pkgdb.installed()["kubectl"]["version"])
        print(f"Client Version: v{v}\nKustomize Version: v5.7.1")
        return 0
    if not rest:
        state.fail("error: You must specify the type of resource to get.", 1)
    home = os.environ.get("HOME", "/root")
    kubeconfig = opts.get("--kubeconfig") or os.environ.get("KUBECONFIG") or f"{home}/.kube/config"
    client = kubeclient.from_kubeconfig(
        kubeconfig, timeout=_seconds(opts.get("--request-timeout", ""), 30) or 30
    )
    namespace = opts.get("-n", opts.get("--namespace", "default"))
    verb, words = rest[0], rest[1:]
    try:
        if verb == "get":
            return _get(client, opts, words, namespace)
        if verb == "apply":
            return _apply(client, opts)
        if verb == "taint":
            return _taint(client, opts, words)
        if verb in ("create", "delete") and words[:1] in (["namespace"], ["ns"]) and len(words) == 2:
            return _namespace(client, verb, words[1], opts)
        if verb == "wait":
            return _wait(client, opts, words)
        if verb == "rollout" and words[:1] == ["status"]:
            return _rollout(client, opts, words[1:], namespace)
    except kubeclient.ApiError as exc:
        text = str(exc)
        state.fail(
            text if text.startswith(("Error", "error", "The connection")) else f"Error from server: {text}", 1
        )
    state.fail(f"k8slab kubectl model: unsupported command {' '.join(rest)!r}", 1)


def _get(client: kubeclient.Client, opts: dict[str, str], words: list[str], namespace: str) -> int:
    if "--raw" in opts:
        out = client.request("GET", opts["--raw"])
        print(out if isinstance(out, str) else json.dumps(out))
        return 0
    if not words or words[0] not in KINDS:
        state.fail(f'error: the server doesn\'t have a resource type "{words[0] if words else ""}"', 1)
    kind = KINDS[words[0]]
    every = "-A" in opts or "--all-namespaces" in opts
    objects = _objects(client, kind, None if every else namespace, words[1] if len(words) > 1 else None)
    output = opts.get("-o", opts.get("--output", ""))
    if output.startswith("jsonpath="):
        data = objects[0] if len(words) > 1 else {"kind": "List", "items": objects}
        try:
            sys.stdout.write(jsonpath.render(output[9:], data))
        except jsonpath.JsonPathError as exc:
            state.fail(f"error: error parsing jsonpath {output[9:]}, {exc}", 1)
        return 0
    if output == "json":
        print(json.dumps(objects[0] if len(words) > 1 else {"kind": "List", "items": objects}, indent=4))
        return 0
    if output not in ("", "wide", "name"):
        state.fail(f'error: unable to match a printer suitable for the output format "{output}"', 1)
    if output == "name":
        print("\n".join(f"{kind.lower()}/{o['metadata']['name']}" for o in objects))
        return 0
    if not objects:
        state.err(f"No resources found in {namespace} namespace." if kind != "Node" else "No resources found")
        return 0
    _table(kind, objects, output == "wide", every)
    return 0


def _objects(
    client: kubeclient.Client, kind: str, namespace: str | None, name: str | None
) -> list[dict[str, Any]]:
    if kind == "Node":
        items = client.request("GET", "/api/v1/nodes")["items"]
        found = [i for i in items if name in (None, i["metadata"]["name"])]
        if name and not found:
            raise kubeclient.ApiError(404, f'Error from server (NotFound): nodes "{name}" not found')
        return found
    if kind == "Pod":
        query = f"?namespace={namespace}" if namespace else ""
        return [
            {"metadata": {"name": p["name"], "namespace": p["namespace"]}, "lab": p}
            for p in client.request("GET", f"/lab/pods{query}")
            if name in (None, p["name"])
        ]
    if name:
        ns = "-" if kind == "Namespace" else namespace or "default"
        return [client.request("GET", f"/lab/object/{kind}/{ns}/{name}")]
    query = f"?namespace={namespace}" if namespace and kind != "Namespace" else ""
    return client.request("GET", f"/lab/list/{kind}{query}")


def _table(kind: str, objects: list[dict[str, Any]], wide: bool, every: bool) -> None:
    rows: list[list[str]] = []
    if kind == "Node":
        rows.append(
            ["NAME", "STATUS", "ROLES", "AGE", "VERSION"] + (["INTERNAL-IP", "OS-IMAGE"] if wide else [])
        )
        for o in objects:
            ready = o["status"]["conditions"][0]["status"] == "True"
            roles = (
                ",".join(k.split("/", 1)[1] for k in o["metadata"]["labels"] if k.startswith("node-role"))
                or "<none>"
            )
            row = [
                o["metadata"]["name"],
                "Ready" if ready else "NotReady",
                roles,
                "5m",
                o["status"]["nodeInfo"]["kubeletVersion"],
            ]
            rows.append(row + ([o["status"]["addresses"][0]["address"], "k8slab"] if wide else []))
    elif kind == "Pod":
        rows.append(
            (["NAMESPACE"] if every else [])
            + ["NAME", "READY", "STATUS", "RESTARTS", "AGE"]
            + (["IP", "NODE"] if wide else [])
        )
        for o in objects:
            p = o["lab"]
            rows.append(
                ([p["namespace"]] if every else [])
                + [p["name"], p["ready"], p["status"], "0", "1m"]
                + ([p["ip"], p["node"]] if wide else [])
            )
    else:
        rows.append(["NAME", "AGE"])
        rows += [[o["metadata"]["name"], "1m"] for o in objects]
    widths = [max(len(r[i]) for r in rows) + 3 for i in range(len(rows[0]))]
    for row in rows:
        print("".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())


def _apply(client: kubeclient.Client, opts: dict[str, str]) -> int:
    source = opts.get("-f", opts.get("--filename"))
    if not source:
        state.fail("error: must specify one of -f and -k", 1)
    if source == "-":
        text = sys.stdin.read()
    else:
        try:
            with open(state.root(source)) as f:
                text = f.read()
        except FileNotFoundError:
            state.fail(f'error: the path "{source}" does not exist', 1)
    try:
        objects = [d for d in miniyaml.load_all(text) if d is not None]
    except miniyaml.YamlError as exc:
        state.fail(f"error: error parsing {source}: error converting YAML to JSON: yaml: {exc}", 1)
    if not objects:
        state.fail("error: no objects passed to apply", 1)
    for line in client.request("POST", "/lab/apply", {"objects": objects, "source": source}):
        print(line)
    return 0


def _taint(client: kubeclient.Client, opts: dict[str, str], words: list[str]) -> int:
    if (
        words[:1] not in (["nodes"], ["node"])
        or "--all" not in opts
        or len(words) != 2
        or not words[1].endswith("-")
    ):
        state.fail("k8slab kubectl model: only `taint nodes --all KEY-` (removal) is modelled", 1)
    try:
        lines = client.request("POST", "/lab/untaint", {"key": words[1][:-1].split(":")[0]})
    except kubeclient.ApiError as exc:
        state.fail(f"error: {exc}", 1)
    print("\n".join(lines))
    return 0


def _namespace(client: kubeclient.Client, verb: str, name: str, opts: dict[str, str]) -> int:
    if verb == "create":
        client.request(
            "POST",
            "/lab/apply",
            {
                "objects": [{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}],
                "source": "STDIN",
            },
        )
        print(f"namespace/{name} created")
        return 0
    try:
        client.request("DELETE", f"/lab/namespace/{name}")
    except kubeclient.ApiError as exc:
        if exc.status == 404 and "--ignore-not-found" in opts:
            return 0
        raise
    print(f'namespace "{name}" deleted')
    return 0


def _poll(seconds: float, probe: Any) -> bool:
    deadline = time.monotonic() + seconds
    while True:
        if probe():
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(1)


def _wait(client: kubeclient.Client, opts: dict[str, str], words: list[str]) -> int:
    if (
        opts.get("--for") != "condition=Ready"
        or words[:1] not in (["nodes"], ["node"])
        or "--all" not in opts
    ):
        state.fail("k8slab kubectl model: only `wait --for=condition=Ready nodes --all` is modelled", 1)
    nodes: list[dict[str, Any]] = []

    def all_ready() -> bool:
        nodes[:] = client.request("GET", "/api/v1/nodes")["items"]
        return all(n["status"]["conditions"][0]["status"] == "True" for n in nodes)

    if not _poll(_seconds(opts.get("--timeout", ""), 30), all_ready):
        waiting = next(
            n["metadata"]["name"] for n in nodes if n["status"]["conditions"][0]["status"] != "True"
        )
        state.fail(f"error: timed out waiting for the condition on nodes/{waiting}", 1)
    print("\n".join(f"node/{n['metadata']['name']} condition met" for n in nodes))
    return 0


def _rollout(client: kubeclient.Client, opts: dict[str, str], words: list[str], namespace: str) -> int:
    kind, _, name = (words[0] if words else "").partition("/")
    if KINDS.get(kind) != "Deployment" or not name:
        state.fail("k8slab kubectl model: only `rollout status deployment/NAME` is modelled", 1)
    status: dict[str, Any] = {}

    def available() -> bool:
        status.update(client.request("GET", f"/lab/deployment/{namespace}/{name}"))
        if status["availableReplicas"] < status["replicas"]:
            print(
                f'Waiting for deployment "{name}" rollout to finish: {status["availableReplicas"]} of '
                f"{status['replicas']} updated replicas are available...",
                flush=True,
            )
            return False
        return True

    if not _poll(_seconds(opts.get("--timeout", ""), 600), available):
        state.fail(f"error: timed out waiting for the condition ({status.get('reason')})", 1)
    print(f'deployment "{name}" successfully rolled out')
    return 0
