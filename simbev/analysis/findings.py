"""The published findings of MODEL.md as checks that run the model.

Each check compares simulated arms and returns a :class:`Check`: what was compared, the
numbers measured, the criterion (direction and a minimum effect size) and whether it holds.
Nothing is typed in: a finding that the model does not reproduce comes back with
``holds=False``.

Definitions
-----------
*Resistant tumour*: a tumour sampled after it has escaped bevacizumab, i.e. at the first
output time at which its volume exceeds its running on-treatment nadir by 40 % (the
volumetric progression criterion of :mod:`simbev.metrics`), or at the end of the run if it
never does (then ``escaped`` is False and C1-C3 are judged on that last sample).

*Comparator*: an untreated tumour **of the same volume** (the untreated run interpolated at
the time it had the resistant tumour's volume). Castro et al. compared resistant with naive
xenografts harvested at similar sizes; hypoxia, lactate and macrophage density all depend on
tumour size in the model, so equal volume is the fair comparison for C1-C3. The same-time
comparison is reported alongside. Findings about the course of therapy (A2-A4, C7, C8) are
compared at the same time, 14 days after the first dose ("early") and at the end.

Intensive quantities are used throughout: MIF concentration, macrophages per tumour volume,
M2:M1 ratio, hypoxic fraction.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Mapping

import numpy as np

from ..analysis import metrics
from ..protocol.dosing import Regimen
from ..model.ratelaws import saturation
from ..scenario.core import Scenario
from ..solvers import compiled as fast


@dataclass(frozen=True)
class Setting:
    """A species with a bevacizumab schedule and a companion mTOR-inhibitor regimen."""

    name: str
    species: str
    bevacizumab: Regimen
    mtor_inhibitor: Regimen
    duration_days: float
    output_every_days: float = 0.5
    #: When the untreated MIF-perturbation findings (C4, C6) are read, days after ``start``:
    #: about four macrophage half-lives (3.5 days in mice, 35 days in patients), so that the
    #: macrophage populations have responded to the perturbation.
    macrophage_days: float = 14.0

    @property
    def start(self) -> float:
        return self.bevacizumab.start_day


SETTINGS: dict[str, Setting] = {
    "mouse_10mgkg_twice_weekly": Setting(
        "mouse_10mgkg_twice_weekly", "mouse",
        Regimen("bevacizumab", (10.0, "mg/kg"), "iv_bolus", start_day=7, every_days=3.5, stop_day=60),
        Regimen("mtor_inhibitor", (2.0, "mg/kg"), "oral", start_day=7, every_days=1, stop_day=60),
        60.0),
    "mouse_5mgkg_weekly": Setting(
        "mouse_5mgkg_weekly", "mouse",
        Regimen("bevacizumab", (5.0, "mg/kg"), "iv_bolus", start_day=7, every_days=7, stop_day=60),
        Regimen("mtor_inhibitor", (2.0, "mg/kg"), "oral", start_day=7, every_days=1, stop_day=60),
        60.0),
    "human_10mgkg_q2w": Setting(
        "human_10mgkg_q2w", "human",
        Regimen("bevacizumab", (10.0, "mg/kg"), "iv_infusion", start_day=0, every_days=14, stop_day=365,
                infusion_hours=1.5),
        Regimen("mtor_inhibitor", (10.0, "mg"), "oral", start_day=0, every_days=1, stop_day=365),
        365.0, 1.0, macrophage_days=140.0),
}


@dataclass
class Check:
    """The outcome of one finding's check."""

    id: str
    finding: str
    comparison: str
    criterion: str
    measured: dict
    holds: bool

    def as_row(self) -> dict:
        return {"id": self.id, "finding": self.finding, "comparison": self.comparison,
                "criterion": self.criterion, "measured": self.measured, "holds": self.holds}


