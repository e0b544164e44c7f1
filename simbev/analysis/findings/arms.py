"""Settings, arms and the humane end point of the finding checks (:mod:`simbev.analysis.findings`).

A :class:`Setting` is a species with a bevacizumab schedule and a companion mTOR-inhibitor
regimen; :class:`Arms` runs each arm of a setting once, on demand, with parameter overrides and
the knobs of a negative control. The readouts here are plain functions of a result.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Mapping

import numpy as np

from .. import metrics
from ...model.states import STATE_NAMES
from ...protocol.dosing import Regimen
from ...scenario.core import Scenario
from ...solvers import compiled as fast

#: none (see :func:`humane_end_point_mm3`): about 1.5 g of tumor, 7.5 % of a 20 g mouse, inside
#: the 5-10 % of body weight (about 1.6 cm diameter for a 20 g mouse) at which institutional
#: policies end subcutaneous tumor studies (Wayne State University IACUC SOP "Monitoring tumor
#: growth in rodents"; University of Washington OAW "Limitations on tumor size": 10 % of body
#: weight or a 20 mm mean diameter), and the ~1.5-2 cm^3 at which xenograft studies end.
MOUSE_HUMANE_END_POINT_MM3 = 1500.0

#: The parameter holding the end point, where the parameter set defines it.
ENDPOINT_PARAMETER = "endpoint_tumor_volume"

#: First bevacizumab dose of the route experiment (R1-R3), day: a ~700 mm^3 mouse tumor, as in the
#: route experiment of experiments/e05_routes.py (the issue's review protocol).
ROUTE_START_DAY = 14.0

#: Eight weeks of therapy: the horizon within which the route-sufficiency checks look for escape.
ESCAPE_HORIZON_DAYS = 56.0


@dataclass(frozen=True)
class Setting:
    """A species with a bevacizumab schedule and a companion mTOR-inhibitor regimen."""

    name: str
    species: str
    bevacizumab: Regimen
    mtor_inhibitor: Regimen
    duration_days: float
    output_every_days: float = 0.5
    #: When the untreated MIF-perturbation finding (C4) is read, days after ``start``: about
    #: four macrophage half-lives (3.5 days in mice, 35 days in patients), so that the
    #: macrophage populations have responded to the perturbation.
    macrophage_days: float = 14.0
    #: How long after ``start`` the on-therapy findings (A5, A6) are read at the latest: eight
    #: weeks of therapy in mice (the span of a xenograft experiment), the whole clinical horizon
    #: in patients.
    followup_days: float = 56.0

    @property
    def start(self) -> float:
        return self.bevacizumab.start_day


SETTINGS: dict[str, Setting] = {
    # the mouse runs cover eight weeks of therapy (day 7 to 63) for the route-sufficiency checks
    "mouse_10mgkg_twice_weekly": Setting(
        "mouse_10mgkg_twice_weekly", "mouse",
        Regimen("bevacizumab", (10.0, "mg/kg"), "iv_bolus", start_day=7, every_days=3.5, stop_day=63),
        Regimen("mtor_inhibitor", (2.0, "mg/kg"), "oral", start_day=7, every_days=1, stop_day=63),
        63.0),
    "mouse_5mgkg_weekly": Setting(
        "mouse_5mgkg_weekly", "mouse",
        Regimen("bevacizumab", (5.0, "mg/kg"), "iv_bolus", start_day=7, every_days=7, stop_day=63),
        Regimen("mtor_inhibitor", (2.0, "mg/kg"), "oral", start_day=7, every_days=1, stop_day=63),
        63.0),
    "human_10mgkg_q2w": Setting(
        "human_10mgkg_q2w", "human",
        Regimen("bevacizumab", (10.0, "mg/kg"), "iv_infusion", start_day=0, every_days=14, stop_day=365,
                infusion_hours=1.5),
        Regimen("mtor_inhibitor", (10.0, "mg"), "oral", start_day=0, every_days=1, stop_day=365),
        365.0, 1.0, macrophage_days=140.0, followup_days=365.0),
}


# --- perturbed parameter sets -------------------------------------------------------------------

#: Parameters never perturbed in robustness samples: the experimental knobs (their meaning is
#: fixed), molecular weights and the body weight (known exactly for a given animal or patient),
#: and the end point (a rule of the experiment, not biology).
FIXED = frozenset({"mif_expression", "vegf_mif_induction", "bev_mif_binding", "lactate_mtor_coupling",
                   "glut2_induction", "bev_molecular_weight", "mtori_molecular_weight", "body_weight",
                   ENDPOINT_PARAMETER})


def perturbed_parameters(species: str, rng: np.random.Generator, spread: float = 0.2) -> dict[str, float]:
    """Every kinetic parameter drawn log-uniformly within ``[v / (1 + spread), v (1 + spread)]``
    of its default ``v`` (parameters that are 0, and those in :data:`FIXED`, are left alone)."""
    from ...parameters.parameter_set import load_parameter_set
    out = {}
    for name, rec in load_parameter_set(species).records.items():
        if name in FIXED or rec.value == 0:
            continue
        lo, hi = np.log(rec.value / (1 + spread)), np.log(rec.value * (1 + spread))
        out[name] = float(np.exp(rng.uniform(lo, hi)))
    return out


def humane_end_point_mm3(species: str, parameters: Mapping[str, float] | None = None) -> float | None:
    """Tumor volume (mm^3) at which a mouse arm stops being read (the humane end point); ``None``
    for patients, whose arms are read over the clinical horizon (their lethal tumor burden is an
    assumed modelling convention, reported beside the findings, not a reason to stop reading).
    The mouse parameter set's ``endpoint_tumor_volume`` if it has one (overridable like any
    parameter), otherwise :data:`MOUSE_HUMANE_END_POINT_MM3`."""
    if species != "mouse":
        return None
    from ...parameters import load_parameter_set
    pset = load_parameter_set(species)
    if ENDPOINT_PARAMETER in pset:
        return float((parameters or {}).get(ENDPOINT_PARAMETER, pset[ENDPOINT_PARAMETER]))
    return MOUSE_HUMANE_END_POINT_MM3


# --- quantities derived from a result ----------------------------------------------------------

def _at(result, name, day):
    return float(np.interp(day, result.time, result[name]))


def _density(result, name, day):
    """Cells of ``name`` per tumor volume (1e6 cells/mm^3) at ``day``."""
    return _at(result, name, day) / _at(result, "tumor_volume", day)


def m1_fraction(result, day):
    m1, m2 = _at(result, "macrophage_m1", day), _at(result, "macrophage_m2", day)
    return m1 / (m1 + m2)


def growth_rates(result, window=7.0):
    """(times, log growth rate per day over the trailing ``window``)."""
    t, v = result.time, np.log(result["tumor_volume"])
    shifted = np.interp(t - window, t, v)
    ok = t - window >= t[0]
    return t[ok], (v[ok] - shifted[ok]) / window


def time_of_volume(result, volume):
    """First time the tumor reaches ``volume``; None if never."""
    v = result["tumor_volume"]
    above = np.nonzero(v >= volume)[0]
    if above.size == 0:
        return None
    i = int(above[0])
    if i == 0:
        return float(result.time[0])
    return float(np.interp(volume, [v[i - 1], v[i]], [result.time[i - 1], result.time[i]]))


# --- the arms ---------------------------------------------------------------------------------

class Arms:
    """Runs each arm once, on demand, for a setting and parameter overrides.

    ``knobs`` are overrides applied to every arm requested (a negative control removes its
    mechanism in all the arms it compares), on top of ``parameters``.
    """

    def __init__(self, setting: Setting, parameters: Mapping[str, float] | None = None,
                 _cache: dict | None = None, knobs: Mapping[str, float] | None = None):
        self.setting = setting
        self.parameters = dict(parameters or {})
        self.knobs = dict(knobs or {})
        self._cache: dict = {} if _cache is None else _cache
        self.end_point = humane_end_point_mm3(setting.species, self.parameters)

    def without(self, knobs: Mapping[str, float]) -> "Arms":
        """The same arms with ``knobs`` applied everywhere (runs shared through one cache)."""
        return Arms(self.setting, self.parameters, self._cache, {**self.knobs, **knobs})

    def get(self, treatments: str, **overrides) -> "simbev.result.Result":  # noqa: F821
        merged = {**self.knobs, **overrides}
        key = (treatments, tuple(sorted(merged.items())))
        if key not in self._cache:
            s = self.setting
            regimens = {"none": (), "bev": (s.bevacizumab,), "mtori": (s.mtor_inhibitor,),
                        "combo": (s.bevacizumab, s.mtor_inhibitor)}[treatments]
            scenario = Scenario(f"{s.name}:{treatments}", s.duration_days, species=s.species,
                                output_every_days=s.output_every_days, treatments=regimens)
            # the compiled path (agrees with simbev.simulate to ~1e-5; falls back to it without numba)
            self._cache[key] = fast.simulate(scenario, parameters={**self.parameters, **merged})
        return self._cache[key]

    def fixed_macrophages(self, m2_share: float, **overrides):
        """Untreated arm whose macrophages stay polarised with ``m2_share`` M2 (no switching,
        no M2 proliferation, recruits polarised in that share; the total follows recruitment and
        death alone, so it is the same for every share)."""
        from ...parameters import load_parameter_set
        merged = {**self.knobs, **overrides}
        key = ("fixed", m2_share, tuple(sorted(merged.items())))
        if key not in self._cache:
            s = self.setting
            y0 = load_parameter_set(s.species).with_values({**self.parameters, **merged}).initial_state()
            total = float(y0[STATE_NAMES.index("macrophage_m1")] + y0[STATE_NAMES.index("macrophage_m2")])
            frozen = {"macrophage_m1_to_m2_rate": 0.0, "macrophage_m2_to_m1_rate": 0.0,
                      "mif_repolarization_rate": 0.0, "macrophage_m2_proliferation_rate": 0.0,
                      "macrophage_m2_fraction_basal": m2_share, "macrophage_m2_fraction_mif": m2_share}
            scenario = Scenario(f"{s.name}:macrophages {m2_share:g} M2", s.duration_days, species=s.species,
                                output_every_days=s.output_every_days,
                                initial_conditions={"macrophage_m1": (1 - m2_share) * total,
                                                    "macrophage_m2": m2_share * total})
            self._cache[key] = fast.simulate(scenario, parameters={**self.parameters, **merged, **frozen})
        return self._cache[key]

    def route_arm(self, start_day: float | None = None, **overrides):
        """The setting's bevacizumab schedule given from ``start_day`` (default: the route
        experiment's, :data:`ROUTE_START_DAY`, a ~700 mm^3 mouse tumor) for eight weeks
        (:data:`ESCAPE_HORIZON_DAYS`), as in experiments/e05_routes.py."""
        start = ROUTE_START_DAY if start_day is None else float(start_day)
        merged = {**self.knobs, **overrides}
        key = ("route", start, tuple(sorted(merged.items())))
        if key not in self._cache:
            s = self.setting
            regimen = dataclasses.replace(s.bevacizumab, start_day=start, stop_day=start + ESCAPE_HORIZON_DAYS)
            scenario = Scenario(f"{s.name}:routes from day {start:g}", start + ESCAPE_HORIZON_DAYS, species=s.species,
                                output_every_days=s.output_every_days, treatments=(regimen,))
            self._cache[key] = fast.simulate(scenario, parameters={**self.parameters, **merged})
        return self._cache[key]

    # -- the humane end point --
    def readable_until(self, result) -> float:
        """Last day ``result`` is read: when its tumor reaches the humane end point, or the end."""
        end = float(result.time[-1])
        if self.end_point is None:
            return end
        t = time_of_volume(result, self.end_point)
        return end if t is None else min(t, end)

    def read_day(self, day: float, *results) -> float:
        """``day``, or earlier if one of ``results`` reaches the humane end point before it."""
        return float(min([day] + [self.readable_until(r) for r in results]))


def resistant_sample(result, until: float | None = None) -> tuple[float, bool]:
    """Day at which the treated tumor is sampled as resistant, and whether it escaped (progressed
    no later than ``until``)."""
    until = float(result.time[-1]) if until is None else until
    ttp = metrics.time_to_progression(result)
    if ttp is None or metrics.reference_start(result) + ttp > until:
        return until, False
    return metrics.reference_start(result) + ttp, True


