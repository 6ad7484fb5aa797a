"""Fixtures for lab tests: `lab(*distros)` starts (or reuses, within the module) a lab of those distros.

Every lab a module starts is torn down at the module's end, also after failures; a crashed run's
leftovers are removed when the next lab starts. Tests here are marked `lab` and skip without root.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from .lab import Lab, missing_requirements

LabFactory = Callable[..., Lab]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        offline = getattr(getattr(item, "module", None), "OFFLINE", False)  # pure model logic, no root
        if "tests/lab/" in str(item.path).replace("\\", "/") and not offline:
            item.add_marker(pytest.mark.lab)


@pytest.fixture(scope="module")
def lab() -> Iterator[LabFactory]:
    """`lab("centos-7", "ubuntu-22.04")`: a running lab; the same distros again return the same lab
    unless `fresh=True`. Keyword arguments go to `Lab` (e.g. duplicate_uuid=True)."""
    problem = missing_requirements()
    if problem:
        pytest.skip(problem)
    labs: dict[tuple[object, ...], Lab] = {}
    started: list[Lab] = []

    def make(*distros: str, fresh: bool = False, **options: object) -> Lab:
        key = (*distros, *sorted(options.items()))
        if fresh or key not in labs:
            new = Lab(list(distros), **options)  # type: ignore[arg-type]
            started.append(new)
            new.up()
            labs[key] = new
        return labs[key]

    yield make
    errors = []
    for one in started:
        try:
            one.down()
        except Exception as exc:  # tear every lab down even when one fails to
            errors.append(exc)
    if errors:
        raise errors[0]
