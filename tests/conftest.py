"""Shared helpers for the test suite."""
from __future__ import annotations

import numpy as np
import pytest

import simbev
from simbev import DoseEvent, Regimen, Scenario
from simbev.dosing import mg_to_nmol

MOUSE_BEV = Regimen("bevacizumab", (10.0, "mg/kg"), "iv_bolus", start_day=7, every_days=3.5, stop_day=60)
MOUSE_MTORI = Regimen("mtor_inhibitor", (2.0, "mg/kg"), "oral", start_day=7, every_days=1, stop_day=60)
HUMAN_BEV = Regimen("bevacizumab", (10.0, "mg/kg"), "iv_infusion", start_day=0, every_days=14, doses=8,
                    infusion_hours=1.5)


def random_parameters(species: str, rng: np.random.Generator, spread: float | None = None) -> dict:
    """Draw every kinetic parameter log-uniformly: within its plausible range, or within
    ``[v / (1 + spread), v * (1 + spread)]`` of its default when ``spread`` is given.
    Knobs, molecular weights and the body weight are left at their defaults."""
    pset = simbev.load_parameter_set(species)
    out = {}
    skip = set(simbev.model.KNOBS) | {"bev_molecular_weight", "mtori_molecular_weight", "body_weight"}
    for name, rec in pset.records.items():
        if name in skip or rec.value == 0:
            continue
        if spread is None:
            lo, hi = max(rec.low, 1e-12), rec.high
            if not (lo < hi):
                continue
        else:
            lo, hi = rec.value / (1 + spread), rec.value * (1 + spread)
        out[name] = float(np.exp(rng.uniform(np.log(lo), np.log(hi))))
    return out


@pytest.fixture(scope="session")
def mouse_bev_scenario():
    return Scenario("mouse_bev_combo", 60.0, species="mouse", treatments=(MOUSE_BEV, MOUSE_MTORI))
