"""Entry point of every lab model on a node: `/usr/bin/apt-get ARGS` runs `model.py /usr/bin/apt-get ARGS`.

Installed as /usr/local/lib/k8slab/model.py on each node; the wrappers on the node's PATH call it with
their own path, so one Python file serves every tool (see labmodels/registry.py for the table).
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from labmodels.registry import main

if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2:]))
