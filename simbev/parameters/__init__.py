"""Parameters: :class:`Parameter` (value, unit, source, plausible range), the immutable
:class:`ParameterSet`, the species' sets in ``sets/*.yaml`` and their citations in
``references.bib``.

May import: :mod:`simbev.model` (parameter names, state names) and :mod:`simbev.errors`.
"""
from __future__ import annotations

from .parameter_set import SETS_DIR, SPECIES, FrozenMap, Parameter, ParameterSet, load_parameter_set

__all__ = ["SETS_DIR", "SPECIES", "FrozenMap", "Parameter", "ParameterSet", "load_parameter_set"]
