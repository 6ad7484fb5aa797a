"""Lines of fields in the file, so each problem can point at the line to edit."""

from __future__ import annotations

from k8stui.model.locate import line_of, locate, with_line
from k8stui.model.problems import Problem

TEXT = """\
name: lab
kubernetes:
  version: "1.35"
nodes:
  - name: a
    address: 10.0.0.1
  - name: b
    ssh: {port: 22}
"""


def test_every_key_and_item_has_a_line() -> None:
    lines = locate(TEXT)
    assert lines["name"] == 1 and lines["kubernetes.version"] == 3
    assert lines["nodes[1]"] == 7 and lines["nodes[1].ssh.port"] == 8


def test_missing_key_points_at_its_parent() -> None:
    assert line_of(locate(TEXT), "nodes[1].address") == 7
    assert line_of(locate(TEXT), "network.podSubnet") is None


def test_with_line() -> None:
    lines = locate(TEXT)
    assert with_line(Problem("nodes[0].address", "bad"), lines) == "nodes[0].address: bad (line 6)"
    assert with_line(Problem("", "empty"), lines) == "empty"


def test_broken_or_recursive_yaml() -> None:
    assert locate("a: [") == {}
    assert locate("a: &x [*x]") == {"a": 1, "a[0]": 1}
