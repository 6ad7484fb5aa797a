"""SIMULATION: in-process simulated nodes for tests, `k8stui demo` and benchmarks.

An asyncssh server set plays N machines on loopback addresses; each node stores the step scripts it
is sent and *pretends* to run them (realistic output, markers, per-node applied state, injectable
faults). Nothing is installed and no real machine is involved. Entry point: `SimCluster.start`.
"""

from k8stui.sim.cluster import SimCluster, node_address
from k8stui.sim.node import Fault, SimNode

__all__ = ["Fault", "SimCluster", "SimNode", "node_address"]
