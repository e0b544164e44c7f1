"""Scenarios: :class:`Scenario` (species, horizon, overrides, regimens) and its YAML file
format: safe YAML loading with line numbers (:mod:`.yamlsafe`), checks and one-line errors
(:mod:`.file`).

May import: :mod:`simbev.model`, :mod:`simbev.parameters`, :mod:`simbev.protocol`,
:mod:`simbev.errors`.
"""
from __future__ import annotations

from ..parameters.parameter_set import FrozenMap
from .core import Scenario

__all__ = ["FrozenMap", "Scenario", "load_scenario", "validate_file"]


def load_scenario(path) -> Scenario:
    """Load and validate a scenario YAML file (see :func:`simbev.scenario.file.load_scenario`)."""
    from .file import load_scenario as _load
    return _load(path)


def validate_file(path) -> Scenario:
    """Validate a scenario YAML file (see :func:`simbev.scenario.file.validate_file`)."""
    from .file import validate_file as _validate
    return _validate(path)
