"""An HTTPS client of the lab's API server (kubectl, kubeadm join, the node agent): kubeconfig parsing,
CA verification, client-certificate or bearer-token authentication."""

from __future__ import annotations

import base64
import http.client
import json
import os
import ssl
import tempfile
from typing import Any
from urllib.parse import urlparse

from . import miniyaml, state


class ApiError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


class Client:
    def __init__(
        self,
        server: str,
        ca_pem: bytes | None,
        cert: tuple[bytes, bytes] | None = None,
        token: str | None = None,
        timeout: float = 20.0,
    ) -> None:
        url = urlparse(server)
        if url.scheme != "https" or not url.hostname:
            raise ApiError(0, f"server {server!r} is not an https:// URL")
        self.server, self.host, self.port = server, url.hostname, url.port or 443
        self.token, self.timeout = token, timeout
        self.context = ssl.create_default_context()
        if ca_pem is None:  # discovery: kubeadm fetches cluster-info before it trusts anything, then pins
            self.context.check_hostname = False
            self.context.verify_mode = ssl.CERT_NONE
        else:
            self.context.load_verify_locations(cadata=ca_pem.decode())
        if cert:
            _load_cert(self.context, *cert)

    def raw(
        self, method: str, path: str, body: bytes | None = None, headers: dict[str, str] | None = None
    ) -> tuple[int, str, bytes]:
        """(status, content type, body) of one request; ApiError(0, ...) when the server cannot be reached."""
        conn = http.client.HTTPSConnection(self.host, self.port, timeout=self.timeout, context=self.context)
        sent = {"Content-Type": "application/json", "Accept": "application/json", **(headers or {})}
        if self.token:
            sent["Authorization"] = f"Bearer {self.token}"
        try:
            conn.request(method, path, body=body, headers=sent)
            response = conn.getresponse()
            return response.status, response.getheader("Content-Type", ""), response.read()
        except ssl.SSLCertVerificationError as exc:
            raise ApiError(
                0, f'Get "{self.server}{path}": tls: failed to verify certificate: {exc.verify_message}'
            ) from None
        except (OSError, http.client.HTTPException) as exc:
            reason = (
                "connection refused"
                if isinstance(exc, ConnectionRefusedError)
                else str(exc) or type(exc).__name__
            )
            raise ApiError(
                0,
                f"The connection to the server {self.host}:{self.port} was refused - did you "
                f"specify the right host or port? ({reason})",
            ) from None
        finally:
            conn.close()

    def request(self, method: str, path: str, body: Any = None) -> Any:
        status, kind, raw = self.raw(method, path, None if body is None else json.dumps(body).encode())
        data: Any = raw.decode()
        if kind.startswith("application/json"):
            data = json.loads(data)
        if status >= 400:
            message = data.get("message", data) if isinstance(data, dict) else data
            raise ApiError(status, str(message))
        return data


def _load_cert(context: ssl.SSLContext, cert: bytes, key: bytes) -> None:
    fd, path = tempfile.mkstemp(prefix="kubeclient-")
    try:
        os.write(fd, cert + b"\n" + key)
        os.close(fd)
        context.load_cert_chain(path)
    finally:
        os.unlink(path)


def load_kubeconfig(path: str) -> dict[str, Any]:
    if not os.path.exists(state.root(path)):
        state.fail(f"error: stat {path}: no such file or directory", 1)
    try:
        docs = miniyaml.load_all(state.read(path))
    except PermissionError:
        state.fail(f"error: open {path}: permission denied", 1)
    except miniyaml.YamlError as exc:
        state.fail(f'error: error loading config file "{path}": {exc}', 1)
    if len(docs) != 1 or not isinstance(docs[0], dict) or docs[0].get("kind") != "Config":
        state.fail(f'error: error loading config file "{path}": not a kubeconfig', 1)
    return docs[0]


def from_kubeconfig(path: str, timeout: float = 20.0) -> Client:
    conf = load_kubeconfig(path)
    current = conf.get("current-context")
    context = next((c["context"] for c in conf.get("contexts", []) if c.get("name") == current), None)
    if context is None:
        state.fail(f'error: current-context "{current}" not found in {path}', 1)
    cluster = next(
        (c["cluster"] for c in conf.get("clusters", []) if c.get("name") == context.get("cluster")), {}
    )
    user = next((u["user"] for u in conf.get("users", []) if u.get("name") == context.get("user")), {})
    ca = (
        base64.b64decode(cluster["certificate-authority-data"])
        if "certificate-authority-data" in cluster
        else None
    )
    if ca is None:
        state.fail(f"error: {path}: the cluster has no certificate-authority-data", 1)
    cert = None
    if "client-certificate-data" in user:
        cert = (base64.b64decode(user["client-certificate-data"]), base64.b64decode(user["client-key-data"]))
    return Client(str(cluster.get("server")), ca, cert=cert, token=user.get("token"), timeout=timeout)
