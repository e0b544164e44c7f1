"""Fixtures shared by the test suite; constants and helpers live in simbev_testdata.py."""
from __future__ import annotations

import pytest

from simbev import Scenario
from simbev_testdata import MOUSE_BEV, MOUSE_MTORI


@pytest.fixture(scope="session")
def mouse_bev_scenario():
    return Scenario("mouse_bev_combo", 60.0, species="mouse", treatments=(MOUSE_BEV, MOUSE_MTORI))
