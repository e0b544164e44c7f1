"""``simulate``: join a scenario, a parameter set, dosing and a solver (see
:func:`simbev.solvers.base.simulate`; ``solver="reference"`` or ``"compiled"``).

The pieces it joins live in their rooms: the output grid and the dose selection in
:mod:`simbev.protocol.events`, the parameter resolution in :mod:`simbev.scenario.core`.
"""
from __future__ import annotations

from .protocol.events import output_times, select_doses
from .scenario.core import resolve_parameters
from .solvers.base import simulate

__all__ = ["simulate", "dense", "output_times", "select_doses", "resolve_parameters"]


def dense(result, points_per_interval: int = 20, max_step: float = 0.25):
    """``result`` sampled finely enough to draw: the same scenario and parameters simulated
    again with an output step of at most ``1/points_per_interval`` of the shortest interval
    between doses (and at most ``max_step`` days), so that daily oral doses do not alias into
    zig-zags when sampled every half day. Returns ``result`` itself if it is already that fine
    or was not run from a scenario. For figures; the tables keep the scenario's own grid."""
    import dataclasses

    import numpy as np

    scenario = getattr(result, "scenario", None)
    if scenario is None or result.t_start != 0.0:
        return result
    times = np.unique([d.time for d in result.doses])
    gaps = np.diff(times)
    step = min([max_step, *(gaps[gaps > 0] / points_per_interval)]) if gaps.size else max_step
    current = float(np.min(np.diff(result.time))) if result.time.size > 1 else np.inf
    if current <= step * 1.0001:
        return result
    step = float(scenario.duration_days / np.ceil(scenario.duration_days / step))  # ends on the last day
    fine = dataclasses.replace(scenario, output_every_days=step)
    return simulate(fine, parameters=result.parameters.values())
