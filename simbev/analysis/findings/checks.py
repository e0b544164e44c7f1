"""The finding checks, their negative controls and the model-structure statements
(:mod:`simbev.analysis.findings`)."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Mapping

import numpy as np

from .. import metrics
from .arms import (ESCAPE_HORIZON_DAYS, ROUTE_START_DAY, SETTINGS, Arms, Setting, _at, _density, growth_rates,
                   m1_fraction, resistant_sample, time_of_volume)

@dataclass
class Check:
    """The outcome of one check, with its negative control.

    ``control`` names the mechanism removed for the negative control and ``control_holds``
    says whether the criterion still holds without it (``None``: not evaluated). A finding
    check is evidence for its mechanism only if it holds and its control does not.
    """

    id: str
    finding: str
    comparison: str
    criterion: str
    measured: dict
    holds: bool
    control: str = ""
    control_measured: dict = field(default_factory=dict)
    control_holds: bool | None = None

    @property
    def fails_without_mechanism(self) -> bool | None:
        return None if self.control_holds is None else not self.control_holds

    @property
    def discriminates(self) -> bool:
        """Holds at the defaults and fails with its mechanism removed."""
        return bool(self.holds) and self.control_holds is False

    def as_row(self) -> dict:
        return {"id": self.id, "finding": self.finding, "comparison": self.comparison,
                "criterion": self.criterion, "measured": self.measured, "holds": self.holds,
                "control": self.control, "control_measured": self.control_measured,
                "control_holds": self.control_holds}


FINDINGS: dict[str, str] = {
    "C1": "bevacizumab-resistant tumors carry more tumor-associated macrophages than naive ones",
    "C2": "bevacizumab-resistant tumors have less MIF than naive ones (free MIF)",
    "C2t": "bevacizumab-resistant tumors have less MIF than naive ones (total MIF: free + bevacizumab-bound, what assays measure)",
    "C3": "bevacizumab-resistant tumors carry more M2 macrophages, a higher M2:M1 ratio",
    "C4": "MIF knockdown tumors grow faster, with more angiogenesis and more, more proliferative, M2",
    "C5": "raising MIF in bevacizumab-resistant tumors gives fewer M2 macrophages and slower growth",
    "C7": "bevacizumab binding MIF lowers free MIF and M1 polarisation, even with VEGF->MIF induction removed",
    "C8": "VEGF depletion lowers tumor MIF, even with bevacizumab-MIF binding removed",
    "C9": "M2 macrophages raise tumor proliferation (M2-rich vs M1-rich macrophages, as Castro's conditioned media)",
    "A1": "anti-VEGF therapy gives a real but transitory response: shrinkage or slowing, then regrowth",
    "A1w": "(supplementary, stricter reading of A1) the response wanes: growth on therapy accelerates again",
    "A2": "under anti-VEGF therapy the hypoxic fraction rises",
    "A3": "hypoxic cells import glucose and export lactate: tumor lactate rises under therapy",
    "A5": "the lactate->mTOR coupling carries part of the escape: regrowth on bevacizumab is smaller without it",
    "A6": "anti-VEGF plus mTOR inhibitor controls the tumor better than either alone, and its extra benefit over bevacizumab depends on the lactate->mTOR coupling",
    "R1": "the metabolic route alone escapes: vegf_mif_induction = bev_mif_binding = 0, escape within eight weeks",
    "R2": "the immune route alone escapes: lactate_mtor_coupling = 0, escape within eight weeks",
    "R3": "with all three removed (vegf_mif_induction = bev_mif_binding = lactate_mtor_coupling = 0) no escape within eight weeks",
}

#: Statements that restate one of the model's own terms: reported, never counted as evidence.
STRUCTURE: dict[str, tuple[str, str]] = {
    "C6": ("MIF drives M1 polarisation; with MIF absent, polarisation tips to M2",
           "the M2 share of recruits and the M2->M1 repolarisation are explicit functions of MIF "
           "(macrophage equations): lowering MIF tips polarisation to M2 by construction"),
    "A4": ("normoxic cells import lactate and raise mTOR activity under therapy",
           "the mTOR target is an algebraic function of MCT1 x lactate; given A3 (lactate rises) "
           "it rises by construction"),
    "A7": ("mTOR inhibition raises GLUT2",
           "GLUT2 relaxes to glut2_induction x (mTOR-inhibitor occupancy): any inhibitor exposure "
           "raises it by construction"),
}

#: Why each former check was dropped, demoted or rewritten (docs/findings.md reports it).
REVISIONS: dict[str, str] = {
    "C6": "demoted to a model-structure statement: polarisation is an explicit function of MIF",
    "C8": "rewritten: it recomputed the model's MIF secretion formula; it now reads the free MIF "
          "concentration, an emergent state, with bevacizumab-MIF binding removed, against a "
          "control without the VEGF->MIF induction",
    "C9": "rewritten: it switched the M2 growth boost off and tested 1.05 against the 1.07 the term "
          "gives; it now compares tumor growth with the macrophage population held M2-rich vs "
          "M1-rich (Castro's conditioned-media experiment), control without macrophage effects",
    "C4": "narrowed: the 'more proliferative M2' part is no longer judged (it can only be read off the "
          "model's own M2 proliferation term, r_M2 (1 - S_F)); volume, vessel capacity and M2 density are",
    "A4": "demoted to a model-structure statement: the mTOR target is algebraic in lactate x MCT1",
    "A5": "rewritten: the 'no mTOR rise without coupling' part restated the term; the regrowth part "
          "stays, with a control without hypoxic lactate export",
    "A6": "rewritten: it held with lactate_mtor_coupling = 0 too; it now also requires the "
          "combination's benefit over bevacizumab to be larger with the coupling than without",
    "A7": "demoted to a model-structure statement: GLUT2 is driven by inhibitor occupancy",
    "C2t": "added: total (free + bevacizumab-bound) MIF next to free MIF, as assays measure",
    "R1-R3": "added: route sufficiency (each escape route alone; none without both)",
    "mouse readouts": "every mouse arm is now read only below the humane end point (before: days 60-120, "
                      "up to 4.3 cm^3); the mouse settings run eight weeks of therapy (to day 63)",
}


# --- knobs that remove a mechanism ---------------------------------------------------------------

NO_MIF_LOWERING = {"vegf_mif_induction": 0.0, "bev_mif_binding": 0.0}
NO_COUPLING = {"lactate_mtor_coupling": 0.0}
NO_ROUTES = {**NO_MIF_LOWERING, **NO_COUPLING}
#: MIF no longer signals to macrophages: its half-maximal concentration is pushed out of reach, to
#: the largest admissible value (1e9 nM, about 1e9 times tumor MIF).
NO_MIF_SIGNAL = {"mif_m1_ec50": 1e9}
#: Hypoxic cells export no lactate: no metabolic symbiosis.
NO_LACTATE_EXPORT = {"lactate_yield": 0.0}
#: Macrophages no longer act on tumor cells or vessels.
NO_MACROPHAGE_EFFECTS = {"tumor_m2_growth_boost": 0.0, "tumor_m1_kill_rate": 0.0, "m2_angiogenesis_strength": 0.0}
#: Bevacizumab no longer binds VEGF.
NO_VEGF_BINDING = {"bev_vegf_kon": 0.0}


# --- the checks -------------------------------------------------------------------------------

def _ratio(a, b):
    return a / b if b != 0 else float("inf")


@dataclass(frozen=True)
class Spec:
    """One check: ``measure(arms) -> (measured, holds)`` at the defaults, and again on the arms
    with ``control_knobs`` applied; ``control_measure`` if the control reads differently."""

    id: str
    comparison: str
    criterion: str
    measure: Callable
    control: str
    control_knobs: Mapping[str, float]
    control_measure: Callable | None = None
    species: tuple[str, ...] = ("mouse", "human")


def _resistant_vs_naive(arms: Arms):
    bev, none = arms.get("bev"), arms.get("none")
    t_r, escaped = resistant_sample(bev, arms.readable_until(bev))
    volume = _at(bev, "tumor_volume", t_r)
    t_v = time_of_volume(none, volume)
    if t_v is None:
        t_cmp = arms.read_day(t_r, none)
        how = ("same time (the untreated tumor never grows that large)" if t_cmp == t_r else
               "untreated at its humane end point (it never grows that large before)")
    elif t_v == float(none.time[0]) and volume < _at(none, "tumor_volume", t_v):
        if arms.knobs:
            # a mechanism removed: the day-0 state is that of the intact model, not a
            # pre-treatment tumor without the mechanism; compare with the untreated arm instead
            t_cmp = arms.read_day(t_r, none)
            how = ("same time (control: day 0 is the intact model's state)" if t_cmp == t_r else
                   "untreated at its humane end point (control: day 0 is the intact model's state)")
        else:
            # A large human tumor that escapes below its starting size: the untreated tumor is
            # never that small, and its nearest volume is the pre-treatment tumor - the paired
            # pre-treatment biopsy of Castro et al.'s patients.
            t_cmp, how = t_v, "pre-treatment tumor (day 0; the untreated tumor is never that small)"
    else:
        t_cmp, how = t_v, "same volume"
    base = {"resistant_day": t_r, "escaped": escaped, "volume_mm3": round(volume, 1),
            "naive_day": round(t_cmp, 2), "matched_on": how}
    return bev, none, t_r, t_cmp, escaped, base


def _c1(arms, marker_only=False):
    bev, none, t_r, t_n, escaped, base = _resistant_vs_naive(arms)
    r, n = _density(bev, "macrophage_total", t_r), _density(none, "macrophage_total", t_n)
    m = {**base, "tam_density_resistant": r, "tam_density_naive": n, "ratio": _ratio(r, n)}
    return m, (marker_only or escaped) and r >= 1.1 * n


def _c2(arms, marker_only=False, total=False):
    bev, none, t_r, t_n, escaped, base = _resistant_vs_naive(arms)

    def mif(res, t):
        return _at(res, "mif", t) + (_at(res, "bev_mif", t) if total else 0.0)
    r, n = mif(bev, t_r), mif(none, t_n)
    m = {**base, "mif_resistant_nM": r, "mif_naive_nM": n, "ratio": _ratio(r, n)}
    return m, (marker_only or escaped) and r <= 0.8 * n


def _c3(arms, marker_only=False):
    bev, none, t_r, t_n, escaped, base = _resistant_vs_naive(arms)
    r, n = _at(bev, "m2_m1_ratio", t_r), _at(none, "m2_m1_ratio", t_n)
    m2r, m2n = _density(bev, "macrophage_m2", t_r), _density(none, "macrophage_m2", t_n)
    m = {**base, "m2_m1_resistant": r, "m2_m1_naive": n, "ratio": _ratio(r, n), "m2_density_ratio": _ratio(m2r, m2n)}
    return m, (marker_only or escaped) and r >= 1.2 * n and m2r > m2n


def _c4(arms):
    ctl, kd = arms.get("none"), arms.get("none", mif_expression=0.2)
    t = arms.read_day(arms.setting.start + arms.setting.macrophage_days, ctl, kd)
    m = {"day": t,
         "volume_ratio": _ratio(_at(kd, "tumor_volume", t), _at(ctl, "tumor_volume", t)),
         "vessel_capacity_ratio": _ratio(_at(kd, "vessel_capacity", t), _at(ctl, "vessel_capacity", t)),
         "m2_density_ratio": _ratio(_density(kd, "macrophage_m2", t), _density(ctl, "macrophage_m2", t))}
    # "more proliferative M2" is not judged: in the model it can only be read off the M2
    # proliferation term itself, r_M2 (1 - S_F), which falls with MIF by construction.
    holds = m["volume_ratio"] >= 1.05 and m["vessel_capacity_ratio"] > 1.05 and m["m2_density_ratio"] >= 1.2
    return m, holds


def _c5(arms):
    bev, oe = arms.get("bev"), arms.get("bev", mif_expression=5.0)
    t = arms.read_day(float(bev.time[-1]), bev, oe)
    m = {"day": t, "m2_density_ratio": _ratio(_density(oe, "macrophage_m2", t), _density(bev, "macrophage_m2", t)),
         "volume_ratio": _ratio(_at(oe, "tumor_volume", t), _at(bev, "tumor_volume", t))}
    return m, m["m2_density_ratio"] <= 0.8 and m["volume_ratio"] <= 0.95


def _bev_vs_untreated(arms: Arms, **knobs):
    bev, none = arms.get("bev", **knobs), arms.get("none", **knobs)
    return bev, none, arms.read_day(arms.setting.start + 14.0, bev, none)


def _c7(arms):
    bev, none, t = _bev_vs_untreated(arms, vegf_mif_induction=0.0)
    m = {"day": t, "mif_ratio": _ratio(_at(bev, "mif", t), _at(none, "mif", t)),
         "m1_fraction_bev": m1_fraction(bev, t), "m1_fraction_untreated": m1_fraction(none, t)}
    return m, m["mif_ratio"] <= 0.9 and m["m1_fraction_bev"] < m["m1_fraction_untreated"]


def _c8(arms):
    bev, none, t = _bev_vs_untreated(arms, bev_mif_binding=0.0)
    m = {"day": t, "mif_ratio": _ratio(_at(bev, "mif", t), _at(none, "mif", t)),
         "vegf_ratio": _ratio(_at(bev, "vegf", t), _at(none, "vegf", t))}
    return m, m["mif_ratio"] <= 0.9


def _c9(arms):
    rich2, rich1 = arms.fixed_macrophages(0.8), arms.fixed_macrophages(0.2)
    start = float(rich2.time[0])
    t = arms.read_day(start + 14.0, rich2, rich1)

    def rate(r):
        return (np.log(_at(r, "tumor_volume", t)) - np.log(_at(r, "tumor_volume", start))) / (t - start)
    m = {"day": t, "growth_rate_m2_rich": rate(rich2), "growth_rate_m1_rich": rate(rich1),
         "ratio": _ratio(rate(rich2), rate(rich1)),
         "tam_density_m2_rich": _density(rich2, "macrophage_total", t),
         "tam_density_m1_rich": _density(rich1, "macrophage_total", t)}
    return m, m["ratio"] >= 1.05


def _a1(arms):
    """A1: a real response, then regrowth on therapy. Response: the 7-day growth rate on
    bevacizumab falls to <= 25 % of the untreated tumor's at the same time (read while the
    untreated tumor is below the humane end point). Regrowth: after that maximal response the
    tumor grows by >= 40 % over its running nadir while still on therapy and below the end point.

    A1w (stricter): the response wanes, i.e. after its lowest value the growth rate on therapy
    rises again by >= 0.01/day (a doubling time under ~70 days)."""
    bev, none = arms.get("bev"), arms.get("none")
    start = arms.setting.start
    tb, gb = growth_rates(bev)
    gn = np.interp(tb, *growth_rates(none))
    on = (tb >= start + 7.0) & (tb <= arms.readable_until(none)) & (tb <= arms.readable_until(bev))
    if not on.any():
        on = tb >= start + 7.0
    ratio = np.where(on & (gn > 0), gb / np.where(gn > 0, gn, 1.0), np.inf)
    i_min = int(np.argmin(ratio))
    t_min = float(tb[i_min])
    until = arms.readable_until(bev)
    keep = (bev.time >= t_min) & (bev.time <= until)
    v_after = bev["tumor_volume"][keep] if keep.any() else bev["tumor_volume"][-1:]
    nadir = np.minimum.accumulate(v_after)
    k = int(np.argmax(v_after / nadir))
    v_later, v_nadir = float(v_after[k]), float(nadir[k])
    later = (tb >= t_min) & (tb <= until)
    gl, tl = gb[later], tb[later]
    j = int(np.argmin(gl)) if gl.size else 0
    rise = float(gl[j + 1:].max() - gl[j]) if gl.size > j + 1 else 0.0
    m = {"min_ratio_to_untreated": float(ratio[i_min]), "day_of_max_response": t_min,
         "volume_at_max_response_mm3": _at(bev, "tumor_volume", t_min), "nadir_mm3": v_nadir, "regrown_to_mm3": v_later, "regrowth_factor": v_later / v_nadir,
         "read_until_day": until}
    mw = {"lowest_growth_rate_on_bev": float(gl[j]) if gl.size else float("nan"),
          "day_of_lowest": float(tl[j]) if gl.size else float("nan"), "rise_after": rise}
    return m, mw


def _a1_main(arms):
    m, _ = _a1(arms)
    return m, m["min_ratio_to_untreated"] <= 0.25 and m["regrowth_factor"] >= 1.4


def _a1_wane(arms):
    _, mw = _a1(arms)
    return mw, mw["rise_after"] >= 0.01


def _same_time(arms, name):
    bev, none, t = _bev_vs_untreated(arms)
    return bev, none, t, {"day": t, f"{name}_bev": _at(bev, name, t), f"{name}_untreated": _at(none, name, t)}


def _a2(arms):
    _, _, _, m = _same_time(arms, "hypoxic_fraction")
    return m, m["hypoxic_fraction_bev"] >= m["hypoxic_fraction_untreated"] + 0.1


def _a3(arms):
    bev, none, t, m = _same_time(arms, "lactate")
    m["glucose_bev"], m["glucose_untreated"] = _at(bev, "glucose", t), _at(none, "glucose", t)
    return m, m["lactate_bev"] >= 1.2 * m["lactate_untreated"]


def _regrowth(arms, result, until):
    """log(volume / on-treatment nadir) at ``until``: how much the tumor regrew on therapy."""
    t0 = arms.setting.start
    keep = (result.time >= t0) & (result.time <= until)
    v = result["tumor_volume"][keep]
    return float(np.log(_at(result, "tumor_volume", until) / np.min(v)))


def _a5(arms):
    bev, bev0 = arms.get("bev"), arms.get("bev", **NO_COUPLING)
    t = arms.read_day(arms.setting.start + arms.setting.followup_days, bev, bev0)
    m = {"day": t, "regrowth_log": _regrowth(arms, bev, t), "regrowth_log_without_coupling": _regrowth(arms, bev0, t)}
    m["ratio"] = _ratio(m["regrowth_log_without_coupling"], m["regrowth_log"])
    return m, m["regrowth_log"] > 0 and m["ratio"] <= 0.8


def _a6(arms):
    runs = {k: arms.get(k) for k in ("bev", "mtori", "combo")}
    runs["bev_c0"], runs["combo_c0"] = arms.get("bev", **NO_COUPLING), arms.get("combo", **NO_COUPLING)
    t = arms.read_day(arms.setting.start + arms.setting.followup_days, *runs.values())
    v = {k: _at(r, "tumor_volume", t) for k, r in runs.items()}
    benefit, benefit0 = np.log(v["bev"] / v["combo"]), np.log(v["bev_c0"] / v["combo_c0"])
    m = {"day": t, **{f"volume_{k}_mm3": x for k, x in v.items()},
         "benefit_over_bev_log": float(benefit), "benefit_over_bev_log_without_coupling": float(benefit0)}
    holds = v["combo"] <= 0.8 * min(v["bev"], v["mtori"]) and benefit > 0 and benefit0 <= 0.8 * benefit
    return m, holds


def route_escape(arms, start_day: float | None = None, **knobs):
    """Whether the treated tumor of the route experiment escapes (progresses) within eight weeks
    of its first dose, read until it reaches the humane end point; with the measured values."""
    bev = arms.route_arm(start_day, **knobs)
    start = metrics.reference_start(bev)
    until = min(start + ESCAPE_HORIZON_DAYS, arms.readable_until(bev))
    t_r, escaped = resistant_sample(bev, until)
    keep = (bev.time >= start) & (bev.time <= until)
    v = bev["tumor_volume"][keep]
    nadir = np.minimum.accumulate(v)
    m = {"first_dose_day": start, "escaped": escaped, "time_to_progression_days": (t_r - start) if escaped else None,
         "volume_at_first_dose_mm3": float(v[0]), "nadir_mm3": float(v.min()),
         "max_regrowth_over_nadir": float(np.max(v / nadir)), "read_until_day": until}
    return m, escaped


def _escape(arms, **knobs):
    return route_escape(arms, None, **knobs)


def _r1(arms):
    return _escape(arms, **NO_MIF_LOWERING)


def _r2(arms):
    return _escape(arms, **NO_COUPLING)


def _r3(arms):
    m, escaped = _escape(arms, **NO_ROUTES)
    return m, not escaped


def _r3_restored(arms):
    m, escaped = _escape(arms)
    return m, not escaped


_MIF_ROUTES = "both MIF-lowering routes removed (vegf_mif_induction = bev_mif_binding = 0)"
_RESISTANT = "resistant (bevacizumab, escaped) vs untreated at equal volume"

SPECS: tuple[Spec, ...] = (
    Spec("C1", _RESISTANT, "TAMs per volume >= 1.1x naive", _c1, _MIF_ROUTES, NO_MIF_LOWERING,
         lambda a: _c1(a, marker_only=True)),
    Spec("C2", _RESISTANT, "free MIF <= 0.8x naive", _c2, _MIF_ROUTES, NO_MIF_LOWERING,
         lambda a: _c2(a, marker_only=True)),
    Spec("C2t", _RESISTANT, "total MIF (free + bevacizumab-bound) <= 0.8x naive",
         lambda a: _c2(a, total=True), _MIF_ROUTES, NO_MIF_LOWERING,
         lambda a: _c2(a, marker_only=True, total=True)),
    Spec("C3", _RESISTANT, "M2:M1 >= 1.2x naive and M2 per volume higher", _c3, _MIF_ROUTES, NO_MIF_LOWERING,
         lambda a: _c3(a, marker_only=True)),
    Spec("C4", "untreated, mif_expression 0.2 vs 1, same time (about four macrophage half-lives after the treated arms start)",
         "volume >= 1.05x, vessel capacity > 1.05x, M2 per volume >= 1.2x (M2 proliferation not judged: "
         "it is the model's own term)",
         _c4, "MIF no longer signals to macrophages (mif_m1_ec50 -> infinity)", NO_MIF_SIGNAL),
    Spec("C5", "bevacizumab, mif_expression 5 vs 1, at the end (or the humane end point)",
         "M2 per volume <= 0.8x and volume <= 0.95x", _c5,
         "MIF no longer signals to macrophages (mif_m1_ec50 -> infinity)", NO_MIF_SIGNAL),
    Spec("C7", "vegf_mif_induction = 0: bevacizumab vs untreated, 14 d after the first dose",
         "free MIF <= 0.9x and M1 fraction lower", _c7, "bevacizumab-MIF binding removed too (bev_mif_binding = 0)",
         {"bev_mif_binding": 0.0}),
    Spec("C8", "bev_mif_binding = 0: bevacizumab vs untreated, 14 d after the first dose", "free MIF <= 0.9x",
         _c8, "VEGF->MIF induction removed too (vegf_mif_induction = 0)", {"vegf_mif_induction": 0.0}),
    Spec("C9", "untreated; macrophages held 80 % M2 vs 80 % M1 (same total), tumor growth over 14 days",
         "mean tumor growth rate >= 1.05x with M2-rich macrophages", _c9,
         "macrophage effects on tumor and vessels removed (tumor_m2_growth_boost = tumor_m1_kill_rate = "
         "m2_angiogenesis_strength = 0)", NO_MACROPHAGE_EFFECTS),
    Spec("A1", "bevacizumab vs untreated; 7-day log growth rates",
         "growth rate falls to <= 25 % of the untreated rate at the same time, then the tumor regrows by "
         ">= 40 % over its nadir on therapy", _a1_main,
         "all three routes removed (vegf_mif_induction = bev_mif_binding = lactate_mtor_coupling = 0)", NO_ROUTES),
    Spec("A1w", "bevacizumab; 7-day log growth rates after the maximal response",
         "growth rate later rises by >= 0.01/day above its lowest value", _a1_wane,
         "all three routes removed (vegf_mif_induction = bev_mif_binding = lactate_mtor_coupling = 0)", NO_ROUTES),
    Spec("A2", "bevacizumab vs untreated, same time (14 d after the first dose)",
         "hypoxic fraction higher by >= 0.1 (absolute)", _a2,
         "bevacizumab does not bind VEGF (bev_vegf_kon = 0)", NO_VEGF_BINDING),
    Spec("A3", "bevacizumab vs untreated, same time (14 d after the first dose)", "tumor lactate >= 1.2x", _a3,
         "hypoxic cells export no lactate (lactate_yield = 0)", NO_LACTATE_EXPORT),
    Spec("A5", "bevacizumab, lactate_mtor_coupling 1 vs 0: regrowth over the nadir by the end of follow-up "
         "(mouse: eight weeks of therapy or the humane end point; patients: one year)",
         "regrowth (log volume over nadir) without coupling <= 0.8x with it", _a5,
         "no metabolic symbiosis: hypoxic cells export no lactate (lactate_yield = 0)", NO_LACTATE_EXPORT),
    Spec("A6", "volume at the end of follow-up: combination vs each drug alone; benefit over bevacizumab "
         "with lactate_mtor_coupling 1 vs 0",
         "combination <= 0.8x the better monotherapy, and its log benefit over bevacizumab without coupling "
         "<= 0.8x that with coupling", _a6,
         "no metabolic symbiosis: hypoxic cells export no lactate (lactate_yield = 0)", NO_LACTATE_EXPORT),
    Spec("R1", f"route experiment (bevacizumab from day {ROUTE_START_DAY:g}, eight weeks) with "
         "vegf_mif_induction = bev_mif_binding = 0",
         "progression (>= 40 % over nadir) within eight weeks of the first dose", _r1,
         "lactate->mTOR coupling removed too (all three routes removed)", NO_COUPLING, species=("mouse",)),
    Spec("R2", f"route experiment (bevacizumab from day {ROUTE_START_DAY:g}, eight weeks) with lactate_mtor_coupling = 0",
         "progression (>= 40 % over nadir) within eight weeks of the first dose", _r2,
         "MIF-lowering routes removed too (all three routes removed)", NO_MIF_LOWERING, species=("mouse",)),
    Spec("R3", f"route experiment (bevacizumab from day {ROUTE_START_DAY:g}, eight weeks) with all three removed",
         "no progression within eight weeks of the first dose", _r3,
         "positive control: the routes restored (defaults) - the tumor must escape, so R3's criterion fails",
         {}, _r3_restored, species=("mouse",)),
)


def _run_spec(spec: Spec, arms: Arms, controls: bool) -> Check:
    measured, holds = spec.measure(arms)
    check = Check(spec.id, FINDINGS[spec.id], spec.comparison, spec.criterion, measured, bool(holds),
                  control=spec.control)
    if controls:
        cm, ch = (spec.control_measure or spec.measure)(arms.without(spec.control_knobs))
        check.control_measured, check.control_holds = cm, bool(ch)
    return check


def applies(spec_id: str, setting: Setting | str) -> bool:
    """Whether check ``spec_id`` is evaluated for ``setting`` (R1-R3 are mouse experiments)."""
    setting = SETTINGS[setting] if isinstance(setting, str) else setting
    return setting.species in next(s for s in SPECS if s.id == spec_id).species


def evaluate(setting: Setting | str = "mouse_10mgkg_twice_weekly",
             parameters: Mapping[str, float] | None = None, controls: bool = True) -> list[Check]:
    """Run every finding check for ``setting`` with parameter overrides; return them in id order.

    With ``controls`` (the default) each check's negative control is evaluated in the same call
    (``Check.control_holds``); ``controls=False`` skips them (about half the runs) when only
    ``Check.holds`` is wanted, as in robustness samples. Model-structure statements are not
    included (:func:`evaluate_structure`).
    """
    if isinstance(setting, str):
        setting = SETTINGS[setting]
    arms = Arms(setting, parameters)
    return [_run_spec(spec, arms, controls) for spec in SPECS if setting.species in spec.species]


def evaluate_structure(setting: Setting | str = "mouse_10mgkg_twice_weekly",
                       parameters: Mapping[str, float] | None = None) -> list[Check]:
    """The model-structure statements (:data:`STRUCTURE`): what the model does by construction,
    reported for completeness, never evidence."""
    if isinstance(setting, str):
        setting = SETTINGS[setting]
    arms = Arms(setting, parameters)
    none, bev, mt = arms.get("none"), arms.get("bev"), arms.get("mtori")
    out = []
    ctl, no, high = none, arms.get("none", mif_expression=0.0), arms.get("none", mif_expression=5.0)
    t = arms.read_day(setting.start + setting.macrophage_days, ctl, no, high)
    m = {"day": t, "m1_fraction_no_mif": m1_fraction(no, t), "m1_fraction_control": m1_fraction(ctl, t),
         "m1_fraction_high_mif": m1_fraction(high, t)}
    out.append(Check("C6", STRUCTURE["C6"][0], "untreated, mif_expression 0 / 1 / 5, same time",
                     "M1 fraction rises with MIF", m,
                     m["m1_fraction_no_mif"] < m["m1_fraction_control"] < m["m1_fraction_high_mif"]))
    t = arms.read_day(setting.start + 14.0, bev, none)
    m = {"day": t, "mtor_activity_bev": _at(bev, "mtor_activity", t), "mtor_activity_untreated": _at(none, "mtor_activity", t)}
    out.append(Check("A4", STRUCTURE["A4"][0], "bevacizumab vs untreated, same time", "mTOR activity >= 1.1x", m,
                     m["mtor_activity_bev"] >= 1.1 * m["mtor_activity_untreated"]))
    t = arms.read_day(float(mt.time[-1]), mt, none)
    m = {"day": t, "glut2_mtor_inhibitor": _at(mt, "glut2", t), "glut2_untreated": _at(none, "glut2", t)}
    out.append(Check("A7", STRUCTURE["A7"][0], "mTOR inhibitor vs untreated", "GLUT2 >= 0.3 higher (absolute)", m,
                     m["glut2_mtor_inhibitor"] >= m["glut2_untreated"] + 0.3))
    return out
