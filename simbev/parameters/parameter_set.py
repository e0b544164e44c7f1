"""Parameters with units, sources and plausible ranges, and immutable parameter sets.

A parameter set is read from YAML files in ``simbev/parameters/sets/`` (``mouse.yaml``,
``human.yaml``; both include ``common.yaml``). Every entry carries a value, a unit, a source
(a key of ``simbev/parameters/references.bib``, or ``assumed`` with the reason in ``note``) and a
plausible range ``[low, high]``.
"""
from __future__ import annotations

import difflib
import functools
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Iterator, Mapping

import yaml

from ..errors import InputError
from ..model import PARAMETER_NAMES, ModelParameters
from ..model.states import STATE_NAMES, pack
from .admissible import check_value

SETS_DIR = Path(__file__).parent / "sets"
SPECIES = ("mouse", "human")


class FrozenMap(dict):
    """A read-only dict that pickles (``MappingProxyType`` does not), so scenarios and parameter
    sets can be sent to worker processes."""

    def _refuse(self, *args, **kwargs):
        raise TypeError("this mapping is read-only")

    __setitem__ = __delitem__ = clear = pop = popitem = setdefault = update = _refuse  # type: ignore

    def __reduce__(self):
        return (FrozenMap, (dict(self),))

    def __hash__(self):
        return hash(tuple(sorted(self.items())))


@dataclass(frozen=True)
class Parameter:
    """One model parameter.

    Attributes
    ----------
    name : public name, ``<entity>_<process>_<quantity>``.
    value : value in ``unit``.
    unit : unit string (``1/day``, ``nM``, ``L``, ``1`` for dimensionless).
    source : a BibTeX key of ``references.bib``, or ``"assumed"``.
    low, high : plausible range.
    description : what it stands for.
    note : why this value (required when ``source`` is ``assumed``).
    """

    name: str
    value: float
    unit: str
    source: str
    low: float
    high: float
    description: str = ""
    note: str = ""



class UnknownParameterError(InputError, KeyError):
    """A parameter name that is not in the set (e.g. a typo in ``simulate(..., parameters=...)``):
    the message names the key, the nearest known name and ``simbev params``, as a scenario file's
    error does. Still a ``KeyError`` for code that caught the old one."""

    __str__ = Exception.__str__  # KeyError would quote the message

    def __init__(self, key, known):
        close = difflib.get_close_matches(str(key), list(known), n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        super().__init__(None, None, f"parameters.{key}", key,
                         f"a parameter name: one of the {len(known)} listed by `simbev params`{hint}")

@dataclass(frozen=True)
class ParameterSet:
    """An immutable, named set of :class:`Parameter` records plus default initial conditions."""

    name: str
    records: Mapping[str, Parameter]
    initial_conditions: Mapping[str, float] = field(default_factory=dict)

    def __post_init__(self):
        object.__setattr__(self, "records", FrozenMap(self.records))
        object.__setattr__(self, "initial_conditions", FrozenMap(self.initial_conditions))

    # Mapping-like access -------------------------------------------------------------------
    def __getitem__(self, name: str) -> float:
        return self.records[name].value

    def __contains__(self, name: object) -> bool:
        return name in self.records

    def __iter__(self) -> Iterator[str]:
        return iter(self.records)

    def __len__(self) -> int:
        return len(self.records)

    def values(self) -> dict[str, float]:
        """``{name: value}`` for every parameter."""
        return {k: r.value for k, r in self.records.items()}

    def with_values(self, overrides: Mapping[str, float] | None = None) -> "ParameterSet":
        """Return a copy with some values replaced. An unknown name raises
        :class:`UnknownParameterError` (an :class:`~simbev.errors.InputError` and a ``KeyError``)
        with the nearest known name, as a scenario file's ``parameters`` do; a value outside its
        admissible range (:mod:`simbev.parameters.admissible`) raises
        :class:`~simbev.parameters.admissible.InadmissibleValue` (an ``InputError``)."""
        if not overrides:
            return self
        records = dict(self.records)
        for key, value in overrides.items():
            if key not in records:
                raise UnknownParameterError(key, records)
            # the admissibility contract (admissible.py): the same rules as a scenario file's
            value = check_value(key, records[key].unit, value)
            records[key] = replace(records[key], value=value)
        return ParameterSet(self.name, records, self.initial_conditions)

    def model_parameters(self) -> ModelParameters:
        """The values as the tuple the right-hand side takes."""
        return ModelParameters(*(self.records[n].value for n in PARAMETER_NAMES))

    def initial_state(self, overrides: Mapping[str, float] | None = None):
        """Initial state vector from the set's defaults and ``overrides`` (by state name)."""
        y0 = pack(dict(self.initial_conditions))
        return pack(dict(overrides or {}), base=y0)


def _read_yaml(path: Path) -> dict:
    with open(path, encoding="utf-8") as fh:
        return yaml.safe_load(fh) or {}


def _records_from(raw: Mapping, path: Path) -> dict[str, Parameter]:
    out = {}
    for name, entry in (raw or {}).items():
        try:
            low, high = entry["range"]
            out[name] = Parameter(
                name=name, value=float(entry["value"]), unit=str(entry["unit"]),
                source=str(entry["source"]), low=float(low), high=float(high),
                description=str(entry.get("description", "")), note=str(entry.get("note", "")),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"{path}: parameter {name!r} is malformed ({exc})") from None
    return out


@functools.lru_cache(maxsize=None)
def load_parameter_set(species: str = "mouse") -> ParameterSet:
    """Load the parameter set of ``species`` (``mouse`` or ``human``).

    The species file ``include``s ``common.yaml``; its own entries take precedence. Read once
    per process: a ParameterSet is immutable, so the cached value is shared safely.
    Raises ``ValueError`` for an unknown species or an incomplete set.
    """
    if species not in SPECIES:
        raise ValueError(f"unknown species {species!r}; expected one of {', '.join(SPECIES)}")
    path = SETS_DIR / f"{species}.yaml"
    raw = _read_yaml(path)
    records: dict[str, Parameter] = {}
    for inc in raw.get("include", []):
        records.update(_records_from(_read_yaml(SETS_DIR / inc).get("parameters"), SETS_DIR / inc))
    records.update(_records_from(raw.get("parameters"), path))
    missing = [n for n in PARAMETER_NAMES if n not in records]
    extra = [n for n in records if n not in PARAMETER_NAMES]
    if missing or extra:
        raise ValueError(f"{path}: parameter set incomplete; missing {missing}, unknown {extra}")
    ic = raw.get("initial_conditions", {})
    unknown_ic = [n for n in ic if n not in STATE_NAMES]
    if unknown_ic:
        raise ValueError(f"{path}: unknown states in initial_conditions: {unknown_ic}")
    ordered = {n: records[n] for n in PARAMETER_NAMES}
    return ParameterSet(species, ordered, {k: float(v) for k, v in ic.items()})
