"""Shared constants and helpers of the test suite (imported as ``from simbev_testdata import ...``;
a plain module, not ``conftest``, because tests/sweep has a conftest of its own and two modules
named ``conftest`` clash when a subset of the suite is collected in another order)."""
from __future__ import annotations

import numpy as np

import simbev
from simbev import Regimen

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