FINDINGS: dict[str, str] = {
    "C1": "bevacizumab-resistant tumours carry more tumour-associated macrophages than naive ones",
    "C2": "bevacizumab-resistant tumours have less MIF than naive ones",
    "C3": "bevacizumab-resistant tumours carry more M2 macrophages, a higher M2:M1 ratio",
    "C4": "MIF knockdown tumours grow faster, with more angiogenesis and more, more proliferative, M2",
    "C5": "raising MIF in bevacizumab-resistant tumours gives fewer M2 macrophages and slower growth",
    "C6": "MIF drives M1 polarisation; with MIF absent, polarisation tips to M2",
    "C7": "bevacizumab binding MIF lowers free MIF and M1 polarisation, even with VEGF->MIF induction removed",
    "C8": "VEGF depletion lowers MIF production, even with bevacizumab-MIF binding removed",
    "C9": "M2 macrophages raise tumour proliferation",
    "A1": "anti-VEGF therapy gives a real but transitory response: shrinkage or slowing, then regrowth",
    "A1w": "(supplementary, stricter reading of A1) the response wanes: growth on therapy accelerates again",
    "A2": "under anti-VEGF therapy the hypoxic fraction rises",
    "A3": "hypoxic cells import glucose and export lactate: tumour lactate rises under therapy",
    "A4": "normoxic cells import lactate and raise mTOR activity under therapy",
    "A5": "removing lactate->mTOR coupling removes the metabolic part of the escape",
    "A6": "anti-VEGF plus mTOR inhibitor controls the tumour better than either alone",
    "A7": "mTOR inhibition raises GLUT2",
}


# --- perturbed parameter sets -------------------------------------------------------------------

#: Parameters never perturbed in robustness samples: the experimental knobs (their meaning is
#: fixed), molecular weights and the body weight (known exactly for a given animal or patient).
FIXED = frozenset({"mif_expression", "vegf_mif_induction", "bev_mif_binding", "lactate_mtor_coupling",
                   "glut2_induction", "bev_molecular_weight", "mtori_molecular_weight", "body_weight"})


def perturbed_parameters(species: str, rng: np.random.Generator, spread: float = 0.2) -> dict[str, float]:
    """Every kinetic parameter drawn log-uniformly within ``[v / (1 + spread), v (1 + spread)]``
    of its default ``v`` (parameters that are 0, and those in :data:`FIXED`, are left alone)."""
    from ..parameters.parameter_set import load_parameter_set
    out = {}
    for name, rec in load_parameter_set(species).records.items():
        if name in FIXED or rec.value == 0:
            continue
        lo, hi = np.log(rec.value / (1 + spread)), np.log(rec.value * (1 + spread))
        out[name] = float(np.exp(rng.uniform(lo, hi)))
    return out


# --- quantities derived from a result ----------------------------------------------------------

def _at(result, name, day):
    return float(np.interp(day, result.time, result[name]))


def _density(result, name, day):
    """Cells of ``name`` per tumour volume (1e6 cells/mm^3) at ``day``."""
    return _at(result, name, day) / _at(result, "tumor_volume", day)


def m1_fraction(result, day):
    m1, m2 = _at(result, "macrophage_m1", day), _at(result, "macrophage_m2", day)
    return m1 / (m1 + m2)


def mif_production(result, day):
    """MIF secretion rate (nM/day) at ``day``: ``p_F * mif_expression * (1 + induction * S_R2)``."""
    p = result.parameters
    induction = 1.0 + p["vegf_mif_induction"] * p["mif_vegf_induction_max"] * saturation(
        _at(result, "vegf", day), p["vegfr2_mif_ec50"])
    return p["mif_secretion_rate"] * p["mif_expression"] * induction


