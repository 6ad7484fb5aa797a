"""The node agent a running kubelet stands for: every second it posts the node's heartbeat with the
kubelet.conf credential and serves the cluster's NodePort services that have ready endpoints on the
node's IP (an nginx-like answer), closing them when they go away. Exits when the kubelet stops."""

from __future__ import annotations

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from . import kubeclient, kubelet, state, systemd

PAGE = (
    b"<!DOCTYPE html>\n<html><head><title>Welcome to nginx!</title></head>"
    b"<body><h1>Welcome to nginx!</h1></body></html>\n"
)


class _Nginx(BaseHTTPRequestHandler):
    def log_message(self, *args: Any) -> None:
        return

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(PAGE)))
        self.send_header("Server", "nginx/1.27.5")
        self.end_headers()
        self.wfile.write(PAGE)


def _node_ip() -> str:
    flags = state.read("/var/lib/kubelet/kubeadm-flags.env")
    for word in flags.replace('"', " ").split():
        if word.startswith("--node-ip="):
            return word.split("=", 1)[1]
    return str(state.node().get("ip", "0.0.0.0"))


def main(args: list[str]) -> int:
    ip = _node_ip()
    servers: dict[int, ThreadingHTTPServer] = {}
    client = kubeclient.from_kubeconfig("/etc/kubernetes/kubelet.conf", timeout=5)
    for _ in range(10**9):  # ends when the kubelet stops (or the node goes away)
        if not systemd.is_active("kubelet.service"):
            break
        kubelet.sync_static_pods()  # the kubelet's sync loop: static Pods follow the manifests
        try:
            client.request("POST", "/lab/heartbeat", {"runtime": kubelet.runtime_up()})
            wanted = {p["nodePort"] for p in client.request("GET", "/lab/nodeports") if p["ready"]}
        except kubeclient.ApiError:
            wanted = set(servers)
        for port in wanted - set(servers):
            try:
                server = ThreadingHTTPServer((ip, port), _Nginx)
            except OSError:
                continue
            servers[port] = server
            threading.Thread(target=server.serve_forever, daemon=True).start()
        for port in set(servers) - wanted:
            servers.pop(port).shutdown()
        time.sleep(1)
    for server in servers.values():
        server.shutdown()
    return 0
