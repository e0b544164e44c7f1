"""The solver interface and the one ``simulate``.

A :class:`Solver` integrates the model from a state through dose events and returns outputs on
a grid; :func:`simulate` joins a scenario, its parameter set and its doses, runs a solver chosen
by name or object, and returns a :class:`~simbev.result.Result`. Solvers: ``"reference"``
(scipy's ODEPACK LSODA, or BDF/Radau: :mod:`simbev.solvers.reference`) and ``"compiled"`` (the
generated model and a numba-compiled Rosenbrock method: :mod:`simbev.solvers.compiled`; it
falls back to the reference path without numba and says so in ``Result.solver``).
"""
from __future__ import annotations

from typing import Iterable, Mapping

import numpy as np

from ..errors import SimulationError
from ..protocol.dosing import DoseEvent
from ..protocol.events import output_times, select_doses
from ..result import Result, bev_amount_nmol
from ..scenario.core import Scenario, resolve_parameters
from .reference import SolverSettings, SolverStats

__all__ = ["Solver", "ReferenceSolver", "CompiledSolver", "SOLVERS", "get_solver", "simulate"]


class Solver:
    """What a solver provides. Subclass it and register it in :data:`SOLVERS` to add one."""

    #: the name ``simulate(..., solver=name)`` takes
    name = ""

    def integrate(self, p, y0, t_start: float, t_end: float, output_times, doses: list[DoseEvent],
                  settings: SolverSettings) -> tuple[np.ndarray, np.ndarray, SolverStats]:
        """``(times, Y, stats)``: outputs at the snapped ``output_times`` inside ``[t_start,
        t_end]`` (``Y`` states x times), right-continuous at doses; ``doses`` lie in the run.
        Raises :class:`~simbev.errors.SimulationError` on failure."""
        raise NotImplementedError

    def record(self, settings: SolverSettings) -> dict:
        """What ``Result.solver`` says about a run with ``settings``."""
        return settings.as_dict()

    def statistics(self, stats: SolverStats) -> dict:
        """What ``Result.stats`` holds."""
        return stats.as_dict()


class ReferenceSolver(Solver):
    """scipy's ODEPACK LSODA (or BDF, Radau by ``settings.method``), restarted at every dose."""

    name = "reference"

    def integrate(self, p, y0, t_start, t_end, output_times, doses, settings):
        from .reference import integrate
        return integrate(p, y0, t_start, t_end, output_times, doses, settings)


class CompiledSolver(Solver):
    """The generated model with a compiled Rosenbrock method (RODAS5P); ``settings.method`` is
    not used. Without numba it runs the reference path."""

    name = "compiled"

    def integrate(self, p, y0, t_start, t_end, output_times, doses, settings):
        from .compiled import integrate
        return integrate(p, y0, t_start, t_end, output_times, doses, settings)

    def record(self, settings):
        from .compiled import solver_record
        return solver_record(settings)

    def statistics(self, stats):
        return {**stats.as_dict(), **stats.extra}


#: solvers by name
SOLVERS: dict[str, type[Solver]] = {"reference": ReferenceSolver, "compiled": CompiledSolver}


def get_solver(solver: str | Solver) -> Solver:
    """A :class:`Solver` from its name or itself."""
    if isinstance(solver, Solver):
        return solver
    try:
        return SOLVERS[solver]()
    except (KeyError, TypeError):
        raise ValueError(f"unknown solver {solver!r}; expected one of {', '.join(SOLVERS)} or a Solver") from None


def simulate(scenario: Scenario, parameters: Mapping[str, float] | None = None,
             doses: Iterable[DoseEvent] = (), initial_state=None, t_start: float = 0.0,
             settings: SolverSettings | None = None, solver: str | Solver = "reference") -> Result:
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
    solver : ``"reference"`` (default), ``"compiled"`` or a :class:`Solver`
        The compiled solver gives the same outputs within its tolerance, much faster for many
        runs.
    """
    solver = get_solver(solver)
    settings = settings or SolverSettings()
    pset = resolve_parameters(scenario, parameters)
    t_end = float(scenario.duration_days)
    applied, dropped = select_doses(scenario, pset, list(doses), t_start, initial_state)
    y0 = pset.initial_state(scenario.initial_conditions) if initial_state is None else np.asarray(initial_state, float)
    times = output_times(t_start, t_end, scenario.output_every_days)
    record = solver.record(settings)
    varied = {**dict(scenario.parameters), **({"body_weight": scenario.body_weight_kg}
                                              if scenario.body_weight_kg is not None else {}),
              **dict(parameters or {})}
    try:
        t, Y, stats = solver.integrate(pset.model_parameters(), y0, t_start, t_end, times, applied, settings)
    except SimulationError as exc:
        raise exc.with_context(varied, solver.name) from None
    result = Result(time=t, states=Y, scenario_name=scenario.name, parameters=pset, doses=applied,
                    dropped_doses=dropped, solver=record, stats=solver.statistics(stats), t_start=t_start,
                    initial_bev_nmol=float(bev_amount_nmol(y0, pset)), scenario=scenario)
    check_mass_balance(result, varied, solver.name)
    return result


#: largest admitted bevacizumab mass-balance residual (relative to the amount dosed)
MASS_BALANCE_TOLERANCE = 1e-6


def mass_balance_residual(time, states, params, doses, initial_bev_nmol: float) -> float:
    """What :meth:`Result.bev_mass_balance_residual` computes, from arrays: ``params`` is any
    mapping of parameter values (for a batch of samples without building a ParameterSet)."""
    time = np.asarray(time, dtype=float)
    dosed = np.full(time.shape, float(initial_bev_nmol))
    for d in doses:
        if d.drug != "bevacizumab":
            continue
        if d.duration_days > 0:
            dosed += d.amount_nmol * np.clip((time - d.time) / d.duration_days, 0.0, 1.0)
        else:
            dosed += d.amount_nmol * (time >= d.time)
    if not np.any(dosed):
        return 0.0
    with np.errstate(all="ignore"):
        return float(np.max(np.abs(bev_amount_nmol(states, params) - dosed)) / max(dosed.max(), 1e-300))


def check_mass_balance(result: Result, varied: Mapping[str, float], solver_name: str) -> None:
    """Raise :class:`SimulationError` if the bevacizumab accounted for (free, bound, eliminated)
    differs from the amount dosed by more than :data:`MASS_BALANCE_TOLERANCE` (relative): a run
    that lost or created drug is refused rather than written."""
    residual = result.bev_mass_balance_residual()
    if not residual <= MASS_BALANCE_TOLERANCE:
        err = np.abs(result.bev_amounts_nmol() - result.bev_dosed_nmol())
        k = int(np.nanargmax(err)) if np.any(np.isfinite(err)) else 0
        raise SimulationError(
            f"bevacizumab mass balance violated (residual {residual:.3g} > {MASS_BALANCE_TOLERANCE:g} of the "
            "dose)", float(result.time[k]), result.states[:, k], dict(result.parameters.values()), dict(varied),
            "the doses or tolerances are outside what the solver resolves; use a longer infusion, a "
            "smaller dose or a tighter rtol", solver=solver_name)
