"""``simulate``: join a scenario, a parameter set, dosing and the solver."""
from __future__ import annotations

from typing import Iterable, Mapping

import numpy as np

from .protocol.dosing import DoseEvent, expand, snap
from .parameters.parameter_set import load_parameter_set
from .result import Result, bev_amount_nmol
from .scenario.core import Scenario
from .solvers.reference import SolverSettings, integrate


def output_times(t_start: float, t_end: float, every: float) -> np.ndarray:
    """Output grid ``t_start + k * every`` up to ``t_end``, plus ``t_end`` itself (snapped)."""
    n = int(np.floor((t_end - t_start) / every + 1e-9))
    times = [snap(t_start + k * every) for k in range(n + 1)]
    if times[-1] < snap(t_end):
        times.append(snap(t_end))
    return np.array(times)


def resolve_parameters(scenario: Scenario, parameters: Mapping[str, float] | None = None):
    """The species' parameter set with the scenario's overrides, its body weight, then
    ``parameters`` applied, in that order."""
    pset = load_parameter_set(scenario.species).with_values(dict(scenario.parameters))
    if scenario.body_weight_kg is not None:
        pset = pset.with_values({"body_weight": scenario.body_weight_kg})
    return pset.with_values(dict(parameters or {}))


def select_doses(scenario: Scenario, params, doses: Iterable[DoseEvent] = (), t_start: float = 0.0,
                 initial_state=None) -> tuple[list[DoseEvent], list[DoseEvent]]:
    """(applied, dropped) doses of a run: the scenario's regimens expanded with ``params``
    (anything ``params[name]`` works on) plus ``doses`` given directly; zero amounts are no
    event; doses after the end are dropped; states are right-continuous, so a state given at
    ``t_start`` already holds the doses at ``t_start``."""
    t_end = float(scenario.duration_days)
    applied, dropped = expand(scenario.treatments, params, t_end)
    extra = [d for d in doses if d.amount_nmol > 0]
    applied = sorted(applied + [d for d in extra if d.time <= snap(t_end)], key=lambda d: (d.time, d.regimen))
    dropped = dropped + [d for d in extra if d.time > snap(t_end)]
    first = snap(t_start)
    applied = [d for d in applied if d.time > first or (d.time == first and initial_state is None)]
    return applied, dropped


def simulate(scenario: Scenario, parameters: Mapping[str, float] | None = None,
             doses: Iterable[DoseEvent] = (), initial_state=None, t_start: float = 0.0,
             settings: SolverSettings | None = None) -> Result:
    """Simulate ``scenario`` and return a :class:`~simbev.result.Result`.

    Parameters
    ----------
    scenario : Scenario
        Species, horizon, overrides and treatment regimens.
    parameters : mapping, optional
        Further parameter overrides by public name (applied after the scenario's own).
    doses : iterable of DoseEvent, optional
        Dose events given directly, in addition to the scenario's regimens.
    initial_state : array, optional
        State vector at ``t_start`` (default: the parameter set's initial conditions with the
        scenario's overrides). With ``t_start`` it continues an earlier run: the state is
        taken as the value *after* any dose at ``t_start`` (right-continuous), so doses at
        exactly ``t_start`` are not applied again.
    t_start : float
        Start time (days); the run ends at ``scenario.duration_days``.
    settings : SolverSettings, optional
    """
    settings = settings or SolverSettings()
    pset = resolve_parameters(scenario, parameters)
    t_end = float(scenario.duration_days)
    applied, dropped = select_doses(scenario, pset, doses, t_start, initial_state)
    y0 = pset.initial_state(scenario.initial_conditions) if initial_state is None else np.asarray(initial_state, float)
    times = output_times(t_start, t_end, scenario.output_every_days)
    t, Y, stats = integrate(pset.model_parameters(), y0, t_start, t_end, times, applied, settings)
    return Result(time=t, states=Y, scenario_name=scenario.name, parameters=pset, doses=applied,
                  dropped_doses=dropped, solver=settings.as_dict(), stats=stats.as_dict(), t_start=t_start,
                  initial_bev_nmol=float(bev_amount_nmol(y0, pset)))
