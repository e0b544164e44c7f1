"""Fast path for ensembles: compiled model, compiled stiff integrator, streamed metric rows.

``simbev.simulate`` (the reference path) integrates the Python right-hand side with LSODA and
restarts the solver at every dose. This module gives the same answers (to the solver
tolerance; ``tests/regression/test_fast.py``) much faster, for sweeps and virtual cohorts:

- **One source of equations.** The right-hand side and its exact Jacobian are generated as
  straight-line code from the expressions that the SBML export traces from
  :func:`simbev.model.rhs` (:mod:`simbev.fast_codegen`), and compiled with numba. Nothing
  here restates a rate law.
- **A compiled one-step stiff integrator** (RODAS5P, a Rosenbrock method, :mod:`simbev.fast_kernel`)
  with per-state absolute tolerances and its own continuous extension for the outputs; steps
  end on the dose instants, where the jumps are applied inside the compiled loop, at no restart
  cost (a one-step method has no history to rebuild).
- **Closed-form oral pharmacokinetics.** The mTOR inhibitor's depot and plasma compartments
  form a linear subsystem that nothing feeds back into (verified on the traced equations);
  they are computed in closed form (superposition of doses, written recursively) and enter the
  rest of the system as known inputs. Bevacizumab stays in the ODE: its central compartment
  loses drug to tumor binding (target-mediated, mass-conserving), so it is not linear.
- **Batches and processes.** Samples are integrated in compiled batches that share a dose
  schedule; :func:`ensemble` spreads batches over worker processes and streams rows back in
  sample order, so memory holds the in-flight batches only.

Compiled code is cached in a user cache directory (``$SIMBEV_CACHE_DIR``, else
``$XDG_CACHE_HOME/simbev``, else ``~/.cache/simbev``), under a name that hashes the generated
source and the numba version, so a changed model compiles anew. Without numba (an optional
dependency: ``pip install simbev[fast]``) every function here falls back to the reference path
and says so in ``Result.solver``.
"""
from __future__ import annotations

import hashlib
import importlib.util
import inspect
import math
import os
import sys
import warnings
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Iterator, Mapping, Sequence

import numpy as np

from . import kernel as _K
from ..analysis import metrics as _metrics
from ..protocol.dosing import DoseEvent, expand, snap
from ..model import PARAMETER_NAMES, ModelParameters
from ..parameters.parameter_set import ParameterSet, load_parameter_set
from ..result import Result, bev_amount_nmol
from ..scenario.core import Scenario
from ..simulation import output_times, resolve_parameters, select_doses
from .reference import SimulationError, SolverSettings, SolverStats, _apply_jumps, _infusion_rate, event_schedule
from .reference import integrate as _reference_integrate
from ..model.states import ATOL, N_STATES, STATE_NAMES, derived

__all__ = ["available", "compile_kernel", "cache_dir", "integrate", "simulate", "ensemble", "EnsembleRow",
           "Sample", "METHOD"]

#: The Rosenbrock method compiled: "RODAS5P" (default) or "RODAS4" (env SIMBEV_FAST_METHOD).
METHOD = os.environ.get("SIMBEV_FAST_METHOD", "RODAS5P").upper()
if METHOD not in ("RODAS4", "RODAS5P"):
    raise ImportError(f"SIMBEV_FAST_METHOD must be RODAS4 or RODAS5P, not {METHOD!r}")
MAX_STEPS = 500_000
_PARAM_INDEX = {name: i for i, name in enumerate(PARAMETER_NAMES)}

_STATUS_TEXT = {1: "non-finite state", 2: "step size underflow", 3: f"more than {MAX_STEPS} steps",
                4: "singular iteration matrix"}


# Compilation and cache ---------------------------------------------------------------------------

def cache_dir() -> Path:
    """Directory of the compiled-code cache (created on first use)."""
    env = os.environ.get("SIMBEV_CACHE_DIR")
    if env:
        return Path(env)
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg) if xdg else Path.home() / ".cache") / "simbev"


_KERNEL: dict[str, Any] = {}


def _numba():
    try:
        import numba
    except ImportError:
        return None
    return numba


