"""Admissible values of parameters and doses: one contract for ``validate``, ``run``, sweeps and
the API.

The *plausible* range of a parameter (its ``range`` in the parameter set) says what the
literature supports; the *admissible* range says what the model can be run with at all. A
value outside the admissible range is refused before anything is integrated. The rules are
keyed by a parameter's unit and name, so a new parameter gets them without editing its YAML:

- every value is a finite number ``>= 0`` and ``<= MAX_VALUE`` (far beyond any physiology,
  and small enough that products of a few values stay representable in double precision);
- values that divide or set a scale are ``> 0``: volumes (unit ``L``), the body weight (``kg``),
  molecular weights (``g/mol``), half-saturation constants (``*_ec50``, ``*_ic50``, ``*_km``),
  capacities, densities and ratios the equations divide by (:data:`POSITIVE_NAMES`);
- fractions are not capped at 1: the cohort design draws log-normal values around a
  fraction's typical value (``mtori_max_inhibition`` 0.9 gives draws above 1), and the model
  stays solvable there; a cap would change the cohort findings.

Doses: a dose is ``<= MAX_DOSE_MG`` mg (or mg/kg), and a scenario expands to at most
``MAX_TOTAL_DOSES`` dose events in all.
"""
from __future__ import annotations

import math
from typing import Mapping

from ..errors import InputError

__all__ = ["MAX_VALUE", "MAX_DOSE", "MAX_TOTAL_DOSES", "POSITIVE_UNITS", "POSITIVE_NAMES",
           "admissible_range", "check_value", "check_values", "InadmissibleValue"]

#: largest admissible parameter value, in the parameter's unit
MAX_VALUE = 1e9
#: largest admissible dose, in mg or mg/kg (1 kg of drug per kg of body weight)
MAX_DOSE = 1e6
#: largest number of dose events one scenario may expand to, over all its regimens
MAX_TOTAL_DOSES = 100_000

POSITIVE_UNITS = ("L", "kg", "g/mol")
POSITIVE_SUFFIXES = ("_ec50", "_ic50", "_km", "_volume", "_molecular_weight")
POSITIVE_NAMES = ("body_weight", "macrophage_capacity", "tumor_cell_density",
                  "tumor_hypoxia_vessel_ratio", "tumor_starvation_glucose")


class InadmissibleValue(InputError):
    """A parameter value outside its admissible range; ``expected`` says what is admitted."""

    def __init__(self, name: str, value, expected: str):
        self.name, self.value = name, value
        super().__init__(key=f"parameters.{name}", found=value, expected=expected,
                         message=f"parameter {name!r}: found {value!r}; expected {expected}")


def admissible_range(name: str, unit: str) -> tuple[float, float, bool]:
    """``(low, high, low_excluded)`` of parameter ``name`` with unit ``unit``."""
    positive = (unit in POSITIVE_UNITS or name in POSITIVE_NAMES
                or any(name.endswith(s) for s in POSITIVE_SUFFIXES))
    return 0.0, MAX_VALUE, positive


def describe(name: str, unit: str) -> str:
    """What a message says is admitted for ``name``."""
    low, high, strict = admissible_range(name, unit)
    unit_text = "" if unit in ("1", "") else f" {unit}"
    why = ""
    if strict:
        why = " (it divides or sets a scale, so 0 is not admitted)"
    return f"a finite number {'>' if strict else '>='} {low:g} and <= {high:g}{unit_text}{why}"


def check_value(name: str, unit: str, value) -> float:
    """``value`` as a float if admissible for ``name``; raises :class:`InadmissibleValue`."""
    try:
        x = float(value)
    except (TypeError, ValueError, OverflowError):
        raise InadmissibleValue(name, value, describe(name, unit)) from None
    if isinstance(value, bool) or not math.isfinite(x):
        raise InadmissibleValue(name, value, describe(name, unit))
    low, high, strict = admissible_range(name, unit)
    if x < low or x > high or (strict and x == low):
        raise InadmissibleValue(name, value, describe(name, unit))
    return x


def check_values(values: Mapping[str, float], units: Mapping[str, str]) -> None:
    """Check every ``name: value`` of ``values`` (units by name); raises on the first bad one."""
    for name, value in values.items():
        check_value(name, units.get(name, ""), value)
