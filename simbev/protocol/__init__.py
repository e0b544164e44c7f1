"""Protocol: what is done to the system over time. Regimens (as a scenario file states them)
become dose events; dose events become state jumps (boluses, oral doses) and infusion rates per
segment between events. The one place that knows drugs, routes and dose units: every solver,
the SBML export and the drug mass balance use it. The model never knows the schedule.

May import: :mod:`simbev.model` (state indices) and :mod:`simbev.errors`.
"""
from __future__ import annotations

from .dosing import DRUGS, ROUTES, DoseEvent, Regimen, expand, mg_to_nmol, snap

__all__ = ["DRUGS", "ROUTES", "DoseEvent", "Regimen", "expand", "mg_to_nmol", "snap"]
