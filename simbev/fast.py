"""Fast path for ensembles: compiled model, compiled stiff integrator, streamed metric rows.

``simbev.simulate`` (the reference path) integrates the Python right-hand side with LSODA and
restarts the solver at every dose. This module gives the same answers (to the solver
tolerance; ``tests/regression/test_fast.py``) much faster, for sweeps and virtual cohorts:

- **One source of equations.** The right-hand side and its exact Jacobian are generated as
  straight-line code from the expressions that the SBML export traces from
  :func:`simbev.model.rhs` (:mod:`simbev.fast_codegen`), and compiled with numba. Nothing
  here restates a rate law.
- **A compiled one-step stiff integrator** (RODAS4, :mod:`simbev.fast_kernel`) with per-state
  absolute tolerances; steps end on the dose instants, where the jumps are applied inside the
  compiled loop, with no restart cost (no history to rebuild).
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

import functools
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

from . import fast_kernel as _K
from . import metrics as _metrics
from .dosing import DoseEvent, expand, snap
from .model import DOSING_PARAMETERS, PARAMETER_NAMES, ModelParameters
from .parameters import ParameterSet, load_parameter_set
from .result import Result, bev_amount_nmol
from .scenario import Scenario
from .simulation import output_times
from .solver import SimulationError, SolverSettings, _apply_jumps, _infusion_rate
from .solver import integrate as _reference_integrate
from .states import ATOL, N_STATES, STATE_NAMES

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
    from . import fast_codegen, fast_kernel

    gen = fast_codegen.generate_source()
    kernel = inspect.getsource(fast_kernel)
    names = ["model_prep", "model_rhs", "model_rhs_jac", "model_pk", "lin_factor", "lin_solve", "lu_factor",
             "lu_solve", "_solve",
             "pk_closed_form", "_pk_at", "_full_state", "_rhs_reduced", "_rhs_jac_reduced", "_write_output",
             "solve_sample", "solve_batch"]
    footer = ["", "# --- compilation (numba) ---", f"TAB_GAMMA, TAB_A, TAB_C, TAB_CT, TAB_D, TAB_EXP, TAB_H = {METHOD}",
              "from numba import njit as _njit",
              "_jit = _njit(cache=True, error_model='numpy', nogil=True, fastmath={'arcp', 'contract'})"]
    footer += [f"{name} = _jit({name})" for name in names]
    source = "\n".join([gen.source, "# --- integrator: simbev/fast_kernel.py ---", kernel, *footer, ""])
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
    jumps: dict[float, list[DoseEvent]] = {}
    cuts = {t_start, t_end}
    for d in doses:
        if not (t_start <= d.time <= t_end):
            raise ValueError(f"dose at day {d.time} outside the run [{t_start}, {t_end}]")
        if d.route == "iv_infusion":
            cuts.add(d.time)
            if d.end < t_end:
                cuts.add(d.end)
        else:
            jumps.setdefault(d.time, []).append(d)
            cuts.add(d.time)
    t = np.array(sorted(cuts))
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
    if not fast:
        record = settings.as_dict()
        record["fast_path"] = "unavailable (numba not installed): reference path used"
        return record
    gen = _KERNEL["module"].GENERATED
    return {"method": METHOD, "implementation": "simbev.fast (generated model + RODAS4, compiled with numba)",
            "rtol": settings.rtol, "atol": dict(zip(STATE_NAMES, settings.atol().tolist())),
            "max_step": None if np.isinf(settings.max_step) else settings.max_step,
            "jacobian": "exact (symbolic, generated from the traced model)",
            "outputs": "steps end on dose instants; cubic Hermite between steps",
            "pharmacokinetics": ("closed form for mtori_depot, mtori_central" if gen.pk is not None
                                 else "integrated")}


def _raise_failure(info: np.ndarray, p, y0) -> None:
    status = int(info[0])
    raise SimulationError(f"solver {METHOD} failed ({_STATUS_TEXT.get(status, status)})", float(info[5]),
                          np.asarray(y0, float), p._asdict())


def integrate(p, y0, t_start: float, t_end: float, output_times, doses: list[DoseEvent],
              settings: SolverSettings = SolverSettings()):
    """Drop-in for :func:`simbev.solver.integrate`: ``(times, Y, stats)`` by the compiled path.

    Same cuts, jumps, right-continuous outputs and tolerances; ``settings.method`` is not used
    (the fast path is always RODAS4). Without numba, calls the reference function.
    """
    mod = _load_kernel()
    if mod is None:
        return _reference_integrate(p, y0, t_start, t_end, output_times, doses, settings)
    from .solver import SolverStats

    t_start, t_end = snap(t_start), snap(t_end)
    out = np.array(sorted({snap(t) for t in output_times if t_start <= snap(t) <= t_end}), dtype=float)
    y0 = np.asarray(y0, dtype=float)
    if not np.all(np.isfinite(y0)):
        raise SimulationError("non-finite initial state", t_start, y0, p._asdict())
    sched = _schedule(t_start, t_end, doses)
    P = np.array(p, dtype=float)[None, :]
    Y = np.empty((1, N_STATES, out.size))
    info = np.zeros((1, _K.INFO_SIZE))
    mod.solve_batch(P, y0[None, :].copy(), sched.t, _jump_vectors(sched, P), sched.u, out, float(settings.rtol),
                    settings.atol(), float(settings.max_step), MAX_STEPS, Y, info)
    if info[0, 0] != 0:
        _raise_failure(info[0], p, y0)
    stats = SolverStats(segments=max(sched.t.size - 1, 1), steps=int(info[0, 1]), rhs_evaluations=int(info[0, 3]),
                        jacobian_evaluations=int(info[0, 4]), lu_decompositions=int(info[0, 1] + info[0, 2]),
                        extra={"rejected_steps": int(info[0, 2]), "dense_factorisations": int(info[0, _K.INFO_DENSE])})
    return out, Y[0], stats


@functools.lru_cache(maxsize=None)
def _parameter_set(species: str) -> ParameterSet:
    """The species' parameter set, read once per process (parameter sets are immutable)."""
    return load_parameter_set(species)


