"""Robustness of results to the parameters: sampling boxes, holds-fractions and their intervals.

Plain functions over plain data; only :func:`escape_evaluation` runs the model (one sweep sample).

Sampling boxes
--------------
``box(spread)``
    Every kinetic parameter drawn log-uniformly within ``[v / (1 + spread), v (1 + spread)]`` of
    its default ``v`` (a log-symmetric box: ``spread = 0.2`` is "+-20 %", ``0.5`` is "+-50 %", i.e.
    a factor 1.5 either way). Parameters whose default is 0 cannot be scaled and stay at 0.
``range``
    Every kinetic parameter drawn within its documented plausible range ``[low, high]`` (the
    ``range`` of the parameter files): log-uniformly when ``low > 0``, uniformly when
    ``low = 0`` (a log-uniform draw cannot reach 0). A degenerate range (``low = high``) is
    left at its value.

In both, parameters named in ``fixed`` (the experimental knobs, molecular weights, body weight)
are left at their defaults. Draws are made in the parameter order of the set, one uniform
number per sampled parameter, from the ``numpy.random.Generator`` passed in: the same
generator state gives the same sample.
"""
from __future__ import annotations

import contextlib
import math
import sys
from dataclasses import dataclass
from typing import Iterable, Mapping, Sequence

import numpy as np

__all__ = ["RangeFactor", "range_factors", "sample_box", "sample_ranges", "wilson_interval",
           "holds_fractions", "escape_evaluation", "solver_step_budget"]


@dataclass(frozen=True)
class RangeFactor:
    """One parameter sampled over its plausible range."""

    name: str
    value: float
    low: float
    high: float
    unit: str

    @property
    def scale(self) -> str:
        """``log`` (log-uniform) when the range is positive, ``linear`` when it starts at 0."""
        return "log" if self.low > 0 else "linear"

    def from_unit(self, u: float) -> float:
        """Map ``u`` in [0, 1] onto the range, log-uniformly or uniformly (see :attr:`scale`)."""
        if self.scale == "log":
            lo, hi = math.log(self.low), math.log(self.high)
            return float(math.exp(lo + u * (hi - lo)))
        return float(self.low + u * (self.high - self.low))


def _records(species: str):
    from ..parameters import load_parameter_set
    return load_parameter_set(species).records


def range_factors(species: str, fixed: Iterable[str] = ()) -> list[RangeFactor]:
    """The parameters of ``species`` that the ``range`` box varies, in parameter-set order.

    Left out: names in ``fixed`` and degenerate ranges (``low == high``). Raises ``ValueError``
    if a range is reversed or negative, naming the parameter.
    """
    fixed = set(fixed)
    out = []
    for name, rec in _records(species).items():
        if name in fixed:
            continue
        if rec.low < 0 or rec.high < rec.low:
            raise ValueError(f"{species}: parameter {name!r}: range [{rec.low}, {rec.high}]; expected "
                             "0 <= low <= high")
        if rec.high == rec.low:
            continue
        out.append(RangeFactor(name, rec.value, rec.low, rec.high, rec.unit))
    return out


def sample_box(species: str, rng: np.random.Generator, spread: float,
               fixed: Iterable[str] = ()) -> dict[str, float]:
    """One sample of the ``+-spread`` box (log-uniform in ``[v / (1 + spread), v (1 + spread)]``).

    Returns ``{name: value}`` for the sampled parameters only (defaults of 0 and ``fixed`` names
    are left out, so they keep their default).
    """
    if not spread > 0:
        raise ValueError(f"spread must be > 0, got {spread!r}")
    fixed = set(fixed)
    out = {}
    for name, rec in _records(species).items():
        if name in fixed or rec.value == 0:
            continue
        lo, hi = math.log(rec.value / (1 + spread)), math.log(rec.value * (1 + spread))
        out[name] = float(math.exp(rng.uniform(lo, hi)))
    return out


def sample_ranges(species: str, rng: np.random.Generator, fixed: Iterable[str] = ()) -> dict[str, float]:
    """One sample over the plausible ranges (see :func:`range_factors` for what varies and how)."""
    return {f.name: f.from_unit(rng.uniform()) for f in range_factors(species, fixed)}


def wilson_interval(successes: int, n: int, z: float = 1.959963984540054) -> tuple[float, float]:
    """Wilson score interval of a binomial proportion (95 % for the default ``z``).

    ``(centre -/+ half) / (1 + z^2/n)`` with ``centre = p + z^2/(2n)`` and
    ``half = z sqrt(p (1 - p)/n + z^2/(4 n^2))``. Unlike the Wald interval it stays inside
    [0, 1] and is not of zero width at 0 or n successes. ``n = 0`` gives ``(0, 1)``.
    """
    if n < 0 or not 0 <= successes <= n:
        raise ValueError(f"need 0 <= successes <= n, got {successes} of {n}")
    if n == 0:
        return 0.0, 1.0
    p = successes / n
    z2 = z * z
    denom = 1.0 + z2 / n
    centre = p + z2 / (2 * n)
    half = z * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n))
    return max(0.0, (centre - half) / denom), min(1.0, (centre + half) / denom)


