"""The lab: real OpenSSH nodes in Linux namespaces with strict models of the system tools (README.md)."""