def available() -> bool:
    """Whether the compiled fast path can run (numba importable)."""
    return _numba() is not None


def _kernel_source() -> tuple[str, Any]:
    from . import codegen as fast_codegen
    from . import kernel as fast_kernel

    gen = fast_codegen.generate_source()
    kernel = inspect.getsource(fast_kernel)
    names = ["model_prep", "model_rhs_r", "model_rhs_jac_r", "model_pk", "lin_factor", "lin_solve", "lu_factor",
             "lu_solve", "pk_closed_form", "_pk_at", "_pk_rates", "_write_output", "solve_sample", "solve_batch"]
    footer = ["", "# --- compilation (numba) ---", f"TAB_GAMMA, TAB_A, TAB_C, TAB_CT, TAB_D, TAB_EXP, TAB_H = {METHOD}",
              "from numba import njit as _njit",
              "_jit = _njit(cache=True, error_model='numpy', nogil=True, fastmath={'arcp', 'contract'})"]
    footer += [f"{name} = _jit({name})" for name in names]
    source = "\n".join([gen.source, "# --- integrator: simbev/solvers/kernel.py ---", kernel, *footer, ""])
    return source, gen


def _load_kernel():
    """The compiled kernel module, generating and importing it on first use; None without numba."""
    if "module" in _KERNEL:
        return _KERNEL["module"]
    numba = _numba()
    if numba is None:
        return None
    source, gen = _kernel_source()
    digest = hashlib.sha256((source + numba.__version__ + sys.version).encode()).hexdigest()[:16]
    name = f"simbev_fast_{digest}"
    directory = cache_dir() / "fast"
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{name}.py"
    if not path.exists() or path.read_text(encoding="utf-8") != source:
        tmp = path.with_name(f"{path.name}.{os.getpid()}.part")
        tmp.write_text(source, encoding="utf-8")
        tmp.replace(path)
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    module.GENERATED = gen
    _KERNEL["module"] = module
    return module


def compile_kernel() -> bool:
    """Generate and compile (or load from the cache) the kernel now; False without numba.

    Compilation happens on first use anyway; call this to keep it out of a timing or before
    starting worker processes (they then inherit or load the compiled code).
    """
    mod = _load_kernel()
    if mod is None:
        return False
    if not _KERNEL.get("warm"):
        base = _parameter_set("mouse")
        p = np.array([base[n] for n in PARAMETER_NAMES])
        y0 = np.ones((1, N_STATES))
        seg_t = np.array([0.0, 1e-3])
        out = np.empty((1, N_STATES, 1))
        info = np.zeros((1, _K.INFO_SIZE))
        mod.solve_batch(p[None, :], y0, seg_t, np.zeros((1, 2, N_STATES)), np.zeros(2), np.array([1e-3]),
                        1e-6, ATOL.copy(), math.inf, 100, out, info)
        _KERNEL["warm"] = True
    return True


def _reset_kernel_cache() -> None:
    """Forget the loaded kernel (tests use it to exercise the fallback)."""
    _KERNEL.clear()


# Dose schedule -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class _Schedule:
    """Cuts, the dose events applied at each, and the infusion rate after each, as
    :func:`simbev.solver.integrate` builds them."""

    t: np.ndarray                      # cut instants, sorted; first t_start, last t_end
    jumps: tuple[tuple[DoseEvent, ...], ...]
    u: np.ndarray                      # infusion rate on [t[k], t[k+1]) (nmol/day)


def _schedule(t_start: float, t_end: float, doses: Sequence[DoseEvent]) -> _Schedule:
    cuts, jumps = event_schedule(t_start, t_end, doses)
    t = np.array(cuts)
    infusions = [d for d in doses if d.route == "iv_infusion"]  # the only doses that set a rate
    return _Schedule(t, tuple(tuple(jumps.get(c, ())) for c in t),
                     np.array([_infusion_rate(infusions, c) if infusions else 0.0 for c in t], dtype=float))


