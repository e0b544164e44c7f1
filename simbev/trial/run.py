"""Run a virtual population on one or more regimens (the arms of a trial).

Every arm gives every patient of the population the arm's regimen, with the population's own
design (untreated run-in, follow-up, scan interval, lethal burden, response criteria), through
the compiled batched ensemble. Patients are the same in every arm: differences between arms
are the regimens' alone.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

from ..analysis.response import ResponseCriteria
from ..errors import InputError
from .outcomes import Design, Filters, metric_names, patient_outcome, readout_name, screening_scenario
from .statistics import summarize

__all__ = ["Arm", "design_of", "run_arm", "run_trial"]


@dataclass
class Arm:
    """One arm: its scenario, the patients' outcomes (in population order) and the statistics."""

    name: str
    scenario: object
    source: str | None
    patients: list = field(default_factory=list)   # dicts: id, parameters, covariates, outcome
    failed: list = field(default_factory=list)     # (id, error)
    stats: dict = field(default_factory=dict)


def design_of(population: dict, assess_every_days: float | None = None) -> Design:
    """The population's follow-up design (as it was built); ``assess_every_days`` replaces its
    scan interval (to follow another trial's schedule)."""
    d = population["design"]
    crit = ResponseCriteria(**d["criteria"])
    filt = d.get("filters") or {}
    filters = Filters(tuple(filt.get("doubling_days", Filters().doubling_days)),
                      tuple(filt.get("tam_share", Filters().tam_share)),
                      float(filt.get("min_cell_fraction", Filters().min_cell_fraction)))
    readout = readout_name()
    return Design(run_in_days=float(d["run_in_days"]), follow_up_days=float(d["follow_up_days"]),
                  assess_every_days=float(assess_every_days or d["assess_every_days"]), lethal_volume_mm3=float(d["lethal_volume_mm3"]),
                  readout=readout, criteria=crit, filters=filters)


def run_arm(population: dict, scenario, workers: int = 1, source: str | None = None,
            batch_size: int = 32, assess_every_days: float | None = None) -> Arm:
    """Simulate every patient of ``population`` on ``scenario``'s regimen (scans every
    ``assess_every_days``, default the population's)."""
    from ..solvers.ensemble import ensemble
    from ..parameters import load_parameter_set

    if scenario.species != population.get("species", "human"):
        raise InputError(message=f"{source or scenario.name}: species {scenario.species!r}; the population "
                                 f"{population['name']!r} is of {population.get('species', 'human')} patients "
                                 "(use a human scenario, e.g. configs/scenarios/bevacizumab_human.yaml)")
    if not scenario.treatments:
        raise InputError(message=f"{source or scenario.name}: the scenario has no treatments; a trial arm needs "
                                 "a regimen")
    design = design_of(population, assess_every_days)
    full = screening_scenario(scenario, design)
    names = metric_names(design)
    base = load_parameter_set("human")
    patients = sorted(population["patients"], key=lambda p: (p["parameters"].get("body_weight", 0.0), p["index"]))
    arm = Arm(scenario.name, scenario, source)
    results = {}
    for row in ensemble(full, (p["parameters"] for p in patients), names, workers=workers, batch_size=batch_size):
        p = patients[row.index]
        if row.status != "ok":
            arm.failed.append((p["id"], row.error))
            continue
        density = p["parameters"].get("tumor_cell_density", base["tumor_cell_density"])
        results[p["id"]] = patient_outcome(row.metrics, design, density)
    for p in population["patients"]:  # back to population order
        if p["id"] in results:
            arm.patients.append({"id": p["id"], "parameters": p["parameters"], "covariates": p.get("covariates", {}),
                                 "outcome": results[p["id"]]})
    if not arm.patients:
        raise InputError(message=f"{source or scenario.name}: every patient's simulation failed "
                                 f"(first error: {arm.failed[0][1] if arm.failed else '?'})")
    arm.stats = summarize([p["outcome"] for p in arm.patients])
    return arm


def run_trial(population: dict, scenarios, workers: int = 1, sources=None) -> list[Arm]:
    """One :class:`Arm` per scenario; arm names made unique."""
    arms, seen = [], {}
    for k, sc in enumerate(scenarios):
        arm = run_arm(population, sc, workers=workers, source=None if sources is None else sources[k])
        count = seen.get(arm.name, 0)
        seen[arm.name] = count + 1
        if count:
            arm.name = f"{arm.name}_{count + 1}"
        arms.append(arm)
    return arms


def finite_or_none(x):
    return x if isinstance(x, (int, float)) and math.isfinite(x) else None
