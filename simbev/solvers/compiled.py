"""The compiled solver: generated model, compiled stiff integrator, its code cache.

``simbev.simulate`` (the reference path) integrates the Python right-hand side with LSODA and
restarts the solver at every dose. This module gives the same answers (to the solver
tolerance; ``tests/regression/test_fast.py``) much faster, for sweeps and virtual cohorts:

- **One source of equations.** The right-hand side and its exact Jacobian are generated as
  straight-line code from the expressions that the symbolic tracer (:mod:`simbev.symbolic`) gets from
  :func:`simbev.model.rhs` (:mod:`simbev.solvers.codegen`), and compiled with numba. Nothing
  here restates a rate law.
- **A compiled one-step stiff integrator** (RODAS5P, a Rosenbrock method, :mod:`simbev.solvers.kernel`)
  with per-state absolute tolerances and its own continuous extension for the outputs; steps
  end on the dose instants, where the jumps are applied inside the compiled loop, at no restart
  cost (a one-step method has no history to rebuild).
- **Closed-form oral pharmacokinetics.** The mTOR inhibitor's depot and plasma compartments
  form a linear subsystem that nothing feeds back into (verified on the traced equations);
  they are computed in closed form (superposition of doses, written recursively) and enter the
  rest of the system as known inputs. Bevacizumab stays in the ODE: its central compartment
  loses drug to tumor binding (target-mediated, mass-conserving), so it is not linear.
- **Batches and processes.** Samples are integrated in compiled batches that share a dose
  schedule; :func:`simbev.solvers.ensemble.ensemble` spreads batches over worker processes and
  streams rows back in sample order, so memory holds the in-flight batches only.

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
from pathlib import Path
from typing import Any, Iterable, Mapping

import numpy as np

from ..atomic import write_text
from ..errors import SimulationError
from ..model import PARAMETER_NAMES, ModelParameters
from ..model.states import ATOL, N_STATES, STATE_NAMES
from ..parameters.parameter_set import load_parameter_set
from ..protocol.dosing import DoseEvent, snap
from ..protocol.events import Schedule, jump_vectors, output_grid, schedule
from ..result import Result
from ..scenario.core import Scenario
from . import kernel as _K
from .reference import SolverSettings, SolverStats
from .reference import integrate as _reference_integrate

__all__ = ["available", "compile_kernel", "cache_dir", "integrate", "simulate", "solver_record", "METHOD"]

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
        write_text(path, source)
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
        base = load_parameter_set("mouse")
        p = np.array([base[n] for n in PARAMETER_NAMES])
        y0 = np.ones((1, N_STATES))
        seg_t = np.array([0.0, 1e-3])
        out = np.empty((1, N_STATES, 1))
        info = np.zeros((1, _K.INFO_SIZE))
        mod.solve_batch(p[None, :], y0, seg_t, np.zeros((1, 2, N_STATES)), np.zeros(2), np.array([1e-3]),
                        1e-6, ATOL.copy(), math.inf, 100, out, info)
        _KERNEL["warm"] = True
    return True


# Single runs -------------------------------------------------------------------------------------

def _solver_record(settings: SolverSettings, fast: bool) -> dict:
    """What ``Result.solver`` says about the run."""
    if not fast:
        record = settings.as_dict()
        record["fast_path"] = "unavailable (numba not installed): reference path used"
        return record
    gen = _KERNEL["module"].GENERATED
    return {"method": METHOD, "implementation": f"simbev.solvers.compiled: generated model, {METHOD} compiled with numba",
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
    """Solver statistics as :class:`simbev.solvers.reference.SolverStats`; the fast path's own in ``extra``."""
    return SolverStats(segments=max(cuts - 1, 1), steps=int(info[_K.INFO_ACCEPTED]),
                       rhs_evaluations=int(info[_K.INFO_RHS]), jacobian_evaluations=int(info[_K.INFO_JAC]),
                       lu_decompositions=int(info[_K.INFO_ACCEPTED] + info[_K.INFO_REJECTED]),
                       extra={"rejected_steps": int(info[_K.INFO_REJECTED]),
                              "dense_factorisations": int(info[_K.INFO_DENSE])})