def _jump_vectors(schedule: _Schedule, P: np.ndarray) -> np.ndarray:
    """Per-sample jumps, shape (samples, cuts, states), from the reference ``_apply_jumps``
    (evaluated once per cut for the whole batch: the parameters are columns)."""
    k = P.shape[0]
    p = ModelParameters(*P.T)
    out = np.zeros((k, schedule.t.size, N_STATES))
    zero = np.zeros((N_STATES, k))
    done: dict[tuple, np.ndarray] = {}  # the same doses (all but the time) give the same jump
    for c, events in enumerate(schedule.jumps):
        if events:
            key = tuple((d.drug, d.route, d.amount_nmol) for d in events)
            if key not in done:
                done[key] = _apply_jumps(zero, list(events), p).T
            out[:, c, :] = done[key]
    return out


# Single runs -------------------------------------------------------------------------------------

def _solver_record(settings: SolverSettings, fast: bool) -> dict:
    """What ``Result.solver`` says about the run."""
    if not fast:
        record = settings.as_dict()
        record["fast_path"] = "unavailable (numba not installed): reference path used"
        return record
    gen = _KERNEL["module"].GENERATED
    return {"method": METHOD, "implementation": f"simbev.fast: generated model, {METHOD} compiled with numba",
            "rtol": settings.rtol, "atol": dict(zip(STATE_NAMES, settings.atol().tolist())),
            "max_step": None if np.isinf(settings.max_step) else settings.max_step,
            "jacobian": "exact (symbolic, generated from the traced model)",
            "outputs": "steps end on every dose instant; the method's continuous extension in between",
            "pharmacokinetics": ("closed form for mtori_depot and mtori_central" if gen.pk is not None
                                 else "integrated")}


def _failure_text(info: np.ndarray) -> str:
    status = int(info[_K.INFO_STATUS])
    return f"solver {METHOD} failed ({_STATUS_TEXT.get(status, status)})"


def _stats(info: np.ndarray, cuts: int) -> SolverStats:
    """Solver statistics as :class:`simbev.solver.SolverStats`; the fast path's own in ``extra``."""
    return SolverStats(segments=max(cuts - 1, 1), steps=int(info[_K.INFO_ACCEPTED]),
                       rhs_evaluations=int(info[_K.INFO_RHS]), jacobian_evaluations=int(info[_K.INFO_JAC]),
                       lu_decompositions=int(info[_K.INFO_ACCEPTED] + info[_K.INFO_REJECTED]),
                       extra={"rejected_steps": int(info[_K.INFO_REJECTED]),
                              "dense_factorisations": int(info[_K.INFO_DENSE])})


def _run_kernel(mod, P: np.ndarray, Y0: np.ndarray, sched: _Schedule, out: np.ndarray, settings: SolverSettings):
    """Call the compiled batch solver; return (Y: samples x states x outputs, info)."""
    k = P.shape[0]
    Y = np.empty((k, N_STATES, out.size))
    info = np.zeros((k, _K.INFO_SIZE))
    mod.solve_batch(np.ascontiguousarray(P, dtype=float), np.ascontiguousarray(Y0, dtype=float), sched.t,
                    _jump_vectors(sched, P), sched.u, out, float(settings.rtol),
                    np.ascontiguousarray(settings.atol(), dtype=float), float(settings.max_step), MAX_STEPS,
                    Y, info)
    return Y, info


def integrate(p, y0, t_start: float, t_end: float, output_times, doses: list[DoseEvent],
              settings: SolverSettings = SolverSettings()):
    """Drop-in for :func:`simbev.solver.integrate`: ``(times, Y, stats)`` by the compiled path.

    Same cuts, jumps, right-continuous outputs and tolerances (``rtol``, per-state ``atol``,
    ``max_step``); ``settings.method`` is not used. ``stats`` is a
    :class:`~simbev.solver.SolverStats` with ``rejected_steps`` and ``dense_factorisations`` in
    ``extra``. Without numba, returns what :func:`simbev.solver.integrate` returns.
    Raises :class:`~simbev.solver.SimulationError` if the solver fails.
    """
    mod = _load_kernel()
    if mod is None:
        return _reference_integrate(p, y0, t_start, t_end, output_times, doses, settings)
    t_start, t_end = snap(t_start), snap(t_end)
    out = np.array(sorted({snap(t) for t in output_times if t_start <= snap(t) <= t_end}), dtype=float)
    y0 = np.asarray(y0, dtype=float)
    if not np.all(np.isfinite(y0)):
        raise SimulationError("non-finite initial state", t_start, y0, p._asdict())
    sched = _schedule(t_start, t_end, doses)
    Y, info = _run_kernel(mod, np.array(p, dtype=float)[None, :], y0[None, :], sched, out, settings)
    if info[0, _K.INFO_STATUS] != _K.OK:
        raise SimulationError(_failure_text(info[0]), float(info[0, _K.INFO_T_FAIL]), y0, p._asdict())
    return out, Y[0], _stats(info[0], sched.t.size)