def m2_proliferation(result, day):
    """Per-cell M2 proliferation rate (1/day) at ``day``: ``r_M2 (1 - S_F) crowd``."""
    p = result.parameters
    s_f = saturation(_at(result, "mif", day), p["mif_m1_ec50"])
    cells = _at(result, "tumor_volume", day) * p["tumor_cell_density"]
    crowd = 1.0 - _at(result, "macrophage_total", day) / (p["macrophage_capacity"] * cells)
    return p["macrophage_m2_proliferation_rate"] * (1.0 - s_f) * crowd


def lactate_import(result, day):
    """Lactate import per normoxic cell, relative units: ``mct1 * L / (Km_MCT1 + L)``."""
    p = result.parameters
    return _at(result, "mct1_expression", day) * saturation(_at(result, "lactate", day), p["mct1_km"])


def growth_rates(result, window=7.0):
    """(times, log growth rate per day over the trailing ``window``)."""
    t, v = result.time, np.log(result["tumor_volume"])
    shifted = np.interp(t - window, t, v)
    ok = t - window >= t[0]
    return t[ok], (v[ok] - shifted[ok]) / window


def resistant_sample(result) -> tuple[float, bool]:
    """Day at which the treated tumour is sampled as resistant, and whether it escaped."""
    ttp = metrics.time_to_progression(result)
    if ttp is None:
        return float(result.time[-1]), False
    return metrics.reference_start(result) + ttp, True


def time_of_volume(result, volume):
    """First time the (growing) untreated tumour reaches ``volume``; None if never."""
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
    """Runs each arm once, on demand, for a setting and parameter overrides."""

    def __init__(self, setting: Setting, parameters: Mapping[str, float] | None = None):
        self.setting = setting
        self.parameters = dict(parameters or {})
        self._cache: dict = {}

    def get(self, treatments: str, **overrides) -> "simbev.result.Result":  # noqa: F821
        key = (treatments, tuple(sorted(overrides.items())))
        if key not in self._cache:
            s = self.setting
            regimens = {"none": (), "bev": (s.bevacizumab,), "mtori": (s.mtor_inhibitor,),
                        "combo": (s.bevacizumab, s.mtor_inhibitor)}[treatments]
            scenario = Scenario(f"{s.name}:{treatments}", s.duration_days, species=s.species,
                                output_every_days=s.output_every_days, treatments=regimens)
            # the compiled path (agrees with simbev.simulate to ~1e-5; falls back to it without numba)
            self._cache[key] = fast.simulate(scenario, parameters={**self.parameters, **overrides})
        return self._cache[key]


# --- the checks -------------------------------------------------------------------------------

def _ratio(a, b):
    return a / b if b != 0 else float("inf")


def _resistant_vs_naive(arms: Arms):
    bev, none = arms.get("bev"), arms.get("none")
    t_r, escaped = resistant_sample(bev)
    volume = _at(bev, "tumor_volume", t_r)
    t_same_volume = time_of_volume(none, volume)
    return bev, none, t_r, escaped, volume, t_same_volume


