"""Dose events of a run and what they do to the integration: which doses apply, the output grid,
the segment boundaries, the jumps at each instant and the infusion rate on each segment.

Semantics (docs/dosing.md): states are right-continuous (the value at a dose time is the value
after the dose); an infusion is active on ``[t, t + duration)``; times compare on the 1e-9 day
grid of :func:`simbev.protocol.dosing.snap`.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Sequence

import numpy as np

from ..model.states import N_STATES, STATE_INDEX
from .dosing import DoseEvent, expand, snap
from .routes import INFUSION, JUMP, ROUTE_TABLE, jump_size

__all__ = ["output_times", "select_doses", "event_schedule", "apply_jumps", "infusion_rate", "Schedule", "schedule",
           "jump_vectors", "output_grid"]


def output_times(t_start: float, t_end: float, every: float) -> np.ndarray:
    """Output grid ``t_start + k * every`` up to ``t_end``, plus ``t_end`` itself (snapped)."""
    n = int(np.floor((t_end - t_start) / every + 1e-9))
    times = [snap(t_start + k * every) for k in range(n + 1)]
    if times[-1] < snap(t_end):
        times.append(snap(t_end))
    return np.array(times)


def output_grid(times, t_start: float, t_end: float) -> np.ndarray:
    """The requested output times, snapped, inside ``[t_start, t_end]``, sorted, without repeats."""
    return np.array(sorted({snap(t) for t in times if t_start <= snap(t) <= t_end}), dtype=float)


def select_doses(scenario, params, doses: Iterable[DoseEvent] = (), t_start: float = 0.0,
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


def event_schedule(t_start: float, t_end: float, doses) -> tuple[list[float], dict[float, list[DoseEvent]]]:
    """Segment boundaries (sorted: start, end, every dose instant and infusion start/end inside
    the run) and the jumps (bolus and oral doses) at each instant. Raises ``ValueError`` for a
    dose outside ``[t_start, t_end]``."""
    jumps: dict[float, list[DoseEvent]] = {}
    cuts = {t_start, t_end}
    for d in doses:
        if not (t_start <= d.time <= t_end):
            raise ValueError(f"dose at day {d.time} outside the run [{t_start}, {t_end}]")
        if ROUTE_TABLE[d.route].kind == INFUSION:
            cuts.add(d.time)
            if d.end < t_end:
                cuts.add(d.end)
        else:
            jumps.setdefault(d.time, []).append(d)
            cuts.add(d.time)
    return sorted(cuts), jumps


def apply_jumps(y: np.ndarray, doses: Sequence[DoseEvent], p) -> np.ndarray:
    """``y`` after the jump doses (bolus, oral) in ``doses``; ``p`` holds the model parameters
    as attributes (a batch: parameters as columns and ``y`` states x samples)."""
    y = y.copy()
    for d in doses:
        route = ROUTE_TABLE[d.route]
        if route.kind == JUMP:
            y[STATE_INDEX[route.state]] += jump_size(route, d.amount_nmol, p)
    return y


def infusion_rate(doses: Sequence[DoseEvent], t: float) -> float:
    """Total infusion rate (nmol/day) on the segment that starts at ``t``."""
    return sum(d.amount_nmol / d.duration_days for d in doses
               if ROUTE_TABLE[d.route].kind == INFUSION and d.time <= t < d.end)


@dataclass(frozen=True)
class Schedule:
    """Cuts, the dose events applied at each, and the infusion rate after each."""

    t: np.ndarray                      # cut instants, sorted; first t_start, last t_end
    jumps: tuple[tuple[DoseEvent, ...], ...]
    u: np.ndarray                      # infusion rate on [t[k], t[k+1]) (nmol/day)


def schedule(t_start: float, t_end: float, doses: Sequence[DoseEvent]) -> Schedule:
    """The :class:`Schedule` of a run (what :func:`event_schedule` and :func:`infusion_rate` give)."""
    cuts, jumps = event_schedule(t_start, t_end, doses)
    t = np.array(cuts)
    infusions = [d for d in doses if ROUTE_TABLE[d.route].kind == INFUSION]  # the only doses that set a rate
    return Schedule(t, tuple(tuple(jumps.get(c, ())) for c in t),
                    np.array([infusion_rate(infusions, c) if infusions else 0.0 for c in t], dtype=float))


def jump_vectors(sched: Schedule, p, n_samples: int) -> np.ndarray:
    """Per-sample jumps, shape (samples, cuts, states), from :func:`apply_jumps` (evaluated once
    per distinct set of doses for the whole batch: ``p`` has the parameters as columns)."""
    out = np.zeros((n_samples, sched.t.size, N_STATES))
    zero = np.zeros((N_STATES, n_samples))
    done: dict[tuple, np.ndarray] = {}  # the same doses (all but the time) give the same jump
    for c, events in enumerate(sched.jumps):
        if events:
            key = tuple((d.drug, d.route, d.amount_nmol) for d in events)
            if key not in done:
                done[key] = apply_jumps(zero, list(events), p).T
            out[:, c, :] = done[key]
    return out