def holds_fractions(rows: Sequence[Mapping[str, bool] | None], ids: Sequence[str],
                    z: float = 1.959963984540054) -> dict[str, dict]:
    """Per-check and joint holds-fractions of a set of samples, with Wilson intervals.

    Parameters
    ----------
    rows : one ``{check id: holds}`` per sample; ``None`` for a sample whose run failed (it
        counts as not holding, for every check and for the joint). A check missing from a row
        counts as not holding.
    ids : the checks to report; ``"joint"`` in the result is the share of samples in which
        every one of them holds.

    Returns
    -------
    ``{id or "joint": {"holds": k, "n": n, "fraction": k / n, "low": ..., "high": ...}}``.
    """
    n = len(rows)
    counts = {i: 0 for i in ids}
    joint = 0
    for row in rows:
        if row is None:
            continue
        ok = [bool(row.get(i, False)) for i in ids]
        for i, h in zip(ids, ok):
            counts[i] += h
        joint += all(ok)
    out = {}
    for key, k in [*counts.items(), ("joint", joint)]:
        lo, hi = wilson_interval(k, n, z)
        out[key] = {"holds": k, "n": n, "fraction": k / n if n else float("nan"), "low": lo, "high": hi}
    return out


# --- time to escape of one sample (an evaluation function for sweeps) -------------------------------

#: A tumor below this volume holds less than one cell at the highest plausible cell density
#: (1e6 cells/mm^3): it is eradicated and cannot progress.
ERADICATED_MM3 = 1e-6
#: Step budget of the compiled solver per run in :func:`escape_evaluation`. A bevacizumab run of
#: a year takes about 1,500 steps; runs that exhaust the budget are those whose tumor is being
#: driven towards zero (far below one cell), where the solver's step size collapses.
ESCAPE_MAX_STEPS = 10_000
#: Runs of :func:`escape_evaluation` before a sample is given up as failed (each cut shorter).
ESCAPE_ATTEMPTS = 4


def escape_evaluation(values: Mapping[str, float], scenario) -> dict:
    """Time to progression and tumor volumes of one sweep sample, for ``run_sweep(evaluate=...)``.

    Runs ``scenario`` with the sample's ``values`` applied (as the sweep does) on the compiled
    solver, with a step budget of :data:`ESCAPE_MAX_STEPS`. If the solver fails, the run is
    repeated up to the last whole day before the failure (again, if that fails too, up to
    :data:`ESCAPE_ATTEMPTS` runs in all), and the metrics are those of the shorter run. Returns ``time_to_progression`` (days from the first dose; ``None`` if no
    progression), ``final_tumor_volume`` and ``min_tumor_volume`` (mm^3, at the end of the run
    that completed), and ``tumor_volume@<day>`` for the scenario's last day: ``None`` when the
    run was cut short, so that cut runs can be counted from the table.
    """
    import dataclasses

    from ..analysis import metrics
    from .file import apply_sample
    simulate = _compiled_simulate()
    scenario, params = apply_sample(scenario, values)
    horizon = float(scenario.duration_days)
    first_dose = min((r.start_day for r in scenario.treatments), default=0.0)
    run, result = scenario, None
    with solver_step_budget(ESCAPE_MAX_STEPS):
        for _ in range(ESCAPE_ATTEMPTS):
            try:
                result = simulate(run, parameters=params)
                break
            except Exception as exc:  # noqa: BLE001 - a solver failure: keep the part that completed
                t_fail = getattr(exc, "time", None)
                end = None if t_fail is None else min(math.floor(t_fail) - 1, run.duration_days - 1)
                if end is None or end <= first_dose + 1:
                    raise
                # A shorter run ends its last segment elsewhere, so its steps (and a failure) can
                # differ near the end: cut again if it fails too.
                run = dataclasses.replace(scenario, duration_days=float(end))
        else:
            raise exc  # noqa: F821 - the last failure
    cut = run is not scenario
    nadir = metrics.min_tumor_volume(result)
    # An eradicated tumor does not progress: at 1e-17 mm^3 numerical noise exceeds the 40 % margin.
    ttp = metrics.time_to_progression(result) if nadir >= ERADICATED_MM3 else None
    return {"time_to_progression": ttp,
            "final_tumor_volume": metrics.final_tumor_volume(result),
            "min_tumor_volume": nadir,
            f"tumor_volume@{horizon:g}": None if cut else metrics.final_tumor_volume(result)}


def _compiled_simulate():
    from ..solvers.compiled import simulate
    return simulate


@contextlib.contextmanager
def solver_step_budget(max_steps: int):
    """Within the block, the compiled solver gives up after ``max_steps`` steps per run (at most
    its own budget); restored afterwards. For this process only; not thread-safe."""
    solver = sys.modules[_compiled_simulate().__module__]
    saved = getattr(solver, "MAX_STEPS", None)
    if saved is None:  # a solver without a module-level budget: nothing to lower
        yield
        return
    solver.MAX_STEPS = min(int(saved), int(max_steps))
    try:
        yield
    finally:
        solver.MAX_STEPS = saved
