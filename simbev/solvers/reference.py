"""Integration between dose events.

The run is cut at every event instant (bolus or oral dose, start or end of an infusion).
Within a segment the system is smooth and autonomous, and a stiff solver integrates it with
the exact complex-step Jacobian of :func:`simbev.model.jacobian`; at a segment boundary the
bolus jumps are applied and integration restarts. Outputs are right-continuous: at an event
instant the value after the jumps is reported.

Methods: ``LSODA`` (default; ODEPACK's LSODA through :func:`scipy.integrate.odeint`, whose step
loop is compiled, about 3x faster here) and scipy's ``BDF`` and ``Radau`` (Python step loops,
kept as independent references). All use the same tolerances: ``rtol`` and per-state ``atol``.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import warnings

from scipy.integrate import BDF, Radau, odeint

from .. import model
from ..errors import SimbevError, SimulationError
from ..model.states import ATOL, N_STATES, STATE_NAMES
from ..protocol.dosing import DoseEvent, snap
from ..protocol.events import apply_jumps, event_schedule, infusion_rate, output_grid


@dataclass(frozen=True)
class SolverSettings:
    """Solver choice and tolerances. ``atol`` is per state, scaled by ``atol_scale``."""

    method: str = "LSODA"
    rtol: float = 1e-6
    atol_scale: float = 1.0
    max_step: float = np.inf

    def atol(self) -> np.ndarray:
        return ATOL * self.atol_scale

    def as_dict(self) -> dict:
        return {"method": self.method, "implementation": "scipy.integrate.odeint (ODEPACK LSODA)"
                if self.method == "LSODA" else f"scipy.integrate.{self.method}", "rtol": self.rtol, "atol": dict(zip(STATE_NAMES, self.atol().tolist())),
                "max_step": None if np.isinf(self.max_step) else self.max_step,
                "jacobian": "exact (complex-step)"}


@dataclass
class SolverStats:
    segments: int = 0
    steps: int = 0
    rhs_evaluations: int = 0
    jacobian_evaluations: int = 0
    lu_decompositions: int = 0
    extra: dict = field(default_factory=dict)

    def as_dict(self) -> dict:
        return {"segments": self.segments, "steps": self.steps, "rhs_evaluations": self.rhs_evaluations,
                "jacobian_evaluations": self.jacobian_evaluations, "lu_decompositions": self.lu_decompositions}


def integrate(p, y0, t_start: float, t_end: float, output_times, doses: list[DoseEvent],
              settings: SolverSettings = SolverSettings()):
    """Integrate from ``t_start`` to ``t_end`` with ``doses``; return (times, Y, stats).

    ``Y`` has shape (n_states, n_outputs). ``doses`` must lie in ``[t_start, t_end]``.
    Raises :class:`SimulationError` on solver failure or a non-finite state.
    """
    t_start, t_end = snap(t_start), snap(t_end)
    out = output_grid(output_times, t_start, t_end)
    cuts, jumps = event_schedule(t_start, t_end, doses)
    atol = settings.atol()
    params_dict = p._asdict()

    y = np.asarray(y0, dtype=float).copy()
    if not np.all(np.isfinite(y)):
        raise SimulationError("non-finite initial state", t_start, y, params_dict)
    Y = np.empty((N_STATES, out.size))
    stats = SolverStats()

    for a, b in zip(cuts[:-1], cuts[1:]):
        y = apply_jumps(y, jumps.get(a, []), p)
        u = infusion_rate(doses, a)
        sel = np.nonzero((out >= a) & (out < b))[0]
        y = _integrate_segment(a, b, y, p, u, settings, atol, out, sel, Y, stats, params_dict)
    # jumps at the segment starts were applied in the loop; those at t_end (which starts no
    # segment, and is t_start itself for a zero-length run) are applied here
    y = apply_jumps(y, jumps.get(t_end, []), p)
    if out.size and out[-1] == t_end:
        Y[:, -1] = y
    return out, Y, stats


_METHODS = {"BDF": BDF, "Radau": Radau}
METHODS = ("LSODA", "BDF", "Radau")


def _integrate_segment(a, b, y, p, u, settings, atol, out, sel, Y, stats, params_dict):
    """Integrate from ``a`` to ``b``, filling ``Y[:, sel]``; return the state at ``b``."""
    stats.segments += 1
    if b <= a:
        return y
    if settings.method == "LSODA":
        return _segment_lsoda(a, b, y, p, u, settings, atol, out, sel, Y, stats, params_dict)
    if settings.method not in _METHODS:
        raise ValueError(f"unknown solver method {settings.method!r}; expected one of {', '.join(METHODS)}")
    fun = lambda t, x: model.rhs(t, x, p, u)  # noqa: E731
    jac = lambda t, x: model.jacobian(t, x, p, u)  # noqa: E731
    try:
        with np.errstate(all="ignore"):
            solver = _METHODS[settings.method](fun, a, y, b, rtol=settings.rtol, atol=atol,
                                               jac=jac, max_step=settings.max_step)
    except (ValueError, ArithmeticError, TypeError) as exc:
        raise SimulationError(_rhs_reason(exc), a, y, params_dict) from None
    k = 0
    while k < sel.size and out[sel[k]] == a:  # outputs at the segment start: the post-jump state
        Y[:, sel[k]] = y
        k += 1
    while solver.status == "running":
        try:
            with np.errstate(all="ignore"):
                message = solver.step()
        except (ValueError, ArithmeticError, TypeError) as exc:
            raise SimulationError(_rhs_reason(exc), solver.t, solver.y, params_dict) from None
        if solver.status == "failed":
            raise SimulationError(f"solver {settings.method} failed ({message})", solver.t, solver.y, params_dict)
        stats.steps += 1
        if not np.all(np.isfinite(solver.y)):
            raise SimulationError("non-finite state", solver.t, solver.y, params_dict)
        if k < sel.size and out[sel[k]] <= solver.t:
            dense = solver.dense_output()
            while k < sel.size and out[sel[k]] <= solver.t:
                Y[:, sel[k]] = dense(out[sel[k]]) if out[sel[k]] != solver.t else solver.y
                k += 1
    stats.rhs_evaluations += solver.nfev
    stats.jacobian_evaluations += solver.njev
    stats.lu_decompositions += solver.nlu
    return solver.y.copy()


def _segment_lsoda(a, b, y, p, u, settings, atol, out, sel, Y, stats, params_dict):
    """One segment with ODEPACK LSODA. Output times inside the segment come from LSODA's own
    interpolation; the segment end is always requested so that the restart state is exact."""
    inner = out[sel]
    at_start = inner == a
    ts = np.concatenate(([a], inner[~at_start], [b]))
    fun = lambda x, t: model.rhs(t, x, p, u)  # noqa: E731  (odeint's argument order)
    jac = lambda x, t: model.jacobian(t, x, p, u)  # noqa: E731
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("error")  # odeint reports failures as warnings: make them errors
        try:
            sol, info = odeint(fun, y, ts, Dfun=jac, rtol=settings.rtol, atol=atol, full_output=True,
                               mxstep=1_000_000, hmax=0.0 if np.isinf(settings.max_step) else settings.max_step)
        except Warning as exc:  # ODEintWarning: excess work, repeated error test failures, ...
            raise _locate_failure(f"solver LSODA failed ({_first_sentence(exc)})", a, b, y, p, u, settings,
                                  atol, params_dict) from None
        except (ValueError, ArithmeticError, TypeError) as exc:
            # inf/NaN in the rhs or Jacobian, division by zero, or a complex right-hand side
            # (a state below zero under a fractional power): find where it happened
            raise _locate_failure(_rhs_reason(exc), a, b, y, p, u, settings, atol, params_dict) from None
    bad = ~np.all(np.isfinite(sol), axis=1)
    if bad.any() or info["message"] != "Integration successful.":
        raise _locate_failure("solver LSODA failed" if not bad.any() else "non-finite state", a, b, y, p, u,
                              settings, atol, params_dict)
    Y[:, sel[at_start]] = y[:, None]
    Y[:, sel[~at_start]] = sol[1:-1].T
    stats.steps += int(info["nst"][-1])
    stats.rhs_evaluations += int(info["nfe"][-1])
    stats.jacobian_evaluations += int(info["nje"][-1])
    return sol[-1].copy()


def _first_sentence(exc: BaseException) -> str:
    """The first sentence of a solver's warning, without scipy's advice to its own callers
    (such as "Run with full_output = 1 to get quantitative information")."""
    text = " ".join(str(exc).split())
    for advice in ("Run with full_output", "Consider using"):
        text = text.split(advice)[0]
    return text.strip().rstrip(".") or type(exc).__name__


def _rhs_reason(exc: BaseException) -> str:
    if isinstance(exc, TypeError) and "complex" in str(exc):
        return "a state left its domain (the right-hand side became complex)"
    return f"the right-hand side is not finite ({type(exc).__name__})"


class _OutOfDomain(SimbevError, ArithmeticError):
    """The right-hand side is complex or not finite at a state."""


def _locate_failure(reason, a, b, y, p, u, settings, atol, params_dict, max_steps=200_000):
    """A :class:`SimulationError` at the time and state where the segment ``[a, b]`` fails.

    LSODA reports a failure without the state it reached; the failure is found again by
    stepping scipy's BDF from the segment start and stopping at the first step that leaves the
    domain (a complex or non-finite right-hand side, a non-finite state) or fails. If BDF gets
    through, the error names the state BDF reached when it stopped being able to confirm LSODA's
    result, i.e. the segment end.
    """
    def fun(t, x):
        f = model.rhs(t, x, p, u)
        if np.iscomplexobj(f) or not np.all(np.isfinite(f)):
            raise _OutOfDomain("a state left its domain (the right-hand side became complex or non-finite)")
        return f

    def jac(t, x):
        J = model.jacobian(t, x, p, u)
        if np.iscomplexobj(J) or not np.all(np.isfinite(J)):
            raise _OutOfDomain("a state left its domain (the Jacobian became complex or non-finite)")
        return J

    t_last, y_last = a, np.asarray(y, dtype=float).copy()
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        try:
            solver = BDF(fun, a, y_last, b, rtol=settings.rtol, atol=atol, jac=jac, max_step=settings.max_step)
            for _ in range(max_steps):
                if solver.status != "running":
                    break
                message = solver.step()
                if solver.status == "failed":
                    return SimulationError(f"{reason}; BDF: {message}", solver.t, solver.y, params_dict)
                if not np.all(np.isfinite(solver.y)):
                    break
                t_last, y_last = solver.t, solver.y.copy()
        except (_OutOfDomain, ValueError, ArithmeticError, TypeError) as exc:
            detail = str(exc) if isinstance(exc, _OutOfDomain) else type(exc).__name__
            text = detail if isinstance(exc, _OutOfDomain) and "domain" in reason else f"{reason}; {detail}"
            return SimulationError(text, t_last, y_last, params_dict)
    return SimulationError(reason, t_last, y_last, params_dict)
