"""The two escape routes, each alone: mice on bevacizumab with one route's mechanisms removed.

Four arms on the same treated mouse (10 mg/kg twice weekly, from day 14, when the tumor is
about 700 mm^3, for eight weeks), which differ only in the knobs:

``both``
    the default model: both routes present;
``metabolic``
    the immune route's MIF lowering removed (``vegf_mif_induction = bev_mif_binding = 0``):
    only the metabolic route (lactate -> mTOR) can drive escape;
``immune``
    the lactate -> mTOR coupling removed (``lactate_mtor_coupling = 0``): only the immune route;
``neither``
    all three removed.

*Escape* is the volumetric progression criterion of :mod:`simbev.metrics`: on therapy the tumor
volume exceeds its running nadir by more than 40 % (``time_to_progression``). The regrowth
factor is the largest ratio of the volume to its running on-therapy nadir over the eight weeks.
The design asks that each route alone lets the tumor escape and that without both it does not.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

import numpy as np

from . import metrics
from ..protocol.dosing import Regimen
from ..scenario import Scenario

#: Knob settings of the four arms.
ARMS: dict[str, dict[str, float]] = {
    "both": {},
    "metabolic": {"vegf_mif_induction": 0.0, "bev_mif_binding": 0.0},
    "immune": {"lactate_mtor_coupling": 0.0},
    "neither": {"vegf_mif_induction": 0.0, "bev_mif_binding": 0.0, "lactate_mtor_coupling": 0.0},
}

ARM_LABELS = {
    "both": "both routes (default)",
    "metabolic": "metabolic route only (vegf_mif_induction = bev_mif_binding = 0)",
    "immune": "immune route only (lactate_mtor_coupling = 0)",
    "neither": "neither route (all three removed)",
}

START_DAY = 14.0
THERAPY_DAYS = 56.0
DOSE_MG_PER_KG = 10.0
EVERY_DAYS = 3.5


def bevacizumab(dose_mg_per_kg: float = DOSE_MG_PER_KG, start_day: float = START_DAY,
                every_days: float = EVERY_DAYS) -> Regimen:
    """The mouse bevacizumab regimen of the route arms (intravenous bolus, repeated)."""
    return Regimen("bevacizumab", (dose_mg_per_kg, "mg/kg"), "iv_bolus", start_day=start_day,
                   every_days=every_days)


def scenario(arm: str, parameters: Mapping[str, float] | None = None, treated: bool = True,
             output_every_days: float = 0.25) -> Scenario:
    """The mouse scenario of ``arm`` (a key of :data:`ARMS`), treated or untreated."""
    return Scenario(f"routes:{arm}:{'bev' if treated else 'none'}", START_DAY + THERAPY_DAYS, species="mouse",
                    output_every_days=output_every_days, parameters={**dict(parameters or {}), **ARMS[arm]},
                    treatments=(bevacizumab(),) if treated else ())


def regrowth_factor(result) -> float:
    """Largest ratio of the tumor volume to its running on-therapy nadir (1 if it never regrows)."""
    t = np.asarray(result.time)
    v = np.asarray(result["tumor_volume"])[t >= metrics.reference_start(result)]
    return float(np.max(v / np.minimum.accumulate(v)))


@dataclass(frozen=True)
class RouteOutcome:
    """What one treated arm did over its eight weeks on therapy."""

    arm: str
    volume_at_start_mm3: float
    nadir_mm3: float
    day_of_nadir: float
    regrowth_factor: float
    time_to_progression_days: float | None
    final_mm3: float

    @property
    def escaped(self) -> bool:
        return self.time_to_progression_days is not None


def outcome(arm: str, result) -> RouteOutcome:
    """Summarise a treated arm's result."""
    return RouteOutcome(arm, metrics.value_at(result, "tumor_volume", START_DAY), metrics.min_tumor_volume(result),
                        metrics.day_of_min(result), regrowth_factor(result),
                        metrics.time_to_progression(result), metrics.final_tumor_volume(result))


def run_arms(parameters: Mapping[str, float] | None = None, arms=tuple(ARMS), simulate=None) -> dict:
    """``{arm: (treated result, RouteOutcome)}`` for the given arms.

    ``simulate`` is the simulation function (default :func:`simbev.simulate`, the reference solver)."""
    if simulate is None:
        from ..solvers.base import simulate
    out = {}
    for arm in arms:
        result = simulate(scenario(arm, parameters))
        out[arm] = (result, outcome(arm, result))
    return out