def check_c1_c3(arms: Arms) -> list[Check]:
    bev, none, t_r, escaped, volume, t_v = _resistant_vs_naive(arms)
    t_cmp = t_v if t_v is not None else t_r
    if t_v is None:
        how = "same time (the untreated tumour never grows that large)"
    elif t_v == float(none.time[0]) and volume < _at(none, "tumor_volume", t_v):
        # A large human tumour that escapes below its starting size: the untreated tumour is
        # never that small, and its nearest volume is the pre-treatment tumour - the paired
        # pre-treatment biopsy of Castro et al.'s patients.
        how = "pre-treatment tumour (day 0; the untreated tumour is never that small)"
    else:
        how = "same volume"
    base = {"resistant_day": t_r, "escaped": escaped, "volume_mm3": round(volume, 1),
            "naive_day": round(t_cmp, 2), "matched_on": how}
    out = []
    tam_r, tam_n = _density(bev, "macrophage_total", t_r), _density(none, "macrophage_total", t_cmp)
    tam_t = _density(none, "macrophage_total", t_r)
    out.append(Check("C1", FINDINGS["C1"], "resistant (bevacizumab, escaped) vs untreated at equal volume",
                     "TAMs per volume >= 1.1x naive", {**base, "tam_density_resistant": tam_r,
                     "tam_density_naive": tam_n, "ratio": _ratio(tam_r, tam_n),
                     "ratio_same_time": _ratio(tam_r, tam_t)}, escaped and tam_r >= 1.1 * tam_n))
    mif_r, mif_n = _at(bev, "mif", t_r), _at(none, "mif", t_cmp)
    out.append(Check("C2", FINDINGS["C2"], "resistant vs untreated at equal volume", "free MIF <= 0.8x naive",
                     {**base, "mif_resistant_nM": mif_r, "mif_naive_nM": mif_n, "ratio": _ratio(mif_r, mif_n),
                      "ratio_same_time": _ratio(mif_r, _at(none, "mif", t_r))}, escaped and mif_r <= 0.8 * mif_n))
    r_r, r_n = _at(bev, "m2_m1_ratio", t_r), _at(none, "m2_m1_ratio", t_cmp)
    m2_r, m2_n = _density(bev, "macrophage_m2", t_r), _density(none, "macrophage_m2", t_cmp)
    out.append(Check("C3", FINDINGS["C3"], "resistant vs untreated at equal volume",
                     "M2:M1 >= 1.2x naive and M2 per volume higher",
                     {**base, "m2_m1_resistant": r_r, "m2_m1_naive": r_n, "ratio": _ratio(r_r, r_n),
                      "m2_density_ratio": _ratio(m2_r, m2_n),
                      "ratio_same_time": _ratio(r_r, _at(none, "m2_m1_ratio", t_r))},
                     escaped and r_r >= 1.2 * r_n and m2_r > m2_n))
    return out


def check_c4(arms: Arms) -> Check:
    ctl, kd = arms.get("none"), arms.get("none", mif_expression=0.2)
    t = arms.setting.start + arms.setting.macrophage_days
    m = {"day": t,
         "volume_ratio": _ratio(_at(kd, "tumor_volume", t), _at(ctl, "tumor_volume", t)),
         "vessel_capacity_ratio": _ratio(_at(kd, "vessel_capacity", t), _at(ctl, "vessel_capacity", t)),
         "m2_density_ratio": _ratio(_density(kd, "macrophage_m2", t), _density(ctl, "macrophage_m2", t)),
         "m2_proliferation_kd": m2_proliferation(kd, t), "m2_proliferation_control": m2_proliferation(ctl, t)}
    holds = (m["volume_ratio"] >= 1.05 and m["vessel_capacity_ratio"] > 1.05 and m["m2_density_ratio"] >= 1.2
             and m["m2_proliferation_kd"] > m["m2_proliferation_control"])
    return Check("C4", FINDINGS["C4"], f"untreated, mif_expression 0.2 vs 1, same time ({arms.setting.macrophage_days:g} d after the treated arms start)",
                 "volume >= 1.05x, vessel capacity > 1.05x, M2 per volume >= 1.2x, M2 proliferation higher", m, holds)


def check_c5(arms: Arms) -> Check:
    bev, oe = arms.get("bev"), arms.get("bev", mif_expression=5.0)
    t = float(bev.time[-1])
    m = {"day": t, "m2_density_ratio": _ratio(_density(oe, "macrophage_m2", t), _density(bev, "macrophage_m2", t)),
         "volume_ratio": _ratio(_at(oe, "tumor_volume", t), _at(bev, "tumor_volume", t))}
    return Check("C5", FINDINGS["C5"], "bevacizumab, mif_expression 5 vs 1, at the end",
                 "M2 per volume <= 0.8x and volume <= 0.95x", m,
                 m["m2_density_ratio"] <= 0.8 and m["volume_ratio"] <= 0.95)


