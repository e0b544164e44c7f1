"""Result of a simulation: times, states, derived outputs, metadata."""
from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .protocol.dosing import DoseEvent
from .protocol.routes import INFUSION, ROUTE_TABLE
from .parameters.parameter_set import ParameterSet
from .scenario.core import Scenario
from .model.states import (DERIVED_NAMES, DERIVED_UNITS, I_BEV_CENTRAL, I_BEV_ELIMINATED, I_BEV_MIF,
                     I_BEV_PERIPHERAL, I_BEV_VEGF, I_TUMOR_HYPOXIC, I_TUMOR_NORMOXIC, STATE_INDEX,
                     STATE_NAMES, STATE_UNITS, derived)


def bev_amount_nmol(states: np.ndarray, parameters: ParameterSet) -> np.ndarray:
    """Bevacizumab in a state vector (or states x times): free + complexes + eliminated, nmol."""
    p = parameters
    v = states[I_TUMOR_NORMOXIC] + states[I_TUMOR_HYPOXIC]
    v_int = p["tumor_interstitial_fraction"] * v * 1e-6
    return (states[I_BEV_CENTRAL] * p["bev_central_volume"]
            + states[I_BEV_PERIPHERAL] * p["bev_peripheral_volume"]
            + (states[I_BEV_VEGF] + states[I_BEV_MIF]) * v_int
            + states[I_BEV_ELIMINATED])


@dataclass
class Result:
    """Outcome of :func:`simbev.simulate`.

    ``result.time`` (days), ``result["name"]`` for any state or derived output, ``to_csv``.
    ``metadata`` holds the scenario name, resolved parameters, solver settings and statistics;
    ``scenario`` the :class:`~simbev.scenario.Scenario` that was run; ``metrics()`` its
    response metrics.
    """

    time: np.ndarray
    states: np.ndarray
    scenario_name: str
    parameters: ParameterSet
    doses: list[DoseEvent]
    dropped_doses: list[DoseEvent]
    solver: dict
    stats: dict
    t_start: float = 0.0
    initial_bev_nmol: float = 0.0
    extra: dict = field(default_factory=dict)
    scenario: Scenario | None = None

    def __post_init__(self):
        self._derived = derived(self.states)
        self._metrics: dict = {}

    def metrics(self, names=None) -> dict:
        """Response metrics by name (default: the standard set of
        :func:`simbev.analysis.metrics.response_metrics`); each is computed once per Result, so
        the summary, the tables and the figures share the values."""
        from .analysis import metrics as M

        if names is None:
            if "<response>" not in self._metrics:
                self._metrics["<response>"] = M.response_metrics(self)
            return dict(self._metrics["<response>"])
        missing = [n for n in names if n not in self._metrics]
        if missing:
            self._metrics.update(M.compute(self, missing))
        return {n: self._metrics[n] for n in names}

    @property
    def names(self) -> tuple[str, ...]:
        return STATE_NAMES + DERIVED_NAMES

    def __getitem__(self, name: str) -> np.ndarray:
        if name in STATE_INDEX:
            return self.states[STATE_INDEX[name]]
        if name in self._derived:
            return self._derived[name]
        raise KeyError(f"unknown output {name!r}; known: {', '.join(self.names)}")

    def units(self) -> dict[str, str]:
        return {"time_days": "day", **STATE_UNITS, **DERIVED_UNITS}

    @property
    def final_state(self) -> np.ndarray:
        return self.states[:, -1].copy()

    def bev_dosed_nmol(self, t: np.ndarray | None = None) -> np.ndarray:
        """Bevacizumab given up to each time (bolus amounts, infusion amounts pro rata), plus
        what the initial state already held (a run continued from an earlier one)."""
        t = self.time if t is None else np.asarray(t)
        total = np.full(np.shape(t), self.initial_bev_nmol, dtype=float)
        for d in self.doses:
            if d.drug != "bevacizumab":
                continue
            if ROUTE_TABLE[d.route].kind == INFUSION:
                total += d.amount_nmol * np.clip((t - d.time) / d.duration_days, 0.0, 1.0)
            else:
                total += d.amount_nmol * (t >= d.time)
        return total

    def bev_amounts_nmol(self) -> np.ndarray:
        """Bevacizumab accounted for at each output time: free + complexes + eliminated (nmol)."""
        return bev_amount_nmol(self.states, self.parameters)

    def bev_mass_balance_residual(self) -> float:
        """Largest |accounted - dosed| / total dosed over the output times (0 with no dose)."""
        dosed = self.bev_dosed_nmol()
        if not np.any(dosed):
            return 0.0
        return float(np.max(np.abs(self.bev_amounts_nmol() - dosed)) / max(dosed.max(), 1e-300))

    @property
    def metadata(self) -> dict:
        from . import __version__
        return {
            "scenario": self.scenario_name,
            "simbev_version": __version__,
            "species": self.parameters.name,
            "parameters": {k: {"value": r.value, "unit": r.unit, "source": r.source}
                           for k, r in self.parameters.records.items()},
            "solver": self.solver,
            "solver_statistics": self.stats,
            "doses": [d.as_dict() for d in self.doses],
            "dropped_doses": [d.as_dict() for d in self.dropped_doses],
            "units": self.units(),
        }

    def to_csv(self, path) -> Path:
        """Write the time series: a ``#`` comment line of units, then a header, then rows."""
        path = Path(path)
        columns = ["time_days", *STATE_NAMES, *DERIVED_NAMES]
        data = np.vstack([self.time, self.states, *[self._derived[n] for n in DERIVED_NAMES]]).T
        units = self.units()
        from .atomic import atomic_file
        with atomic_file(path, "w", newline="") as fh:  # stage and rename
            fh.write("# units: " + ", ".join(f"{c} [{units[c]}]" for c in columns) + "\n")
            writer = csv.writer(fh)
            writer.writerow(columns)
            for row in data:
                writer.writerow([repr(float(x)) for x in row])
        return path
