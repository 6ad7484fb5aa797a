"""SIMULATION: the credentials a simulated `kubeadm init` hands out, made with real cryptography.

The CA is a real self-signed certificate (RSA 2048, like kubeadm's), so the discovery hash the
simulated init prints is exactly what `openssl x509 -pubkey | openssl rsa -pubin -outform der |
sha256` would give, and a client can recompute it from the CA certificate. Nothing here is used by
a real cluster; it only lets the engine's parsing and validation meet realistic values.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import re
import secrets
import string
from dataclasses import dataclass, field
from functools import cached_property

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

from k8stui.model.versions import ttl_seconds

TOKEN_RE = re.compile(r"\b([a-z0-9]{6}\.[a-z0-9]{16})\b")
HASH_RE = re.compile(r"sha256:([0-9a-f]{64})")
_ALPHABET = string.ascii_lowercase + string.digits
_TEN_YEARS = dt.timedelta(days=3650)
# digitalSignature, keyEncipherment, keyCertSign: what kubeadm's CA carries.
_CA_USAGE = x509.KeyUsage(True, False, True, False, False, True, False, False, False)


def new_token() -> str:
    """A bootstrap token in kubeadm's format `[a-z0-9]{6}.[a-z0-9]{16}`."""
    return f"{_random(6)}.{_random(16)}"


def _random(length: int) -> str:
    return "".join(secrets.choice(_ALPHABET) for _ in range(length))


def spki_sha256(cert_pem: bytes) -> str:
    """The kubeadm discovery hash: sha256 over the DER SubjectPublicKeyInfo of the CA certificate."""
    cert = x509.load_pem_x509_certificate(cert_pem)
    der = cert.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return hashlib.sha256(der).hexdigest()


def _name(common: str, org: str | None = None) -> x509.Name:
    attrs = [x509.NameAttribute(NameOID.COMMON_NAME, common)]
    if org:
        attrs.insert(0, x509.NameAttribute(NameOID.ORGANIZATION_NAME, org))
    return x509.Name(attrs)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


@dataclass
class SimPKI:
    """One simulated cluster's CA, bootstrap token and certificate key."""

    token: str = field(default_factory=new_token)
    certificate_key: str = field(default_factory=lambda: secrets.token_hex(32))
    _ca_key: rsa.RSAPrivateKey = field(
        default_factory=lambda: rsa.generate_private_key(public_exponent=65537, key_size=2048), repr=False
    )

    def __post_init__(self) -> None:
        self.tokens: set[str] = {self.token}  # every token kubeadm would accept (init's + created)

    def create_token(self) -> str:
        """`kubeadm token create`: a new valid token."""
        token = new_token()
        self.tokens.add(token)
        return token

    @cached_property
    def ca_cert_pem(self) -> bytes:
        now = dt.datetime.now(dt.timezone.utc)
        name = _name("kubernetes")
        cert = (
            x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(self._ca_key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5)).not_valid_after(now + _TEN_YEARS)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(_CA_USAGE, critical=True)
            .sign(self._ca_key, hashes.SHA256())
        )
        return _pem(cert)

    @cached_property
    def ca_hash_hex(self) -> str:
        return spki_sha256(self.ca_cert_pem)

    @property
    def ca_hash(self) -> str:
        """As kubeadm prints it: `sha256:<hex>`."""
        return f"sha256:{self.ca_hash_hex}"

    def token_expires(self, ttl: str, now: dt.datetime | None = None) -> str:
        """ISO 8601 UTC expiry of the bootstrap token; `never` for a TTL of 0."""
        seconds = ttl_seconds(ttl)
        if seconds <= 0:
            return "never"
        start = now or dt.datetime.now(dt.timezone.utc)
        return (start + dt.timedelta(seconds=seconds)).replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")

    @cached_property
    def _admin(self) -> tuple[bytes, bytes]:
        """A kubernetes-admin client certificate signed by the CA (EC key: cheap to make)."""
        key = ec.generate_private_key(ec.SECP256R1())
        now = dt.datetime.now(dt.timezone.utc)
        cert = (
            x509.CertificateBuilder().subject_name(_name("kubernetes-admin", "kubeadm:cluster-admins"))
            .issuer_name(_name("kubernetes")).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5)).not_valid_after(now + dt.timedelta(days=365))
            .sign(self._ca_key, hashes.SHA256())
        )
        key_pem = key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
            serialization.NoEncryption(),
        )
        return _pem(cert), key_pem

    def kubeconfig(self, server: str) -> str:
        """An admin.conf like kubeadm writes it, pointing at `https://<server>`."""
        cert, key = self._admin
        return (
            "apiVersion: v1\nclusters:\n- cluster:\n"
            f"    certificate-authority-data: {_b64(self.ca_cert_pem)}\n"
            f"    server: https://{server}\n  name: kubernetes\n"
            "contexts:\n- context:\n    cluster: kubernetes\n    user: kubernetes-admin\n"
            "  name: kubernetes-admin@kubernetes\ncurrent-context: kubernetes-admin@kubernetes\n"
            "kind: Config\npreferences: {}\nusers:\n- name: kubernetes-admin\n  user:\n"
            f"    client-certificate-data: {_b64(cert)}\n    client-key-data: {_b64(key)}\n"
        )