def check_c6(arms: Arms) -> Check:
    ctl, none, high = arms.get("none"), arms.get("none", mif_expression=0.0), arms.get("none", mif_expression=5.0)
    t = arms.setting.start + arms.setting.macrophage_days
    m = {"day": t, "m1_fraction_no_mif": m1_fraction(none, t), "m1_fraction_control": m1_fraction(ctl, t),
         "m1_fraction_high_mif": m1_fraction(high, t), "m2_m1_no_mif": _at(none, "m2_m1_ratio", t),
         "m2_m1_control": _at(ctl, "m2_m1_ratio", t)}
    holds = (m["m1_fraction_no_mif"] < m["m1_fraction_control"] < m["m1_fraction_high_mif"]
             and m["m2_m1_no_mif"] >= 1.5 * m["m2_m1_control"])
    return Check("C6", FINDINGS["C6"], "untreated, mif_expression 0 / 1 / 5, same time",
                 "M1 fraction rises with MIF; M2:M1 without MIF >= 1.5x control", m, holds)


def _bev_vs_untreated_with(arms: Arms, **knobs):
    bev, none = arms.get("bev", **knobs), arms.get("none", **knobs)
    t = arms.setting.start + 14.0
    return bev, none, t


def check_c7(arms: Arms) -> Check:
    bev, none, t = _bev_vs_untreated_with(arms, vegf_mif_induction=0.0)
    m = {"day": t, "mif_ratio": _ratio(_at(bev, "mif", t), _at(none, "mif", t)),
         "m1_fraction_bev": m1_fraction(bev, t), "m1_fraction_untreated": m1_fraction(none, t)}
    return Check("C7", FINDINGS["C7"], "vegf_mif_induction = 0: bevacizumab vs untreated, 14 d after the first dose",
                 "free MIF <= 0.9x and M1 fraction lower", m,
                 m["mif_ratio"] <= 0.9 and m["m1_fraction_bev"] < m["m1_fraction_untreated"])


def check_c8(arms: Arms) -> Check:
    bev, none, t = _bev_vs_untreated_with(arms, bev_mif_binding=0.0)
    m = {"day": t, "mif_production_ratio": _ratio(mif_production(bev, t), mif_production(none, t)),
         "mif_ratio": _ratio(_at(bev, "mif", t), _at(none, "mif", t)),
         "vegf_ratio": _ratio(_at(bev, "vegf", t), _at(none, "vegf", t))}
    return Check("C8", FINDINGS["C8"], "bev_mif_binding = 0: bevacizumab vs untreated, 14 d after the first dose",
                 "MIF production <= 0.9x and free MIF <= 0.9x", m,
                 m["mif_production_ratio"] <= 0.9 and m["mif_ratio"] <= 0.9)


def check_c9(arms: Arms) -> Check:
    ctl, off = arms.get("none"), arms.get("none", tumor_m2_growth_boost=0.0)
    t = arms.setting.start + 14.0  # the boost acts at once: read early, before the human plateau
    start = float(ctl.time[0])
    g_ctl = (np.log(_at(ctl, "tumor_volume", t)) - np.log(_at(ctl, "tumor_volume", start))) / (t - start)
    g_off = (np.log(_at(off, "tumor_volume", t)) - np.log(_at(off, "tumor_volume", start))) / (t - start)
    m = {"day": t, "growth_rate_with_m2_factors": g_ctl, "growth_rate_without": g_off, "ratio": _ratio(g_ctl, g_off)}
    return Check("C9", FINDINGS["C9"], "untreated, M2 growth factors on vs off (tumor_m2_growth_boost = 0)",
                 "mean growth rate >= 1.05x", m, m["ratio"] >= 1.05)