def _parameter_set(species: str) -> ParameterSet:
    """The species' parameter set (cached by :func:`load_parameter_set`)."""
    return load_parameter_set(species)


def _resolve(scenario: Scenario, parameters: Mapping[str, float] | None) -> ParameterSet:
    """Parameters resolved as :func:`simbev.simulate` resolves them."""
    return resolve_parameters(scenario, parameters)


def _doses(scenario: Scenario, params, doses, t_start: float, initial_state) -> tuple[list, list]:
    """Applied and dropped doses, selected exactly as :func:`simbev.simulate` selects them."""
    return select_doses(scenario, params, doses, t_start, initial_state)


def simulate(scenario: Scenario, parameters: Mapping[str, float] | None = None,
             doses: Iterable[DoseEvent] = (), initial_state=None, t_start: float = 0.0,
             settings: SolverSettings | None = None) -> Result:
    """Drop-in for :func:`simbev.simulate` by the compiled path: same arguments, same Result.

    ``Result.solver`` says which path ran; without numba it is the reference path.
    """
    settings = settings or SolverSettings()
    fast = _load_kernel() is not None
    pset = _resolve(scenario, parameters)
    applied, dropped = _doses(scenario, pset, list(doses), t_start, initial_state)
    y0 = pset.initial_state(scenario.initial_conditions) if initial_state is None else np.asarray(initial_state, float)
    times = output_times(t_start, float(scenario.duration_days), scenario.output_every_days)
    t, Y, stats = integrate(pset.model_parameters(), y0, t_start, float(scenario.duration_days), times, applied,
                            settings)
    return Result(time=t, states=Y, scenario_name=scenario.name, parameters=pset, doses=applied,
                  dropped_doses=dropped, solver=_solver_record(settings, fast), stats={**stats.as_dict(), **stats.extra},
                  t_start=t_start, initial_bev_nmol=float(bev_amount_nmol(y0, pset)))


# Ensembles ---------------------------------------------------------------------------------------

Sample = Mapping[str, float]


@dataclass
class EnsembleRow:
    """One sample of an ensemble.

    ``metrics`` maps each requested metric to its value (``None`` where the event it measures
    never happens, as in :mod:`simbev.metrics`). A failed sample has ``status == "failed"``,
    empty ``metrics`` and the reason in ``error``. ``result`` is the sample's full
    :class:`~simbev.result.Result` if its index was listed in ``trajectories``, else ``None``.
    ``steps`` counts accepted solver steps.
    """

    index: int
    status: str
    metrics: dict = field(default_factory=dict)
    error: str | None = None
    steps: int = 0
    result: Result | None = None


@dataclass(frozen=True)
class _Job:
    """A batch of samples for one worker call (picklable)."""

    scenario: Scenario
    start: int                     # index of the first sample
    samples: tuple                 # parameter overrides, one dict per sample
    metrics: tuple
    rtol: float
    atol_scale: float
    max_step: float
    keep: frozenset                # indices whose Result is returned
    use_fast: bool


def _row(index: int, result: Result, names: Sequence[str], keep: bool) -> EnsembleRow:
    """Metrics of one result as a row; a metric that raises fails the row (with its reason)."""
    values, errors = {}, []
    for name in names:
        try:
            v = _metrics.compute(result, [name])[name]
            values[name] = None if v is None else float(v)
        except Exception as exc:  # noqa: BLE001 - one sample's bad metric is its row's error
            errors.append(f"metric {name}: {type(exc).__name__}: {exc}")
    steps = int(result.stats.get("steps") or 0)
    if errors:
        return EnsembleRow(index, "failed", {}, "; ".join(errors), steps, result if keep else None)
    return EnsembleRow(index, "ok", values, None, steps, result if keep else None)


