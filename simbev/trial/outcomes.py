"""Per-patient clinical read-outs of a simulated course: physiological filters, best response,
progression-free and overall survival.

Clock: every patient is first followed untreated for ``run_in_days`` (the observation that
gives the untreated growth filter and lets each patient's tumor settle to its own composition);
the baseline scan is at the end of the run-in, when treatment starts. Days in the read-outs
count from that baseline.

Read-out volume: the contrast-enhancing volume (``enhancing_volume``) when the model provides
it, what MRI measures and what Macdonald/RANO assess; otherwise the tumor cell volume
(``tumor_volume``). :func:`readout_name` says which.

Death: when the tumor cell volume first reaches the lethal burden (linear interpolation between
weekly outputs). Progression-free survival ends at the first progression scan or death,
whichever comes first; both are censored at the end of follow-up. Scans stop at death.
"""
from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field

import numpy as np

from ..analysis.response import ResponseCriteria, classify

__all__ = ["Design", "Filters", "readout_name", "screening_scenario", "metric_names", "patient_outcome",
           "LETHAL_VOLUME_MM3", "lethal_volume", "run_in_scenario",
           "run_in_metric_names", "run_in_filters"]

#: Lethal tumor burden (mm^3) used only when the parameter set has none (the human set's
#: ``endpoint_tumor_volume`` is used when present): a sphere of 6 cm diameter (113 cm^3), the
#: death criterion of the proliferation–invasion glioma models (Swanson et al.). Assumed: no
#: study measured a lethal volume, and autopsies find many deaths by infiltration rather than
#: bulk (Drumm et al. 2020).
LETHAL_VOLUME_MM3 = math.pi / 6.0 * 60.0 ** 3
_LETHAL_NAMES = ("endpoint_tumor_volume", "lethal_tumor_volume", "lethal_tumor_burden")


def lethal_volume(pset) -> tuple[float, str]:
    """``(mm^3, where it came from)``: the model's lethal burden if it has one, else the default."""
    for name in _LETHAL_NAMES:
        if pset is not None and name in pset:
            return float(pset[name]), f"parameter {name}"
    return LETHAL_VOLUME_MM3, "default: sphere of 6 cm diameter (assumed, Swanson et al. convention)"


def readout_name() -> str:
    """``enhancing_volume`` if the model has that output, else ``tumor_volume``."""
    from ..model.states import DERIVED_NAMES, STATE_NAMES
    return "enhancing_volume" if "enhancing_volume" in (*STATE_NAMES, *DERIVED_NAMES) else "tumor_volume"


@dataclass(frozen=True)
class Filters:
    """Physiological filters a plausible patient must pass (see docs/trial.md for sources).

    doubling_days : untreated volume doubling time over the run-in, days. Published cohort
        medians are 21.1 d (Ellingson et al. 2016, n = 95) and 49.6 d (Stensjøen et al. 2015,
        n = 106); the window takes a factor 3 either side of them (assumed).
    tam_share : TAMs / (TAMs + tumor cells) at baseline; 0.05 (flow cytometry of dissociated
        tumors, Parney 2009) to 0.5 (histology, "up to 50 % of tumor mass").
    min_cell_fraction : the tumor cell volume never falls below this fraction of baseline on the
        screening regimen: bevacizumab alone does not cure recurrent glioblastoma.

    Patients are also excluded when the tumor is lethal at baseline or the read-out volume at
    baseline is not measurable (below a 10 mm sphere, RANO's smallest measurable lesion): the
    trials enrolled patients with measurable disease.
    """

    doubling_days: tuple[float, float] = (7.0, 150.0)
    tam_share: tuple[float, float] = (0.05, 0.5)
    min_cell_fraction: float = 0.01


@dataclass(frozen=True)
class Design:
    """How patients are followed: run-in, follow-up, scan interval, criteria, lethal burden."""

    run_in_days: float = 28.0
    follow_up_days: float = 728.0
    assess_every_days: float = 28.0
    lethal_volume_mm3: float = LETHAL_VOLUME_MM3
    readout: str = "tumor_volume"
    criteria: ResponseCriteria = field(default_factory=ResponseCriteria)
    filters: Filters = field(default_factory=Filters)
    output_every_days: float = 7.0

    def scan_days(self) -> np.ndarray:
        """Scan days after baseline (0 = baseline)."""
        n = int(math.floor(self.follow_up_days / self.assess_every_days + 1e-9))
        return np.arange(n + 1) * float(self.assess_every_days)

    def week_days(self) -> np.ndarray:
        n = int(math.floor(self.follow_up_days / self.output_every_days + 1e-9))
        return np.arange(n + 1) * float(self.output_every_days)


def screening_scenario(base, design: Design):
    """``base`` with the run-in prepended: treatments shifted by ``run_in_days``, horizon
    ``run_in + follow_up``, weekly outputs (scans fall on the output grid)."""
    shift = float(design.run_in_days)
    treatments = []
    for reg in base.treatments:
        stop = None if reg.stop_day is None else reg.stop_day + shift
        treatments.append(dataclasses.replace(reg, start_day=reg.start_day + shift, stop_day=stop))
    return dataclasses.replace(base, duration_days=shift + float(design.follow_up_days),
                               output_every_days=float(design.output_every_days), treatments=tuple(treatments))


