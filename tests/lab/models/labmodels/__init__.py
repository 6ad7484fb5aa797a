"""Strict, stateful models of the system tools a kubeadm install drives (see tests/lab/README.md)."""
