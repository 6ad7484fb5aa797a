"""The cluster's PKI made with the real openssl: CA, API server serving certificate, admin client
certificate; the CA public key pin (sha256 of the DER SubjectPublicKeyInfo) and kubeconfig files."""

from __future__ import annotations

import base64
import hashlib
import os
import subprocess
import tempfile

from . import state

PKI = "/etc/kubernetes/pki"


def _openssl(*args: str, stdin: bytes | None = None) -> bytes:
    done = subprocess.run(["openssl", *args], input=stdin, capture_output=True, timeout=60)
    if done.returncode != 0:
        state.fail(f"openssl {args[0]}: {done.stderr.decode(errors='replace').strip()}", 1)
    return done.stdout


def make_ca(cluster: str = "kubernetes") -> None:
    folder = state.root(PKI)
    os.makedirs(folder, exist_ok=True)
    _openssl(
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-days",
        "3650",
        "-subj",
        f"/CN={cluster}",
        "-keyout",
        f"{folder}/ca.key",
        "-out",
        f"{folder}/ca.crt",
        "-addext",
        "basicConstraints=critical,CA:TRUE",
        "-addext",
        "keyUsage=critical,keyCertSign,cRLSign",
    )
    os.chmod(f"{folder}/ca.key", 0o600)


def issue(name: str, subject: str, sans: list[str] | None = None, client: bool = False) -> None:
    """A key and certificate in PKI signed by the CA (serving when `sans`, else a client cert)."""
    folder = state.root(PKI)
    with tempfile.TemporaryDirectory() as tmp:
        ext = os.path.join(tmp, "ext.cnf")
        usage = "clientAuth" if client else "serverAuth"
        lines = ["keyUsage=critical,digitalSignature,keyEncipherment", f"extendedKeyUsage={usage}"]
        if sans:
            lines.append("subjectAltName=" + ",".join(("IP:" if _is_ip(s) else "DNS:") + s for s in sans))
        with open(ext, "w") as f:
            f.write("\n".join(lines) + "\n")
        csr = os.path.join(tmp, "req.csr")
        _openssl(
            "req",
            "-new",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-subj",
            subject,
            "-keyout",
            f"{folder}/{name}.key",
            "-out",
            csr,
        )
        _openssl(
            "x509",
            "-req",
            "-in",
            csr,
            "-CA",
            f"{folder}/ca.crt",
            "-CAkey",
            f"{folder}/ca.key",
            "-CAcreateserial",
            "-days",
            "365",
            "-extfile",
            ext,
            "-out",
            f"{folder}/{name}.crt",
        )
    os.chmod(f"{folder}/{name}.key", 0o600)


def _is_ip(text: str) -> bool:
    return all(part.isdigit() for part in text.split(".")) and text.count(".") == 3


def spki_hash(ca_pem: bytes) -> str:
    """`sha256:<hex>` of the CA's DER SubjectPublicKeyInfo, as --discovery-token-ca-cert-hash pins it."""
    pub = _openssl("x509", "-pubkey", "-noout", stdin=ca_pem)
    der = _openssl("pkey", "-pubin", "-outform", "der", stdin=pub)
    return "sha256:" + hashlib.sha256(der).hexdigest()


def b64(path: str) -> str:
    with open(state.root(path), "rb") as f:
        return base64.b64encode(f.read()).decode()


def kubeconfig(
    server: str, user: str, cert: str | None = None, token: str | None = None, cluster: str = "kubernetes"
) -> str:
    """A kubeconfig (the layout kubeadm writes) with the CA embedded and client cert or token."""
    auth = (
        (
            f"    client-certificate-data: {b64(f'{PKI}/{cert}.crt')}\n"
            f"    client-key-data: {b64(f'{PKI}/{cert}.key')}\n"
        )
        if cert
        else f"    token: {token}\n"
    )
    return (
        f"apiVersion: v1\nclusters:\n- cluster:\n    certificate-authority-data: {b64(f'{PKI}/ca.crt')}\n"
        f"    server: {server}\n  name: {cluster}\ncontexts:\n- context:\n    cluster: {cluster}\n"
        f"    user: {user}\n  name: {user}@{cluster}\ncurrent-context: {user}@{cluster}\nkind: Config\n"
        f"preferences: {{}}\nusers:\n- name: {user}\n  user:\n{auth}"
    )


def ca_hash() -> str:
    with open(state.root(f"{PKI}/ca.crt"), "rb") as f:
        return spki_hash(f.read())
