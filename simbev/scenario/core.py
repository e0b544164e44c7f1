"""Scenarios: what is simulated (species, horizon, overrides, treatments).

:class:`Scenario` is the validated, immutable form of a scenario file (INTERFACE.md).
Loading and validation of YAML files live in :mod:`simbev.scenario_file`.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping

from ..parameters.parameter_set import FrozenMap
from ..protocol.dosing import Regimen


@dataclass(frozen=True)
class Scenario:
    """A validated scenario. Times in days; overrides by public name."""

    name: str
    duration_days: float
    species: str = "mouse"
    output_every_days: float = 1.0
    description: str = ""
    parameters: Mapping[str, float] = field(default_factory=dict)
    initial_conditions: Mapping[str, float] = field(default_factory=dict)
    treatments: tuple[Regimen, ...] = ()
    body_weight_kg: float | None = None
    source: str | None = None

    def __post_init__(self):
        object.__setattr__(self, "parameters", FrozenMap(self.parameters))
        object.__setattr__(self, "initial_conditions", FrozenMap(self.initial_conditions))
        object.__setattr__(self, "treatments", tuple(self.treatments))
