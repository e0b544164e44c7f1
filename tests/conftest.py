"""Fixtures shared by the test suite; constants and helpers live in simbev_testdata.py."""
from __future__ import annotations

import pytest

from simbev import Scenario
from simbev_testdata import MOUSE_BEV, MOUSE_MTORI

KINDS = ("unit", "invariants", "regression", "findings", "sweep", "cli")


def pytest_collection_modifyitems(items):
    """Mark each test with its kind, the folder it lives in (``pytest -m findings``)."""
    for item in items:
        for part in item.path.parts:
            if part in KINDS:
                item.add_marker(getattr(pytest.mark, part))
                break


@pytest.fixture(scope="session")
def mouse_bev_scenario():
    return Scenario("mouse_bev_combo", 60.0, species="mouse", treatments=(MOUSE_BEV, MOUSE_MTORI))