def _failed(index: int, exc: BaseException, steps: int = 0) -> EnsembleRow:
    return EnsembleRow(index, "failed", {}, " ".join(f"{type(exc).__name__}: {exc}".split()), steps)


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
    :func:`simbev.states.derived`); only for computing metrics inside :func:`_run_job`."""

    def __init__(self, time, states, doses, dropped, derived_outputs, steps, scenario_name):
        self.time, self.states, self.doses, self.dropped_doses = time, states, doses, dropped
        self.scenario_name, self.parameters, self.solver = scenario_name, None, {}
        self.stats, self.t_start, self.initial_bev_nmol, self.extra = {"steps": steps}, 0.0, 0.0, {}
        self._derived = derived_outputs


def _run_job_reference(job: _Job, settings: SolverSettings) -> list[EnsembleRow]:
    from ..simulation import simulate as reference

    rows = []
    for k, sample in enumerate(job.samples):
        index = job.start + k
        try:
            result = reference(job.scenario, parameters=sample, settings=settings)
        except Exception as exc:  # noqa: BLE001 - a failed sample is a row, not the end of the run
            rows.append(_failed(index, exc))
            continue
        rows.append(_row(index, result, job.metrics, index in job.keep))
    return rows


_SCHEDULES: dict = {}
_READS: dict = {}


def _treatments_key(scenario: Scenario) -> tuple:
    return (scenario.treatments, tuple(r.index for r in scenario.treatments), float(scenario.duration_days))


def _expansion_reads(scenario: Scenario, base: np.ndarray) -> list[str]:
    """Names of the parameters that :func:`simbev.dosing.expand` reads for this scenario."""
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
        applied, dropped = _doses(scenario, dict(zip(PARAMETER_NAMES, vec)), (), 0.0, None)
        hit = (applied, dropped, _schedule(0.0, t_end, applied))
        if len(_SCHEDULES) > 64:
            _SCHEDULES.clear()
        _SCHEDULES[full] = hit
    return hit


def _run_job(job: _Job) -> list[EnsembleRow]:
    """Rows of one batch of samples, in order. Never raises for a bad sample."""
    settings = SolverSettings(rtol=job.rtol, atol_scale=job.atol_scale, max_step=job.max_step)
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")  # a diverging sample says so in its row
        mod = _load_kernel() if job.use_fast else None
        if mod is None:
            return _run_job_reference(job, settings)
        scenario = job.scenario
        pset = _resolve(scenario, None)
        base = np.array([pset[n] for n in PARAMETER_NAMES], dtype=float)
        y0 = pset.initial_state(scenario.initial_conditions)
        t_end = snap(float(scenario.duration_days))
        out = np.array(sorted({snap(t) for t in output_times(0.0, t_end, scenario.output_every_days)
                               if 0.0 <= snap(t) <= t_end}), dtype=float)
        rows: list[EnsembleRow | None] = [None] * len(job.samples)
        vectorise = _Vectoriser(base)
        # One dose schedule per group of samples that agree on the parameters dose expansion
        # reads (found by watching it read them: body weight and molecular weights).
        key_index = [_PARAM_INDEX[n] for n in _expansion_reads(scenario, base)]
        groups: dict[tuple, list[tuple[int, np.ndarray]]] = {}
        for k, sample in enumerate(job.samples):
            try:
                vec = vectorise(sample)
            except (KeyError, ValueError, TypeError) as exc:
                rows[k] = _failed(job.start + k, exc)
                continue
            groups.setdefault(tuple(vec[key_index]), []).append((k, vec))
        for key, members in groups.items():
            P = np.array([vec for _, vec in members])
            try:
                applied, dropped, sched = _cached_schedule(scenario, key, P[0], t_end)
                Y, info = _run_kernel(mod, P, np.repeat(y0[None, :], len(members), axis=0), sched, out, settings)
            except Exception as exc:  # noqa: BLE001
                for k, _ in members:
                    rows[k] = _failed(job.start + k, exc)
                continue
            batch_derived = derived(np.moveaxis(Y, 1, 0))  # name -> (samples, outputs)
            for m, (k, _) in enumerate(members):
                index = job.start + k
                if info[m, _K.INFO_STATUS] != _K.OK:
                    rows[k] = EnsembleRow(index, "failed", {}, f"SimulationError: {_failure_text(info[m])} at "
                                          f"t = {info[m, _K.INFO_T_FAIL]:.6g} day", int(info[m, _K.INFO_ACCEPTED]))
                    continue
                keep = index in job.keep
                if keep:  # a full Result, as simulate() returns it
                    sample_pset = _resolve(scenario, job.samples[k])
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
                rows[k] = _row(index, result, job.metrics, keep)
    return rows


def ensemble(scenario: Scenario, samples: Iterable[Sample],
             metrics: Sequence[str] = _metrics.RESPONSE_METRICS, *, settings: SolverSettings | None = None,
             workers: int = 1, batch_size: int = 32, trajectories: Iterable[int] = (),
             fast: bool = True) -> Iterator[EnsembleRow]:
    """Run ``scenario`` once per sample of parameter overrides; yield one row per sample.

    Parameters
    ----------
    scenario : Scenario
        Species, horizon, overrides, treatments, output grid. Each sample's values override its
        parameters, as ``simbev.simulate(scenario, parameters=sample)`` would.
    samples : iterable of mappings ``{parameter name: value}``
        Consumed lazily, ``batch_size`` at a time: a generator of any length is fine.
    metrics : metric names
        Anything :func:`simbev.metrics.compute` accepts, computed on the scenario's output grid.
    settings : SolverSettings
        ``rtol``, ``atol_scale`` and ``max_step`` are honoured (``method`` is not).
    workers : int
        Worker processes; 1 runs in this process.
    batch_size : int
        Samples per compiled call (and per task sent to a worker).
    trajectories : sample indices
        The rows of these samples carry their full :class:`~simbev.result.Result`.
    fast : bool
        False runs the reference path (same rows, slowly), for checks.

    Yields
    ------
    EnsembleRow, in sample order. At most ``2 * workers`` batches are in flight and finished
    rows are handed over at once, so memory does not grow with the number of samples.
    The rows do not depend on ``workers`` or ``batch_size``.
    """
    settings = settings or SolverSettings()
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    if workers < 1:
        raise ValueError(f"workers must be >= 1, got {workers}")
    use_fast = bool(fast) and compile_kernel()  # before any worker starts: they inherit or load it
    keep = frozenset(int(i) for i in trajectories)
    metrics = tuple(metrics)
    for name in metrics:  # an unknown name would fail every row: refuse it now
        if name not in _metrics.METRICS and not _metrics._AT.match(name):
            raise KeyError(_metrics._unknown(name))

    def jobs() -> Iterator[_Job]:
        start, chunk = 0, []
        for sample in samples:
            chunk.append(dict(sample))
            if len(chunk) == batch_size:
                yield _Job(scenario, start, tuple(chunk), metrics, settings.rtol, settings.atol_scale,
                           settings.max_step, keep, use_fast)
                start += len(chunk)
                chunk = []
        if chunk:
            yield _Job(scenario, start, tuple(chunk), metrics, settings.rtol, settings.atol_scale,
                       settings.max_step, keep, use_fast)

    if workers == 1:
        for job in jobs():
            yield from _run_job(job)
        return
    with ProcessPoolExecutor(max_workers=workers) as pool:
        pending: dict = {}
        finished_rows: dict[int, list[EnsembleRow]] = {}
        next_start = 0
        source = jobs()
        exhausted = False
        while True:
            while not exhausted and len(pending) < 2 * workers:
                job = next(source, None)
                if job is None:
                    exhausted = True
                else:
                    pending[pool.submit(_run_job, job)] = job.start
            if not pending:
                break
            done, _ = wait(list(pending), return_when=FIRST_COMPLETED)
            for future in done:
                finished_rows[pending.pop(future)] = future.result()
            while next_start in finished_rows:
                rows = finished_rows.pop(next_start)
                yield from rows
                next_start += len(rows)
