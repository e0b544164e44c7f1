"""simbev: how tumors escape anti-angiogenic therapy, as one coupled ODE model."""
from __future__ import annotations

__version__ = "0.1.0"

from . import _compat

_compat.install()

from .protocol.dosing import DoseEvent, Regimen
from .parameters.parameter_set import Parameter, ParameterSet, load_parameter_set
from .result import Result
from .scenario.core import Scenario
from .simulation import simulate
from .solvers.reference import SimulationError, SolverSettings
from .model.states import DERIVED_NAMES, STATE_NAMES

__all__ = ["DoseEvent", "Regimen", "Parameter", "ParameterSet", "load_parameter_set", "Result",
           "Scenario", "simulate", "SimulationError", "SolverSettings", "STATE_NAMES", "DERIVED_NAMES",
           "__version__"]


def load_scenario(path):
    """Load and validate a scenario YAML file (see :mod:`simbev.scenario_file`)."""
    from .scenario.file import load_scenario as _load
    return _load(path)


def __getattr__(name):
    # ``simbev.fast`` and the other 0.1 module paths as attributes (see simbev._compat)
    if f"{__name__}.{name}" in _compat.MOVED:
        import importlib
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