def _at(name: str, day: float) -> str:
    return f"{name}@{day:.10g}"


def metric_names(design: Design) -> list[str]:
    """Metrics the ensemble must return for :func:`patient_outcome`."""
    r = float(design.run_in_days)
    names = run_in_metric_names(design) + ["min_tumor_volume"]
    names += [_at("tumor_volume", r + d) for d in design.week_days()]
    if design.readout != "tumor_volume":
        names += [_at(design.readout, r + d) for d in design.scan_days()]
    return list(dict.fromkeys(names))


def run_in_scenario(base, design: Design):
    """The untreated run-in alone (stage 1 of the screening: the growth and TAM filters)."""
    return dataclasses.replace(base, duration_days=float(design.run_in_days), output_every_days=float(design.run_in_days),
                               treatments=())


def run_in_metric_names(design: Design) -> list[str]:
    r = float(design.run_in_days)
    return [_at("tumor_volume", 0.0), _at("tumor_volume", r), _at("macrophage_total", r)]


def run_in_filters(metrics: dict, design: Design, cell_density: float) -> dict:
    """Untreated doubling time and TAM share at baseline, and the first of these filters that
    fails (``filter_failed``, "" if none)."""
    r = float(design.run_in_days)
    v_start, v_base = float(metrics[_at("tumor_volume", 0.0)]), float(metrics[_at("tumor_volume", r)])
    tams = float(metrics[_at("macrophage_total", r)])
    growth = math.log(v_base / v_start) if v_base > 0 and v_start > 0 else -math.inf
    doubling = r * math.log(2.0) / growth if growth > 0 else math.inf
    tam_share = tams / (tams + v_base * cell_density) if v_base > 0 else 1.0
    f = design.filters
    failed = ""
    if not (f.doubling_days[0] <= doubling <= f.doubling_days[1]):
        failed = "untreated_growth"
    elif not (f.tam_share[0] <= tam_share <= f.tam_share[1]):
        failed = "tam_share"
    return {"doubling_days": doubling, "tam_share": tam_share, "baseline_volume": v_base,
            "passes": failed == "", "filter_failed": failed}


def _death_day(days: np.ndarray, volume: np.ndarray, lethal: float) -> float | None:
    above = np.nonzero(volume >= lethal)[0]
    if above.size == 0:
        return None
    k = int(above[0])
    if k == 0:
        return 0.0
    v0, v1 = volume[k - 1], volume[k]
    return float(days[k - 1] + (days[k] - days[k - 1]) * (lethal - v0) / (v1 - v0))


def patient_outcome(metrics: dict, design: Design, cell_density: float) -> dict:
    """Filters and read-outs of one patient from its ensemble metrics.

    Returns a dict: ``doubling_days``, ``tam_share``, ``min_cell_fraction``, ``passes`` (all
    filters), ``filter_failed`` (first failing filter or ""), ``baseline_volume``,
    ``best_response``, ``best_change``, ``progression_day``, ``death_day``, ``pfs_days``,
    ``pfs_event``, ``os_days``, ``os_event``, ``readout``.
    """
    r = float(design.run_in_days)
    weeks = design.week_days()
    cells = np.array([metrics[_at("tumor_volume", r + d)] for d in weeks], dtype=float)
    pre = run_in_filters(metrics, design, cell_density)
    v_base = pre["baseline_volume"]
    min_frac = float(metrics["min_tumor_volume"]) / v_base if v_base > 0 else 0.0
    failed = pre["filter_failed"]
    if not failed and min_frac < design.filters.min_cell_fraction:
        failed = "cured_on_monotherapy"
    elif not failed and v_base >= design.lethal_volume_mm3:
        failed = "lethal_at_baseline"
    death = _death_day(weeks, cells, design.lethal_volume_mm3)
    scans = design.scan_days()
    if death is not None:
        scans = scans[scans < death] if death > 0 else scans[:1]
    if design.readout == "tumor_volume":
        volumes = np.interp(scans, weeks, cells)
    else:
        volumes = np.array([metrics[_at(design.readout, r + d)] for d in scans], dtype=float)
    if not failed and volumes.size and volumes[0] < design.criteria.complete_response_volume:
        failed = "not_measurable_at_baseline"
    out = {"doubling_days": pre["doubling_days"], "tam_share": pre["tam_share"], "min_cell_fraction": min_frac,
           "passes": failed == "", "filter_failed": failed, "baseline_volume": v_base,
           "readout": design.readout}
    out["scan_days"] = [float(d) for d in scans]
    out["scan_change"] = [float(v / volumes[0] - 1.0) if volumes[0] > 0 else math.nan for v in volumes]
    if volumes.size and volumes[0] > 0:
        a = classify(scans, volumes, design.criteria)
        out.update(best_response=a.best_response, best_change=a.best_change, progression_day=a.progression_day,
                   response_day=a.response_day)
    else:
        out.update(best_response="NE", best_change=math.nan, progression_day=None, response_day=None)
    follow = float(design.follow_up_days)
    events = [d for d in (out["progression_day"], death) if d is not None]
    out["death_day"] = death
    out["pfs_days"] = min(events) if events else follow
    out["pfs_event"] = bool(events)
    out["os_days"] = death if death is not None else follow
    out["os_event"] = death is not None
    return out
