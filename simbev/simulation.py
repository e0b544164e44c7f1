"""``simulate``: join a scenario, a parameter set, dosing and a solver (see
:func:`simbev.solvers.base.simulate`; ``solver="reference"`` or ``"compiled"``).

The pieces it joins live in their rooms: the output grid and the dose selection in
:mod:`simbev.protocol.events`, the parameter resolution in :mod:`simbev.scenario.core`.
"""
from __future__ import annotations

from .protocol.events import output_times, select_doses
from .scenario.core import resolve_parameters
from .solvers.base import simulate

__all__ = ["simulate", "output_times", "select_doses", "resolve_parameters"]
