"""The lab's kube-apiserver: an HTTPS server (serving certificate signed by the cluster CA) on a control
plane's advertise address; the kubelet runs it from the static Pod manifest kubeadm writes. The first
control plane's owns the cluster state (cluster.py); a joined control plane's serves the same state
through it (as API servers share etcd). kubectl, kubeadm join and the node agents reach it over the lab
network.

Anonymous: /healthz /livez /readyz /version and the kube-public cluster-info ConfigMap (with a JWS
signature per bootstrap token, as kubeadm's discovery verifies). Bootstrap tokens may only join; node
credentials report heartbeats and read NodePorts; the admin client certificate may do everything.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import ssl
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse

from . import cluster, kubeclient, state, workloads

STATE_FILE = "cluster/state.json"
PKI = "/etc/kubernetes/pki"
_lock = threading.Lock()
UPSTREAM: dict[str, Any] = {}  # set on joined control planes: where the shared cluster store is served
Handler = Any


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def jws(payload: str, token_id: str, secret: str) -> str:
    """A detached HS256 JWS (header..signature), as the bootstrap signer puts into cluster-info."""
    header = b64url(json.dumps({"alg": "HS256", "kid": token_id}, separators=(",", ":")).encode())
    signed = f"{header}.{b64url(payload.encode())}".encode()
    return f"{header}..{b64url(hmac.new(secret.encode(), signed, hashlib.sha256).digest())}"


def load() -> dict[str, Any]:
    return state.load(STATE_FILE, {})


def _save(st: dict[str, Any]) -> None:
    state.save(STATE_FILE, st)


def cluster_info(st: dict[str, Any]) -> dict[str, Any]:
    conf = st["config"]
    kubeconfig = (
        f"apiVersion: v1\nclusters:\n- cluster:\n    certificate-authority-data: {conf['ca_b64']}\n"
        f'    server: {conf["server"]}\n  name: ""\ncontexts: null\ncurrent-context: ""\n'
        "kind: Config\npreferences: {}\nusers: null\n"
    )
    data = {"kubeconfig": kubeconfig}
    for token_id in st["tokens"]:
        secret = cluster.token_secret(st, token_id)
        if secret:
            data[f"jws-kubeconfig-{token_id}"] = jws(kubeconfig, token_id, secret)
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "cluster-info", "namespace": "kube-public"},
        "data": data,
    }


def kubeadm_config_map(st: dict[str, Any]) -> dict[str, Any]:
    """kube-system/kubeadm-config: the ClusterConfiguration kubeadm init stored (what joins read)."""
    conf = st["config"]
    text = (
        f"apiVersion: kubeadm.k8s.io/v1beta4\nkind: ClusterConfiguration\n"
        f"kubernetesVersion: {conf['version']}\nimageRepository: {conf['imageRepository']}\n"
        f'networking:\n  podSubnet: "{conf["podSubnet"]}"\n  serviceSubnet: {conf["serviceSubnet"]}\n'
    )
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "data": {"ClusterConfiguration": text},
        "metadata": {"name": "kubeadm-config", "namespace": "kube-system"},
    }


def route(
    st: dict[str, Any], method: str, path: str, query: dict[str, str], body: Any, who: str
) -> tuple[bool, Any]:
    """(changed, response) for one request; raises cluster.Invalid on refusal."""
    if method == "GET" and path in ("/healthz", "/livez", "/readyz"):
        return False, "ok"
    if method == "GET" and path == "/version":
        return False, {"major": "1", "gitVersion": st["config"]["version"]}
    if method == "GET" and path == "/api/v1/namespaces/kube-public/configmaps/cluster-info":
        return False, cluster_info(st)
    if method == "GET" and path == "/api/v1/namespaces/kube-system/configmaps/kubeadm-config":
        if who not in ("bootstrap", "admin") and not who.startswith("node:"):
            raise cluster.Invalid("Unauthorized", 401)
        return False, kubeadm_config_map(st)
    if method == "POST" and path == "/lab/join":
        if who != "bootstrap":
            raise cluster.Invalid("Unauthorized", 401)
        reply: dict[str, Any] = {"credential": cluster.join(st, body)}
        if body.get("controlPlane"):  # kubeadm-certs: the CA key (decrypted with the certificate key)
            reply["ca_key"] = state.read(f"{PKI}/ca.key")
            reply["store"] = st["config"]["store"]
            reply["config"] = {k: st["config"][k] for k in ("version", "imageRepository")}
        return True, reply
    if who.startswith("node:") and method == "POST" and path == "/lab/heartbeat":
        cluster.heartbeat(st, who[5:], bool(body.get("runtime", True)))
        return True, {}
    if who.startswith("node:") and method == "GET" and path == "/lab/nodeports":
        return False, workloads.node_ports(st)
    if who != "admin":
        raise cluster.Invalid(
            "Unauthorized"
            if who == "anonymous"
            else f'forbidden: User "{who}" cannot {method} path "{path}"',
            401 if who == "anonymous" else 403,
        )
    return _admin(st, method, path, query, body)


def _admin(st: dict[str, Any], method: str, path: str, query: dict[str, str], body: Any) -> tuple[bool, Any]:
    parts = path.strip("/").split("/")
    if method == "GET" and path == "/api/v1/nodes":
        return False, {
            "kind": "NodeList",
            "apiVersion": "v1",
            "items": [cluster.node_object(st, n) for n in sorted(st["nodes"])],
        }
    if method == "GET" and path == "/lab/nodeports":
        return False, workloads.node_ports(st)
    if method == "POST" and path == "/lab/untaint":
        return True, cluster.remove_taint(st, str(body["key"]))
    if method == "POST" and path == "/lab/apply":
        return True, cluster.apply(st, body["objects"], body.get("source", "STDIN"))
    if method == "GET" and parts[:2] == ["lab", "object"] and len(parts) == 5:
        return False, cluster.find(st, parts[2], "" if parts[3] == "-" else parts[3], parts[4])
    if method == "GET" and parts[:2] == ["lab", "list"] and len(parts) == 3:
        return False, cluster.listed(st, parts[2], query.get("namespace"))
    if method == "DELETE" and parts[:2] == ["lab", "namespace"] and len(parts) == 3:
        cluster.delete_namespace(st, parts[2])
        return True, {}
    if method == "GET" and path == "/lab/pods":
        return False, workloads.pods(st, query.get("namespace"))
    if method == "GET" and parts[:2] == ["lab", "deployment"] and len(parts) == 4:
        return False, workloads.deployment_status(st, parts[2], parts[3])
    if method == "POST" and path == "/lab/tokens":
        return True, {
            "token": cluster.add_token(st, float(body.get("ttl", 86400)), body.get("description", ""))
        }
    if method == "POST" and path == "/lab/upload-certs":
        return True, {"key": cluster.upload_certs(st)}
    raise cluster.Invalid(f"the server could not find the requested resource ({method} {path})", 404)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args: Any) -> None:  # quiet: the journal gets the events that matter
        return

    def _who(self, st: dict[str, Any]) -> str:
        cert = self.connection.getpeercert() if isinstance(self.connection, ssl.SSLSocket) else None
        if cert:
            subject = dict(x[0] for x in cert.get("subject", ()))
            return (
                "admin"
                if subject.get("organizationName") in ("system:masters", "kubeadm:cluster-admins")
                else f"user:{subject.get('commonName')}"
            )
        auth = self.headers.get("Authorization", "")
        if not auth.startswith("Bearer "):
            return "anonymous"
        token = auth[7:]
        if re.fullmatch(r"[a-z0-9]{6}\.[a-z0-9]{16}", token):
            return "bootstrap" if cluster.valid_token(st, token) else "anonymous"
        node = cluster.node_for_credential(st, token)
        return f"node:{node}" if node else "anonymous"

    def _forward(self, method: str, raw: bytes) -> tuple[int, str, bytes]:
        """A joined control plane's API server: same store (the first one's), its own TLS and authn."""
        cert = self.connection.getpeercert() if isinstance(self.connection, ssl.SSLSocket) else None
        admin = bool(cert) and self._who({"tokens": {}, "nodes": {}}) == "admin"
        client = kubeclient.Client(
            UPSTREAM["server"], UPSTREAM["ca"], cert=UPSTREAM["admin"] if admin else None, timeout=20
        )
        headers = {} if admin else {"Authorization": self.headers.get("Authorization", "")}
        try:
            return client.raw(method, self.path, raw or None, headers)
        except kubeclient.ApiError as exc:
            body = json.dumps({"kind": "Status", "message": f"etcdserver: request timed out ({exc})"})
            return 503, "application/json", body.encode()

    def _handle(self, method: str) -> None:
        url = urlparse(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        if UPSTREAM:
            self._reply(*self._forward(method, raw))
            return
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        with _lock:
            st = load()
            try:
                body = json.loads(raw) if raw else {}
                changed, response = route(st, method, url.path, query, body, self._who(st))
                status = 200
            except cluster.Invalid as exc:
                changed, response, status = False, {"kind": "Status", "message": str(exc)}, exc.status
            if changed:
                _save(st)
        text = response if isinstance(response, str) else json.dumps(response)
        kind = "text/plain" if isinstance(response, str) else "application/json"
        self._reply(status, kind, text.encode())

    def _reply(self, status: int, kind: str, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        self._handle("GET")

    def do_POST(self) -> None:
        self._handle("POST")

    def do_DELETE(self) -> None:
        self._handle("DELETE")


def main(args: list[str]) -> int:
    """kube-apiserver --advertise-address=IP --secure-port=PORT [--etcd-servers=URL] (runs until killed;
    the kubelet starts it from the static Pod manifest kubeadm writes).

    With --etcd-servers (a control plane that joined) the cluster store is the first control plane's:
    requests are served through it, as API servers share etcd."""
    opts = dict(a.split("=", 1) for a in args if a.startswith("--") and "=" in a)
    address, port = opts["--advertise-address"], int(opts.get("--secure-port", "6443"))
    if opts.get("--etcd-servers"):
        with (
            open(state.root(f"{PKI}/ca.crt"), "rb") as ca,
            open(state.root(f"{PKI}/admin.crt"), "rb") as crt,
            open(state.root(f"{PKI}/admin.key"), "rb") as key,
        ):
            UPSTREAM.update(server=opts["--etcd-servers"], ca=ca.read(), admin=(crt.read(), key.read()))
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(state.root(f"{PKI}/apiserver.crt"), state.root(f"{PKI}/apiserver.key"))
    context.load_verify_locations(state.root(f"{PKI}/ca.crt"))
    context.verify_mode = ssl.CERT_OPTIONAL
    server = ThreadingHTTPServer((address, port), _Handler)
    server.daemon_threads = True
    server.socket = context.wrap_socket(server.socket, server_side=True)
    print(f"kube-apiserver listening on https://{address}:{port}", file=sys.stderr, flush=True)
    server.serve_forever()
    return 0
