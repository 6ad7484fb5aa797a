"""Errors of the SSH layer: each carries one human `message` that says what happened and what to do."""

from __future__ import annotations

from typing import Literal

HostKeyReason = Literal["unknown", "changed"]


class SSHError(Exception):
    """Anything that stopped us from talking to a node; `message` is shown to the operator as is."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class HostKeyError(SSHError):
    """The node's host key is not trusted: unknown under `strict`, or changed (refused under every policy)."""

    def __init__(self, host: str, key_type: str, fingerprint: str, reason: HostKeyReason,
                 known_hosts: str = "~/.ssh/known_hosts", port: int = 22) -> None:
        self.host = host
        self.key_type = key_type
        self.fingerprint = fingerprint
        self.reason = reason
        self.known_hosts = known_hosts
        self.port = port
        super().__init__(self._describe())

    def _describe(self) -> str:
        name = self.host if self.port == 22 else f"[{self.host}]:{self.port}"
        offered = f"{self.key_type} key {self.fingerprint}"
        if self.reason == "changed":
            return (
                f"HOST KEY CHANGED for {name}: it now offers {offered}, which does not match "
                f"{self.known_hosts}. Someone may be intercepting the connection, or the host was "
                f"reinstalled. Verify the fingerprint out of band; if it is right, remove the old entry "
                f"with `ssh-keygen -R '{name}' -f {self.known_hosts}` and connect again."
            )
        keyscan = f"ssh-keyscan -p {self.port} {self.host}" if self.port != 22 else f"ssh-keyscan {self.host}"
        return (
            f"unknown host key for {name}: {offered} is not in {self.known_hosts}. "
            f"Check the fingerprint, then either set `hostKeyPolicy: accept-new` in the cluster file, "
            f"or add it with `{keyscan} >> {self.known_hosts}` (or ssh to the host once and accept it)."
        )


class AuthError(SSHError):
    """The node refused every credential we offered."""


class SudoError(SSHError):
    """sudo refused to run our command (needs a password, wrong password, or requiretty)."""


class StepTimeout(SSHError):
    """A script or command ran past its timeout; its remote process group was killed."""


class ConnectionLost(SSHError):
    """The connection dropped and one reconnect did not bring it back (or it dropped mid-command)."""