def _resolve(scenario: Scenario, parameters: Mapping[str, float] | None) -> ParameterSet:
    """Parameters resolved as :func:`simbev.simulate` resolves them."""
    pset = _parameter_set(scenario.species).with_values(dict(scenario.parameters))
    if scenario.body_weight_kg is not None:
        pset = pset.with_values({"body_weight": scenario.body_weight_kg})
    return pset.with_values(dict(parameters or {}))


def _doses(scenario: Scenario, pset, doses, t_start: float, initial_state) -> tuple[list, list]:
    """Applied and dropped doses, selected exactly as :func:`simbev.simulate` selects them."""
    t_end = float(scenario.duration_days)
    applied, dropped = expand(scenario.treatments, pset, t_end)
    extra = [d for d in doses if d.amount_nmol > 0]
    applied = sorted(applied + [d for d in extra if d.time <= snap(t_end)], key=lambda d: (d.time, d.regimen))
    dropped = dropped + [d for d in extra if d.time > snap(t_end)]
    first = snap(t_start)
    applied = [d for d in applied if d.time > first or (d.time == first and initial_state is None)]
    return applied, dropped


def simulate(scenario: Scenario, parameters: Mapping[str, float] | None = None,
             doses: Iterable[DoseEvent] = (), initial_state=None, t_start: float = 0.0,
             settings: SolverSettings | None = None) -> Result:
    """Drop-in for :func:`simbev.simulate` by the compiled path (same arguments, same Result).

    ``Result.solver`` records the method; without numba this is the reference path.
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
                  dropped_doses=dropped, solver=_solver_record(settings, fast), stats=stats.as_dict(),
                  t_start=t_start, initial_bev_nmol=float(bev_amount_nmol(y0, pset)))


# Ensembles ---------------------------------------------------------------------------------------

Sample = Mapping[str, float]


@dataclass
class EnsembleRow:
    """One sample of an ensemble.

    ``metrics`` maps each requested metric to its value (``None`` where the event never
    happens, as in :mod:`simbev.metrics`); a failed sample has ``status == "failed"``, empty
    ``metrics`` and the reason in ``error``. ``result`` is the full :class:`~simbev.result.Result`
    for the samples asked for in ``trajectories``, else ``None``. ``steps`` counts accepted
    solver steps.
    """

    index: int
    status: str
    metrics: dict = field(default_factory=dict)
    error: str | None = None
    steps: int = 0
    result: Result | None = None


@dataclass(frozen=True)
class _Job:
    scenario: Scenario
    base: tuple                    # base parameter values, PARAMETER_NAMES order
    y0: tuple
    start: int                     # index of the first sample
    samples: tuple                 # tuple of dicts
    metrics: tuple
    rtol: float
    atol_scale: float
    max_step: float
    keep: frozenset                # sample indices whose Result is returned
    use_fast: bool


def _row_metrics(result: Result, names: Sequence[str]) -> tuple[dict, str | None]:
    values, errors = {}, []
    for name in names:
        try:
            v = _metrics.compute(result, [name])[name]
            values[name] = None if v is None else float(v)
        except Exception as exc:  # noqa: BLE001 - one bad metric is that row's error, not the run's
            errors.append(f"metric {name}: {type(exc).__name__}: {exc}")
    return values, ("; ".join(errors) or None)


def _sample_vector(base: np.ndarray, sample: Sample) -> np.ndarray:
    vec = base.copy()
    for name, value in sample.items():
        i = _PARAM_INDEX.get(name)
        if i is None:
            raise KeyError(f"unknown parameter {name!r}")
        value = float(value)
        if not math.isfinite(value):
            raise ValueError(f"parameter {name!r} must be finite, got {value!r}")
        vec[i] = value
    return vec


def _run_job(job: _Job) -> list[EnsembleRow]:
    """Integrate one batch of samples; never raises for a bad sample (its row says why)."""
    settings = SolverSettings(rtol=job.rtol, atol_scale=job.atol_scale, max_step=job.max_step)
    scenario = job.scenario
    rows: list[EnsembleRow | None] = [None] * len(job.samples)
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        if not job.use_fast or _load_kernel() is None:
            for k, sample in enumerate(job.samples):
                index = job.start + k
                try:
                    result = _reference_simulate(scenario, sample, settings)
                except Exception as exc:  # noqa: BLE001
                    rows[k] = EnsembleRow(index, "failed", error=f"{type(exc).__name__}: {exc}")
                    continue
                values, error = _row_metrics(result, job.metrics)
                rows[k] = EnsembleRow(index, "ok" if error is None else "failed", values if error is None else {},
                                      error, int(result.stats.get("steps") or 0),
                                      result if index in job.keep else None)
            return rows
        mod = _load_kernel()
        base = np.array(job.base, dtype=float)
        y0 = np.array(job.y0, dtype=float)
        t_end = float(scenario.duration_days)
        times = output_times(0.0, t_end, scenario.output_every_days)
        out = np.array(sorted({snap(t) for t in times if 0.0 <= snap(t) <= snap(t_end)}), dtype=float)
        # samples grouped by the parameters that dose conversion reads (one schedule per group)
        groups: dict[tuple, list[tuple[int, np.ndarray]]] = {}
        for k, sample in enumerate(job.samples):
            try:
                vec = _sample_vector(base, sample)
            except (KeyError, ValueError, TypeError) as exc:
                rows[k] = EnsembleRow(job.start + k, "failed", error=f"{type(exc).__name__}: {exc}")
                continue
            key = tuple(vec[_PARAM_INDEX[n]] for n in DOSING_PARAMETERS)
            groups.setdefault(key, []).append((k, vec))
        for members in groups.values():
            P = np.array([vec for _, vec in members])
            first = dict(zip(PARAMETER_NAMES, P[0]))
            applied, dropped = _doses(scenario, first, (), 0.0, None)
            sched = _schedule(0.0, snap(t_end), applied)
            Y = np.empty((len(members), N_STATES, out.size))
            info = np.zeros((len(members), _K.INFO_SIZE))
            Y0 = np.repeat(y0[None, :], len(members), axis=0)
            mod.solve_batch(P, Y0, sched.t, _jump_vectors(sched, P), sched.u, out, float(settings.rtol),
                            settings.atol(), float(settings.max_step), MAX_STEPS, Y, info)
            for m, (k, vec) in enumerate(members):
                index = job.start + k
                if info[m, 0] != 0:
                    rows[k] = EnsembleRow(index, "failed", steps=int(info[m, 1]),
                                          error=(f"SimulationError: solver {METHOD} failed "
                                                 f"({_STATUS_TEXT.get(int(info[m, 0]))}) at t = {info[m, 5]:.6g} day"))
                    continue
                keep = index in job.keep
                pset = _resolve(scenario, job.samples[k]) if keep else None
                result = Result(time=out, states=Y[m].copy() if keep else Y[m], scenario_name=scenario.name,
                                parameters=pset, doses=applied, dropped_doses=dropped,
                                solver=_solver_record(settings, True) if keep else {},
                                stats={"steps": int(info[m, 1]), "rejected_steps": int(info[m, 2])},
                                initial_bev_nmol=float(bev_amount_nmol(y0, first)) if keep else 0.0)
                values, error = _row_metrics(result, job.metrics)
                rows[k] = EnsembleRow(index, "ok" if error is None else "failed", values if error is None else {},
                                      error, int(info[m, 1]), result if keep else None)
    return rows


def _reference_simulate(scenario: Scenario, sample: Sample, settings: SolverSettings) -> Result:
    from .simulation import simulate as reference
    return reference(scenario, parameters=sample, settings=settings)


def ensemble(scenario: Scenario, samples: Iterable[Sample],
             metrics: Sequence[str] = _metrics.RESPONSE_METRICS, *, settings: SolverSettings | None = None,
             workers: int = 1, batch_size: int = 32, trajectories: Iterable[int] = (),
             fast: bool = True) -> Iterator[EnsembleRow]:
    """Run ``scenario`` once per sample of parameter overrides; yield one row per sample.

    Parameters
    ----------
    scenario : Scenario
        The base: species, horizon, overrides, treatments. Each sample's values override its
        parameters (as ``simbev.simulate(scenario, parameters=sample)`` would).
    samples : iterable of mappings ``{parameter name: value}``
        Consumed lazily, ``batch_size`` at a time: a generator of any length is fine.
    metrics : metric names
        Any name :func:`simbev.metrics.compute` accepts; computed on the scenario's output grid.
    settings : SolverSettings
        ``rtol``, ``atol_scale`` and ``max_step`` are honoured (``method`` is not: RODAS4).
    workers : int
        Worker processes (1: in this process).
    trajectories : sample indices
        Rows of these samples carry their full :class:`~simbev.result.Result`.
    fast : bool
        False runs the reference path (the same rows, slowly): for checks.

    Yields
    ------
    EnsembleRow, in sample order. At most ``2 * workers`` batches are in flight, so memory
    does not grow with the number of samples.
    """
    settings = settings or SolverSettings()
    if batch_size < 1:
        raise ValueError("batch_size must be >= 1")
    use_fast = bool(fast) and _load_kernel() is not None
    if use_fast:
        compile_kernel()  # before any worker starts: they inherit (fork) or load (spawn) it
    pset = _resolve(scenario, None)
    base = tuple(float(pset[n]) for n in PARAMETER_NAMES)
    y0 = tuple(float(v) for v in pset.initial_state(scenario.initial_conditions))
    keep = frozenset(int(i) for i in trajectories)
    metrics = tuple(metrics)

    def jobs() -> Iterator[_Job]:
        start, chunk = 0, []
        for sample in samples:
            chunk.append(dict(sample))
            if len(chunk) == batch_size:
                yield _Job(scenario, base, y0, start, tuple(chunk), metrics, settings.rtol, settings.atol_scale,
                           settings.max_step, keep, use_fast)
                start += len(chunk)
                chunk = []
        if chunk:
            yield _Job(scenario, base, y0, start, tuple(chunk), metrics, settings.rtol, settings.atol_scale,
                       settings.max_step, keep, use_fast)

    if workers <= 1:
        for job in jobs():
            yield from _run_job(job)
        return
    with ProcessPoolExecutor(max_workers=workers) as pool:
        pending: dict = {}
        done_rows: dict[int, list[EnsembleRow]] = {}
        next_start = 0
        source = jobs()
        exhausted = False
        while True:
            while not exhausted and len(pending) < 2 * workers:
                job = next(source, None)
                if job is None:
                    exhausted = True
                    break
                pending[pool.submit(_run_job, job)] = job.start
            if not pending:
                break
            finished, _ = wait(list(pending), return_when=FIRST_COMPLETED)
            for fut in finished:
                done_rows[pending.pop(fut)] = fut.result()
            while next_start in done_rows:
                rows = done_rows.pop(next_start)
                yield from rows
                next_start += len(rows)