def check_a1(arms: Arms) -> list[Check]:
    """A1: a real response, then regrowth on therapy. Response: the 7-day growth rate on
    bevacizumab falls to <= 25 % of the untreated tumour's at the same time. Regrowth: after that
    maximal response the tumour grows by >= 40 % over its running nadir while still on therapy
    (the volumetric progression criterion of :mod:`simbev.metrics`, counted from the response
    on; a tumour that keeps shrinking after its growth rate is most suppressed, as large human
    tumours do for weeks, is measured from its lowest volume, not from the volume at that day).

    A1w (stricter): the response wanes, i.e. after its lowest value the growth rate on therapy
    rises again by >= 0.01/day (a doubling time under ~70 days)."""
    bev, none = arms.get("bev"), arms.get("none")
    start = arms.setting.start
    tb, gb = growth_rates(bev)
    gn = np.interp(tb, *growth_rates(none))
    on = tb >= start + 7.0
    ratio = np.where(on & (gn > 0), gb / np.where(gn > 0, gn, 1.0), np.inf)
    i_min = int(np.argmin(ratio))
    t_min = float(tb[i_min])
    v_min = _at(bev, "tumor_volume", t_min)
    v_after = bev["tumor_volume"][bev.time >= t_min]
    nadir = np.minimum.accumulate(v_after)
    k = int(np.argmax(v_after / nadir))
    v_later, v_nadir = float(v_after[k]), float(nadir[k])
    j = i_min + int(np.argmin(gb[tb >= t_min]))  # the lowest growth rate from the response on
    after = tb > tb[j]
    rise = float(gb[after].max() - gb[j]) if after.any() else 0.0
    m = {"min_ratio_to_untreated": float(ratio[i_min]), "day_of_max_response": t_min,
         "volume_at_max_response_mm3": v_min, "nadir_mm3": v_nadir, "regrown_to_mm3": v_later,
         "regrowth_factor": v_later / v_nadir, "time_to_progression_days": metrics.time_to_progression(bev),
         "final_mm3": metrics.final_tumor_volume(bev)}
    a1 = Check("A1", FINDINGS["A1"], "bevacizumab vs untreated; 7-day log growth rates",
               "growth rate falls to <= 25 % of the untreated rate at the same time, then the tumour "
               "regrows by >= 40 % over its nadir on therapy", m, m["min_ratio_to_untreated"] <= 0.25 and m["regrowth_factor"] >= 1.4)
    mw = {"lowest_growth_rate_on_bev": float(gb[j]), "day_of_lowest": float(tb[j]), "rise_after": rise}
    a1w = Check("A1w", FINDINGS["A1w"], "bevacizumab; 7-day log growth rates after the maximal response",
                "growth rate later rises by >= 0.01/day above its lowest value", mw, rise >= 0.01)
    return [a1, a1w]


def _same_time(arms, name):
    bev, none = arms.get("bev"), arms.get("none")
    t_early = arms.setting.start + 14.0
    t_end = float(bev.time[-1])
    vals = {"early_day": t_early, f"{name}_bev_early": _at(bev, name, t_early),
            f"{name}_untreated_early": _at(none, name, t_early),
            f"{name}_bev_end": _at(bev, name, t_end), f"{name}_untreated_end": _at(none, name, t_end)}
    return bev, none, t_early, t_end, vals


def check_a2(arms: Arms) -> Check:
    _, _, te, tf, m = _same_time(arms, "hypoxic_fraction")
    holds = m["hypoxic_fraction_bev_early"] >= m["hypoxic_fraction_untreated_early"] + 0.1
    return Check("A2", FINDINGS["A2"], "bevacizumab vs untreated, same time (14 d after the first dose; end shown)",
                 "hypoxic fraction higher by >= 0.1 (absolute) early on therapy", m, holds)


def check_a3(arms: Arms) -> Check:
    bev, none, te, tf, m = _same_time(arms, "lactate")
    m["glucose_bev_early"], m["glucose_untreated_early"] = _at(bev, "glucose", te), _at(none, "glucose", te)
    holds = m["lactate_bev_early"] >= 1.2 * m["lactate_untreated_early"]
    return Check("A3", FINDINGS["A3"], "bevacizumab vs untreated, same time", "tumour lactate >= 1.2x", m, holds)


