"""Shared fixtures. Real-sshd fixtures live in tests/sshd.py (importable as `sshd` from tests)."""

from sshd import ssh_agent, ssh_lab

__all__ = ["ssh_agent", "ssh_lab"]
