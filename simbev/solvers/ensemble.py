"""Ensembles: one scenario run for many parameter samples, streamed as rows of metrics.

Samples are integrated by the compiled solver (:mod:`simbev.solvers.compiled`) in batches that
share a dose schedule. A :class:`Batch` is plain, picklable data and :func:`run_batch` turns it
into rows; :func:`ensemble` cuts the samples into batches, runs them on an executor
(:mod:`simbev.solvers.executors`: in this process, in worker processes or on Dask) and streams
rows back in sample order, so memory holds the in-flight batches only. Sweeps build their own
batches (:mod:`simbev.sweeps.run`) and run them through :func:`run_batch` on the same executors.
Without numba, or with ``fast=False``, every sample runs on the reference path (same rows, slowly).
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Iterable, Iterator, Mapping, Sequence

import numpy as np

from ..analysis import metrics as _metrics
from ..model import PARAMETER_NAMES
from ..model.states import derived
from ..protocol.dosing import expand, snap
from ..protocol.events import output_grid, output_times, schedule, select_doses
from ..result import Result, bev_amount_nmol
from ..scenario.core import Scenario, resolve_parameters
from . import kernel as _K
from .base import MASS_BALANCE_TOLERANCE, mass_balance_residual
from .compiled import _PARAM_INDEX, _load_kernel, _run_kernel, _solver_record, _stats, compile_kernel
from .executors import Executor, TaskFailure, make_executor
from .reference import SolverSettings

__all__ = ["ensemble", "EnsembleRow", "Sample", "Batch", "run_batch"]


# Ensembles ---------------------------------------------------------------------------------------

Sample = Mapping[str, float]


@dataclass
class EnsembleRow:
    """One sample of an ensemble.

    ``metrics`` maps each requested metric to its value (``None`` where the event it measures
    never happens, as in :mod:`simbev.analysis.metrics`). A failed sample has ``status == "failed"``,
    empty ``metrics`` and the reason in ``error``. ``result`` is the sample's full
    :class:`~simbev.result.Result` if its index was listed in ``trajectories``, else ``None``.
    ``steps`` counts accepted solver steps. ``info`` says what the run covered:
    ``treatment_start_day`` (``None`` if untreated), ``end_day``, ``followup_days`` (from the
    first dose, or the start of an untreated run, to the end) and ``solver_steps``; it is empty
    for a failed sample.
    """

    index: int
    status: str
    metrics: dict = field(default_factory=dict)
    error: str | None = None
    steps: int = 0
    result: Result | None = None
    info: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Batch:
    """Samples of one scenario for one call of :func:`run_batch` (picklable, for an executor).

    ``samples`` holds one mapping of parameter overrides per sample, numbered from ``start``;
    the rows of the indices in ``keep`` carry their full Result. ``use_fast=False`` runs the
    reference path.
    """

    scenario: Scenario
    start: int
    samples: tuple
    metrics: tuple
    rtol: float = SolverSettings.rtol
    atol_scale: float = SolverSettings.atol_scale
    max_step: float = SolverSettings.max_step
    keep: frozenset = frozenset()
    use_fast: bool = True


def _error_text(exc: BaseException) -> str:
    """An exception as one line: ``Type: message``."""
    return " ".join(f"{type(exc).__name__}: {exc}".split())


def _row(index: int, result: Result, names: Sequence[str], keep: bool) -> EnsembleRow:
    """Metrics of one result as a row; a metric that raises fails the row (with its reason)."""
    values, errors = {}, []
    for name in names:
        try:
            v = _metrics.compute(result, [name])[name]
            values[name] = None if v is None else float(v)
        except Exception as exc:  # noqa: BLE001 - one sample's bad metric is its row's error
            errors.append(f"metric {name}: {_error_text(exc)}")
    steps = int(result.stats.get("steps") or 0)
    if errors:
        return EnsembleRow(index, "failed", {}, "; ".join(errors), steps, result if keep else None)
    end = float(result.time[-1])
    info = {"treatment_start_day": _metrics.treatment_start(result), "end_day": end,
            "followup_days": float(end - _metrics.reference_start(result)),
            "solver_steps": result.stats.get("steps")}
    return EnsembleRow(index, "ok", values, None, steps, result if keep else None, info)


def _failed(index: int, exc: BaseException, steps: int = 0) -> EnsembleRow:
    return EnsembleRow(index, "failed", {}, _error_text(exc), steps)


class _Vectoriser:
    """Parameter vectors (PARAMETER_NAMES order) of samples, validated as ParameterSet does.

    Samples of a cohort share their keys: the name-to-index look-up is done once per key set.
    """

    def __init__(self, base: np.ndarray):
        self.base = base
        self.keys: tuple | None = None
        self.index: np.ndarray | None = None

    def __call__(self, sample: Sample) -> np.ndarray:
        keys = tuple(sample)
        if keys != self.keys:
            unknown = [k for k in keys if k not in _PARAM_INDEX]
            if unknown:
                raise KeyError(f"unknown parameter {unknown[0]!r}")
            self.keys, self.index = keys, np.array([_PARAM_INDEX[k] for k in keys], dtype=np.intp)
        values = np.array([float(v) for v in sample.values()])
        if not np.all(np.isfinite(values)):
            name = keys[int(np.argmin(np.isfinite(values)))]
            raise ValueError(f"parameter {name!r} must be finite, got {sample[name]!r}")
        vec = self.base.copy()
        vec[self.index] = values
        return vec


class _RecordingParams(dict):
    """A parameter mapping that records which names are read."""

    def __init__(self, *args):
        super().__init__(*args)
        self.read: set[str] = set()

    def __getitem__(self, name):
        self.read.add(name)
        return super().__getitem__(name)


class _GridResult(Result):
    """A Result whose derived outputs were computed for a whole batch at once (by the same
    :func:`simbev.model.states.derived`); only for computing metrics inside :func:`run_batch`."""

    def __init__(self, time, states, doses, dropped, derived_outputs, steps, scenario_name):
        self.time, self.states, self.doses, self.dropped_doses = time, states, doses, dropped
        self.scenario_name, self.parameters, self.solver = scenario_name, None, {}
        self.stats, self.t_start, self.initial_bev_nmol, self.extra = {"steps": steps}, 0.0, 0.0, {}
        self._derived = derived_outputs
        self.scenario, self._metrics = None, {}


def _single(batch: Batch, k: int, settings: SolverSettings, solver: str) -> EnsembleRow:
    """Row of sample ``k`` of ``batch`` run on its own by :func:`simbev.solvers.base.simulate`."""
    from .base import simulate

    index = batch.start + k
    try:
        result = simulate(batch.scenario, parameters=batch.samples[k], settings=settings, solver=solver)
    except Exception as exc:  # noqa: BLE001 - a failed sample is a row, not the end of the run
        return _failed(index, exc)
    return _row(index, result, batch.metrics, index in batch.keep)


_SCHEDULES: dict = {}
_READS: dict = {}


def _treatments_key(scenario: Scenario) -> tuple:
    return (scenario.treatments, tuple(r.index for r in scenario.treatments), float(scenario.duration_days))


def _expansion_reads(scenario: Scenario, base: np.ndarray) -> list[str]:
    """Names of the parameters that :func:`simbev.protocol.dosing.expand` reads for this scenario."""
    key = _treatments_key(scenario)
    if key not in _READS:
        reads = _RecordingParams(zip(PARAMETER_NAMES, base))
        expand(scenario.treatments, reads, float(scenario.duration_days))
        _READS[key] = sorted(reads.read)
    return _READS[key]



def _cached_schedule(scenario: Scenario, key: tuple, vec: np.ndarray, t_end: float):
    """(applied doses, dropped doses, schedule) of a scenario for the dose-expansion parameter
    values ``key``, kept for the next batch in this process (a long dosing regimen takes
    milliseconds to expand)."""
    full = (_treatments_key(scenario), key)
    hit = _SCHEDULES.get(full)
    if hit is None:
        applied, dropped = select_doses(scenario, dict(zip(PARAMETER_NAMES, vec)), (), 0.0, None)
        hit = (applied, dropped, schedule(0.0, t_end, applied))
        if len(_SCHEDULES) > 64:
            _SCHEDULES.clear()
        _SCHEDULES[full] = hit
    return hit


def run_batch(batch: Batch) -> list[EnsembleRow]:
    """Rows of one batch of samples, in order. Never raises for a bad sample.

    The samples are integrated together by the compiled kernel. A sample the kernel fails on is
    run again on its own by ``simulate(..., solver="compiled")``, so that its row holds exactly
    what a single run gives (its result, or its error) whether or not it ran in a batch.
    """
    settings = SolverSettings(rtol=batch.rtol, atol_scale=batch.atol_scale, max_step=batch.max_step)
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")  # a diverging sample says so in its row
        mod = _load_kernel() if batch.use_fast else None
        if mod is None:
            return [_single(batch, k, settings, "reference") for k in range(len(batch.samples))]
        scenario = batch.scenario
        try:
            pset = resolve_parameters(scenario, None)
            base = np.array([pset[n] for n in PARAMETER_NAMES], dtype=float)
            y0 = pset.initial_state(scenario.initial_conditions)
            t_end = snap(float(scenario.duration_days))
            out = output_grid(output_times(0.0, t_end, scenario.output_every_days), 0.0, t_end)
            # One dose schedule per group of samples that agree on the parameters dose expansion
            # reads (found by watching it read them: body weight and molecular weights).
            key_index = [_PARAM_INDEX[n] for n in _expansion_reads(scenario, base)]
        except Exception:  # noqa: BLE001 - e.g. a regimen that cannot be expanded: each
            # sample's own run says so in its row
            return [_single(batch, k, settings, "compiled") for k in range(len(batch.samples))]
        rows: list[EnsembleRow | None] = [None] * len(batch.samples)
        vectorise = _Vectoriser(base)
        groups: dict[tuple, list[tuple[int, np.ndarray]]] = {}
        for k, sample in enumerate(batch.samples):
            try:
                vec = vectorise(sample)
            except (KeyError, ValueError, TypeError) as exc:
                rows[k] = _failed(batch.start + k, exc)
                continue
            groups.setdefault(tuple(vec[key_index]), []).append((k, vec))
        for key, members in groups.items():
            P = np.array([vec for _, vec in members])
            try:
                applied, dropped, sched = _cached_schedule(scenario, key, P[0], t_end)
                Y, info = _run_kernel(mod, P, np.repeat(y0[None, :], len(members), axis=0), sched, out, settings)
            except Exception as exc:  # noqa: BLE001
                for k, _ in members:
                    rows[k] = _failed(batch.start + k, exc)
                continue
            batch_derived = derived(np.moveaxis(Y, 1, 0))  # name -> (samples, outputs)
            for m, (k, _) in enumerate(members):
                index = batch.start + k
                if info[m, _K.INFO_STATUS] != _K.OK:  # rare: the single run says why, with the state
                    # (the compiled single run falls back to the reference path, as `simbev run` runs it)
                    rows[k] = _single(batch, k, settings, "compiled")
                    continue
                if mass_balance_residual(out, Y[m], dict(zip(PARAMETER_NAMES, members[m][1])), applied,
                                         bev_amount_nmol(y0, pset)) > MASS_BALANCE_TOLERANCE:
                    # refused by a single run too: run it as `simbev run` does, so both agree
                    rows[k] = _single(batch, k, settings, "reference")
                    continue
                keep = index in batch.keep
                if keep:  # a full Result, as simulate() returns it
                    sample_pset = resolve_parameters(scenario, batch.samples[k])
                    stats = _stats(info[m], sched.t.size)
                    result = Result(time=out.copy(), states=Y[m].copy(), scenario_name=scenario.name,
                                    parameters=sample_pset, doses=applied, dropped_doses=dropped,
                                    solver=_solver_record(settings, True), stats={**stats.as_dict(), **stats.extra},
                                    initial_bev_nmol=float(bev_amount_nmol(y0, sample_pset)))
                else:
                    # Only for the metrics, which read times, outputs and doses: no ParameterSet
                    # is built per sample (that would cost more than the integration).
                    result = _GridResult(out, Y[m], applied, dropped, {name: values[m] for name, values in
                                                                        batch_derived.items()},
                                         int(info[m, _K.INFO_ACCEPTED]), scenario.name)
                rows[k] = _row(index, result, batch.metrics, keep)
    return rows


def ensemble(scenario: Scenario, samples: Iterable[Sample],
             metrics: Sequence[str] = _metrics.RESPONSE_METRICS, *, settings: SolverSettings | None = None,
             workers: int = 1, batch_size: int = 32, trajectories: Iterable[int] = (),
             fast: bool = True, executor: Executor | None = None) -> Iterator[EnsembleRow]:
    """Run ``scenario`` once per sample of parameter overrides; yield one row per sample.

    Parameters
    ----------
    scenario : Scenario
        Species, horizon, overrides, treatments, output grid. Each sample's values override its
        parameters, as ``simbev.simulate(scenario, parameters=sample)`` would.
    samples : iterable of mappings ``{parameter name: value}``
        Consumed lazily, ``batch_size`` at a time: a generator of any length is fine.
    metrics : metric names
        Anything :func:`simbev.analysis.metrics.compute` accepts, computed on the scenario's output grid.
    settings : SolverSettings
        ``rtol``, ``atol_scale`` and ``max_step`` are honoured (``method`` is not).
    workers : int
        Worker processes; 1 runs in this process. Ignored if ``executor`` is given.
    batch_size : int
        Samples per compiled call (and per task sent to a worker).
    trajectories : sample indices
        The rows of these samples carry their full :class:`~simbev.result.Result`.
    fast : bool
        False runs the reference path (same rows, slowly), for checks.
    executor : Executor, optional
        Where the batches run (:mod:`simbev.solvers.executors`: serial, processes, Dask); left
        open for the caller to reuse. By default ``make_executor(workers)``, closed at the end.

    Yields
    ------
    EnsembleRow, in sample order. At most the executor's window of batches (``2 * workers``
    for local processes) is in flight and finished rows are handed over at once, so memory
    does not grow with the number of samples. The rows do not depend on ``workers``,
    ``batch_size`` or the executor.
    """
    settings = settings or SolverSettings()
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    if executor is None and (isinstance(workers, bool) or not isinstance(workers, int) or workers < 1):
        raise ValueError(f"workers must be a whole number >= 1, got {workers!r}")
    use_fast = bool(fast) and compile_kernel()  # before any worker starts: they inherit or load it
    keep = frozenset(int(i) for i in trajectories)
    metrics = tuple(metrics)
    for name in metrics:  # an unknown name would fail every row: refuse it now
        if name not in _metrics.METRICS and not _metrics.parse_at(name):
            raise KeyError(_metrics._unknown(name))

    def batches() -> Iterator[Batch]:
        start, chunk = 0, []
        for sample in samples:
            chunk.append(dict(sample))
            if len(chunk) == batch_size:
                yield Batch(scenario, start, tuple(chunk), metrics, settings.rtol, settings.atol_scale,
                            settings.max_step, keep, use_fast)
                start += len(chunk)
                chunk = []
        if chunk:
            yield Batch(scenario, start, tuple(chunk), metrics, settings.rtol, settings.atol_scale,
                        settings.max_step, keep, use_fast)

    own = executor is None
    ex = make_executor(workers) if own else executor
    try:
        finished: dict[int, list[EnsembleRow]] = {}
        next_start = 0
        for batch, rows in ex.map_unordered(run_batch, batches()):
            if isinstance(rows, TaskFailure):  # the executor gave up on the batch (Dask: KilledWorker)
                rows = [EnsembleRow(batch.start + k, "failed", {}, rows.message) for k in range(len(batch.samples))]
            finished[batch.start] = rows
            while next_start in finished:
                ready = finished.pop(next_start)
                yield from ready
                next_start += len(ready)
    finally:
        if own:
            ex.close()
