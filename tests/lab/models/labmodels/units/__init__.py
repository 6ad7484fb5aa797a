"""Start hooks of units whose daemons can refuse to start (see systemd.py)."""