def check_a4(arms: Arms) -> Check:
    bev, none, te, tf, m = _same_time(arms, "mtor_activity")
    m["lactate_import_bev"], m["lactate_import_untreated"] = lactate_import(bev, te), lactate_import(none, te)
    holds = (m["mtor_activity_bev_early"] >= 1.1 * m["mtor_activity_untreated_early"]
             and m["lactate_import_bev"] > m["lactate_import_untreated"])
    return Check("A4", FINDINGS["A4"], "bevacizumab vs untreated, same time",
                 "mTOR activity >= 1.1x and lactate import per normoxic cell higher", m, holds)


def _regrowth(result):
    """log(final volume / on-treatment nadir): how much the tumour regrew on therapy."""
    return float(np.log(metrics.final_tumor_volume(result) / metrics.min_tumor_volume(result)))


def check_a5(arms: Arms) -> Check:
    bev, none = arms.get("bev"), arms.get("none")
    bev0, none0 = arms.get("bev", lactate_mtor_coupling=0.0), arms.get("none", lactate_mtor_coupling=0.0)
    t = arms.setting.start + 14.0
    rise = _at(bev, "mtor_activity", t) / _at(none, "mtor_activity", t) - 1.0
    rise0 = _at(bev0, "mtor_activity", t) / _at(none0, "mtor_activity", t) - 1.0
    m = {"mtor_rise_under_therapy": rise, "mtor_rise_without_coupling": rise0,
         "regrowth_log": _regrowth(bev), "regrowth_log_without_coupling": _regrowth(bev0)}
    holds = abs(rise0) < 0.02 and rise > 0.1 and m["regrowth_log_without_coupling"] < 0.8 * m["regrowth_log"]
    return Check("A5", FINDINGS["A5"], "bevacizumab with lactate_mtor_coupling 1 vs 0",
                 "no mTOR rise without coupling (< 2 %), and regrowth from the nadir <= 0.8x", m, holds)


def check_a6(arms: Arms) -> Check:
    v = {k: metrics.final_tumor_volume(arms.get(k)) for k in ("none", "bev", "mtori", "combo")}
    m = {f"final_volume_{k}_mm3": x for k, x in v.items()}
    holds = v["combo"] <= 0.8 * min(v["bev"], v["mtori"])
    return Check("A6", FINDINGS["A6"], "final volume: combination vs each drug alone",
                 "combination <= 0.8x the better monotherapy", m, holds)


def check_a7(arms: Arms) -> Check:
    mt, none = arms.get("mtori"), arms.get("none")
    t = float(mt.time[-1])
    m = {"glut2_mtor_inhibitor": _at(mt, "glut2", t), "glut2_untreated": _at(none, "glut2", t)}
    return Check("A7", FINDINGS["A7"], "mTOR inhibitor vs untreated, end", "GLUT2 >= 0.3 higher (absolute)", m,
                 m["glut2_mtor_inhibitor"] >= m["glut2_untreated"] + 0.3)


CHECKS: tuple[Callable, ...] = (check_c1_c3, check_c4, check_c5, check_c6, check_c7, check_c8, check_c9,
                                check_a1, check_a2, check_a3, check_a4, check_a5, check_a6, check_a7)


def evaluate(setting: Setting | str = "mouse_10mgkg_twice_weekly",
             parameters: Mapping[str, float] | None = None) -> list[Check]:
    """Run every check for ``setting`` with parameter overrides; return the checks in id order."""
    if isinstance(setting, str):
        setting = SETTINGS[setting]
    arms = Arms(setting, parameters)
    out: list[Check] = []
    for check in CHECKS:
        got = check(arms)
        out.extend(got if isinstance(got, list) else [got])
    order = list(FINDINGS)
    return sorted(out, key=lambda c: order.index(c.id))