def _run_kernel(mod, P: np.ndarray, Y0: np.ndarray, sched: Schedule, out: np.ndarray, settings: SolverSettings):
    """Call the compiled batch solver; return (Y: samples x states x outputs, info)."""
    k = P.shape[0]
    Y = np.empty((k, N_STATES, out.size))
    info = np.zeros((k, _K.INFO_SIZE))
    mod.solve_batch(np.ascontiguousarray(P, dtype=float), np.ascontiguousarray(Y0, dtype=float), sched.t,
                    jump_vectors(sched, ModelParameters(*P.T), P.shape[0]), sched.u, out, float(settings.rtol),
                    np.ascontiguousarray(settings.atol(), dtype=float), float(settings.max_step), MAX_STEPS,
                    Y, info)
    return Y, info


def integrate(p, y0, t_start: float, t_end: float, output_times, doses: list[DoseEvent],
              settings: SolverSettings = SolverSettings()):
    """Drop-in for :func:`simbev.solvers.reference.integrate`: ``(times, Y, stats)`` by the compiled path.

    Same cuts, jumps, right-continuous outputs and tolerances (``rtol``, per-state ``atol``,
    ``max_step``); ``settings.method`` is not used. ``stats`` is a
    :class:`~simbev.solvers.reference.SolverStats` with ``rejected_steps`` and ``dense_factorisations`` in
    ``extra``. Without numba, returns what :func:`simbev.solvers.reference.integrate` returns.
    Raises :class:`~simbev.solvers.reference.SimulationError` if the solver fails.
    """
    mod = _load_kernel()
    if mod is None:
        return _reference_integrate(p, y0, t_start, t_end, output_times, doses, settings)
    t_start, t_end = snap(t_start), snap(t_end)
    out = output_grid(output_times, t_start, t_end)
    y0 = np.asarray(y0, dtype=float)
    if not np.all(np.isfinite(y0)):
        raise SimulationError("non-finite initial state", t_start, y0, p._asdict())
    sched = schedule(t_start, t_end, doses)
    Y, info = _run_kernel(mod, np.array(p, dtype=float)[None, :], y0[None, :], sched, out, settings)
    if info[0, _K.INFO_STATUS] != _K.OK:
        return reference_retry(p, y0, t_start, t_end, output_times, doses, settings, info[0])
    return out, Y[0], _stats(info[0], sched.t.size)


def failure_text(info) -> str:
    """What the compiled solver says about a failed sample (its method, reason and time)."""
    return f"{METHOD} {_failure_text(info)} at t = {info[_K.INFO_T_FAIL]:.6g} day"


def reference_retry(p, y0, t_start, t_end, output_times, doses, settings, info):
    """Where the compiled solver failed (``info``), run the reference solver, so that both paths
    solve the same runs: its outputs if it succeeds (``stats.extra['fallback']`` says why), or
    its :class:`SimulationError` (time and state where it failed) naming the compiled failure too.
    """
    compiled_failure = failure_text(info)
    try:
        t, Y, stats = _reference_integrate(p, y0, t_start, t_end, output_times, doses, settings)
    except SimulationError as exc:
        raise SimulationError(f"{exc.reason}; the compiled {compiled_failure} too",
                              exc.time, [exc.state[k] for k in exc.state], exc.parameters,
                              exc.varied, exc.hint, solver="reference") from None
    stats.extra["fallback"] = f"reference (LSODA), because the compiled {compiled_failure}"
    return t, Y, stats


def simulate(scenario: Scenario, parameters: Mapping[str, float] | None = None,
             doses: Iterable[DoseEvent] = (), initial_state=None, t_start: float = 0.0,
             settings: SolverSettings | None = None) -> Result:
    """:func:`simbev.simulate` with ``solver="compiled"``: same arguments, same Result.

    ``Result.solver`` says which path ran; without numba it is the reference path.
    """
    from .base import simulate as _simulate
    return _simulate(scenario, parameters, doses, initial_state, t_start, settings, solver="compiled")


def solver_record(settings: SolverSettings) -> dict:
    """What ``Result.solver`` says about a run by this solver (loads the kernel if needed)."""
    return _solver_record(settings, _load_kernel() is not None)
