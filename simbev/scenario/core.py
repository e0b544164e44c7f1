"""Scenarios: what is simulated (species, horizon, overrides, treatments).

:class:`Scenario` is the validated, immutable form of a scenario file (docs/dosing.md and the
README give the format). Loading and validation of YAML files live in :mod:`simbev.scenario.file`.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping

from ..parameters.parameter_set import FrozenMap, ParameterSet, load_parameter_set
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


def resolve_parameters(scenario: Scenario, parameters: Mapping[str, float] | None = None) -> ParameterSet:
    """The species' parameter set with the scenario's overrides, its body weight, then
    ``parameters`` applied, in that order."""
    pset = load_parameter_set(scenario.species).with_values(dict(scenario.parameters))
    if scenario.body_weight_kg is not None:
        pset = pset.with_values({"body_weight": scenario.body_weight_kg})
    return pset.with_values(dict(parameters or {}))
