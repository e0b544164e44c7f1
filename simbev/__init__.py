"""simbev: how tumors escape anti-angiogenic therapy, as one coupled ODE model.

The public API: load a scenario, simulate it, read the result::

    import simbev
    scenario = simbev.load_scenario("configs/scenarios/bevacizumab_mouse.yaml")
    result = simbev.simulate(scenario)                      # or solver="compiled"
    result["tumor_volume"], result.metrics, result.units   # dicts; result.to_frame() with pandas

The package is laid out by role (docs/architecture.md): ``model`` (equations), ``parameters``,
``protocol`` (dosing), ``scenario``, ``symbolic``, ``solvers``, ``analysis``, ``sweeps``,
``formats``, ``plotting``, ``cli``.
"""
from __future__ import annotations

__version__ = "0.1.0"

from . import _compat

_compat.install()

from .errors import InputError, SimbevError, SimulationError  # noqa: E402
from .model.states import DERIVED_NAMES, STATE_NAMES  # noqa: E402
from .parameters.parameter_set import Parameter, ParameterSet, load_parameter_set  # noqa: E402
from .protocol.dosing import DoseEvent, Regimen  # noqa: E402
from .result import Result  # noqa: E402
from .scenario.core import Scenario  # noqa: E402
from .solvers.base import simulate  # noqa: E402
from .solvers.reference import SolverSettings  # noqa: E402

__all__ = ["DoseEvent", "Regimen", "Parameter", "ParameterSet", "load_parameter_set", "Result",
           "Scenario", "simulate", "SimulationError", "SolverSettings", "STATE_NAMES", "DERIVED_NAMES",
           "SimbevError", "InputError", "load_scenario", "__version__"]


def load_scenario(path):
    """Load and validate a scenario YAML file (see :mod:`simbev.scenario.file`)."""
    from .scenario.file import load_scenario as _load
    return _load(path)


def __getattr__(name):
    # ``simbev.fast`` and the other 0.1 module paths as attributes (see simbev._compat)
    if f"{__name__}.{name}" in _compat.MOVED:
        import importlib
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
