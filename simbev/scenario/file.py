"""Scenario files (YAML) -> a validated :class:`~simbev.scenario.Scenario`.

The format is the one the README and docs/dosing.md describe. Files are read with :func:`simbev.scenario.yamlsafe.load_yaml`
(no object tags, no duplicate keys, no aliases); every value is then checked, and the first
problem raises an :class:`~simbev.errors.InputError` naming the file, the line, the key path
(``treatments.0.dose``), the value found and what would be accepted. An unknown name (key,
parameter, state, drug, route, species, unit) suggests the nearest known one.

Inheritance: ``extends: base.yaml`` (relative to the file that says it) loads the base first,
recursively. The file's own keys override the base's, except that ``parameters`` and
``initial_conditions`` merge name by name; a ``treatments`` list replaces the base's entirely.
An error in an inherited value names the base file and its line.
"""
from __future__ import annotations

import difflib
import math
import re
from pathlib import Path
from typing import Any, Mapping

from ..protocol.dosing import DRUGS, ROUTES, Regimen
from ..errors import InputError
from ..model import PARAMETER_NAMES
from ..parameters.parameter_set import SPECIES, load_parameter_set
from ..parameters.admissible import MAX_DOSE, MAX_TOTAL_DOSES, MAX_VALUE, InadmissibleValue, check_value
from ..scenario.core import Scenario
from ..model.states import STATE_NAMES
from ..scenario.yamlsafe import join_path, load_yaml

__all__ = ["load_scenario", "validate_file", "TOP_LEVEL_KEYS", "TREATMENT_KEYS", "DOSE_UNITS",
           "WEIGHT_UNITS", "MAX_DOSES", "MAX_OUTPUT_TIMES"]

TOP_LEVEL_KEYS = ("name", "description", "species", "duration_days", "output_every_days",
                  "parameters", "initial_conditions", "treatments", "body_weight", "extends")
TREATMENT_KEYS = ("drug", "dose", "route", "start_day", "every_days", "doses", "stop_day",
                  "infusion_hours")
MERGED_KEYS = ("parameters", "initial_conditions")
DOSE_UNITS = ("mg/kg", "mg")
WEIGHT_UNITS = {"kg": 1.0, "g": 1e-3}
ALL_ROUTES = tuple(dict.fromkeys(r for routes in ROUTES.values() for r in routes))

# Bounds that keep a valid file from asking for an unbounded amount of work or memory.
MAX_DOSES = 100_000
MAX_OUTPUT_TIMES = 1_000_000
#: longest extends chain (the file itself included)
MAX_EXTENDS_DEPTH = 16
#: shortest infusion: the window must span many steps of the 1e-9 day time grid (3.6 s)
MIN_INFUSION_HOURS = 1e-3

_MISSING = "<missing>"
_NUMBER = r"[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?"
_QUANTITY = re.compile(rf"^\s*({_NUMBER})\s*(\S.*?)?\s*$")
_NAME_FORBIDDEN = re.compile(r"[/\\\x00-\x1f\x7f]")

Where = dict[str, tuple[str, int | None]]


def _suggest(value: object, choices) -> str:
    """`` (did you mean 'x'?)`` for the choice nearest ``value``, or ``""``."""
    if not isinstance(value, str):
        return ""
    close = difflib.get_close_matches(value, list(choices), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _found(value: Any) -> Any:
    """What a message shows for a value: collections by kind, scalars as they are."""
    if isinstance(value, dict):
        return "<a mapping>"
    if isinstance(value, list):
        return "<a list>"
    if value is None:
        return "<null>"
    return value


# Reading, with inheritance ---------------------------------------------------------------------


def _within(path: str, key: str) -> bool:
    """Whether the dotted ``path`` is ``key`` or lies below it."""
    return path == key or path.startswith(key + ".")


def _merge(base: dict, base_where: Where, child: dict, child_where: Where) -> tuple[dict, Where]:
    """The child's keys over the base's; ``parameters`` and ``initial_conditions`` merge by name."""
    merged = dict(base)
    where = dict(base_where)
    where[""] = child_where[""]
    for key, value in child.items():
        top = str(key)
        if key in MERGED_KEYS and isinstance(value, (dict, type(None))) and isinstance(merged.get(key), dict):
            merged[key] = {**merged[key], **(value or {})}  # an empty key adds nothing
        else:
            merged[key] = value
            where = {p: w for p, w in where.items() if not _within(p, top)}
        where.update({p: w for p, w in child_where.items() if _within(p, top)})
    return merged, where


def _read(path: Path, chain: tuple[Path, ...]) -> tuple[dict, Where]:
    """Data of ``path`` with its ``extends`` chain resolved, and where each key path comes from."""
    data, lines = load_yaml(path)
    file = str(path)
    where: Where = {p: (file, line) for p, line in lines.items()}
    if "extends" not in data:
        return data, where
    base_name = data.pop("extends")
    line = lines.get("extends")
    if not isinstance(base_name, str) or not base_name.strip():
        raise InputError(file, line, "extends", _found(base_name),
                         "the path of a base scenario file, relative to this file")
    base_path = path.parent / base_name
    if len(chain) + 1 >= MAX_EXTENDS_DEPTH:
        raise InputError(file, line, "extends", base_name,
                         f"a chain of at most {MAX_EXTENDS_DEPTH} files (each extends: adds one)")
    try:
        resolved = base_path.resolve(strict=True)
        here = chain + (path.resolve(strict=True),)
    except FileNotFoundError:
        raise InputError(file, line, "extends", base_name,
                         f"an existing scenario file (looked for {base_path})") from None
    except (OSError, RuntimeError) as exc:  # a symlink loop (ELOOP), permissions, ...
        reason = getattr(exc, "strerror", None) or str(exc)
        raise InputError(file, line, "extends", base_name,
                         f"a readable scenario file ({base_path}: {reason})") from None
    if resolved in here:
        cycle = " -> ".join(str(p) for p in here[here.index(resolved):] + (resolved,))
        raise InputError(file, line, "extends", base_name,
                         f"a base file that does not extend this one again; the chain is a cycle: {cycle}")
    if not base_path.exists():
        raise InputError(file, line, "extends", base_name,
                         f"an existing scenario file (looked for {base_path})")
    base, base_where = _read(base_path, here)
    return _merge(base, base_where, data, {p: w for p, w in where.items() if not _within(p, "extends")})


# Checking ---------------------------------------------------------------------------------


class _Checker:
    """Checks values of a merged scenario mapping; errors point at the file and line of a key path."""

    def __init__(self, where: Where, file: str):
        self.where = where
        self.file = file

    def fail(self, path: str, found: Any, expected: str) -> None:
        probe = path
        while probe not in self.where and probe:
            probe = probe.rpartition(".")[0]
        file, line = self.where.get(probe, (self.file, None))
        raise InputError(file, line, path or None, found, expected)

    # Generic checks -------------------------------------------------------------------------
    def known_keys(self, path: str, mapping: Mapping, known, what: str) -> None:
        for key in mapping:
            if key not in known:
                self.fail(join_path(path, key), key,
                          f"{what}: one of {', '.join(known)}{_suggest(key, known)}")

    def mapping(self, path: str, value: Any, expected: str) -> dict:
        """A mapping; ``None`` (a key left empty) counts as an empty one."""
        if value is None:
            return {}
        if not isinstance(value, dict):
            self.fail(path, _found(value), expected)
        return value

    def number(self, path: str, value: Any, *, low: float = 0.0, strict: bool = False,
               unit: str = "", low_text: str | None = None) -> float:
        """A finite int or float (not a bool) that is >= ``low`` (> ``low`` if ``strict``)."""
        bound = f"{'>' if strict else '>='} {low_text or f'{low:g}'}"
        expected = f"a finite number {bound}{f' ({unit})' if unit else ''}"
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            if isinstance(value, bool):
                expected += ", not true/false"
            self.fail(path, _found(value), expected)
        try:
            x = float(value)
        except OverflowError:
            x = math.inf
        if not math.isfinite(x) or x < low or (strict and x == low):
            self.fail(path, value, expected)
        return x

    def text(self, path: str, value: Any, expected: str) -> str:
        if not isinstance(value, str):
            self.fail(path, _found(value), expected)
        return value

    def choice(self, path: str, value: Any, choices, what: str) -> str:
        if not isinstance(value, str) or value not in choices:
            self.fail(path, _found(value), f"{what}: one of {', '.join(choices)}{_suggest(value, choices)}")
        return value

    def quantity(self, path: str, value: Any, units, example: str) -> tuple[float, str]:
        """``"<number> <unit>"`` with a unit from ``units``: returns ``(number, unit)``."""
        expected = f"a number with a unit ({' or '.join(units)}), e.g. {example!r}"
        if not isinstance(value, str):
            self.fail(path, _found(value), expected)
        match = _QUANTITY.match(value)
        if match is None:
            self.fail(path, value, expected)
        number, unit = match.groups()
        if unit not in units:
            self.fail(path, value, f"{expected}; the unit must be one of {', '.join(units)}"
                      f"{_suggest(unit, units)}")
        x = float(number)
        if not math.isfinite(x):
            self.fail(path, value, f"a finite number with a unit ({' or '.join(units)}), e.g. {example!r}")
        return x, unit

    # The scenario ---------------------------------------------------------------------------
    def scenario(self, data: dict, source: str) -> Scenario:
        self.known_keys("", data, TOP_LEVEL_KEYS, "a scenario key")
        name = self.name(data.get("name", _MISSING))
        description = data.get("description", "")
        self.text("description", description, "free text (a string)")
        species = self.choice("species", data.get("species", "mouse"), SPECIES, "a species")
        if "duration_days" not in data:
            self.fail("duration_days", _MISSING, "a finite number > 0 (days; required)")
        duration = self.number("duration_days", data["duration_days"], strict=True, unit="days")
        # The default sampling is daily, or the whole run if that is shorter than a day.
        every_given = data.get("output_every_days", min(1.0, duration))
        if "output_every_days" not in data and duration / every_given > MAX_OUTPUT_TIMES:
            self.fail("duration_days", data["duration_days"],
                      f"at most {MAX_OUTPUT_TIMES:g} days with the default daily output, or an "
                      "output_every_days giving at most that many output times")
        every = self.number("output_every_days", every_given, strict=True, unit="days")
        if every > duration:
            self.fail("output_every_days", every_given, f"at most duration_days ({duration:g})")
        if duration / every > MAX_OUTPUT_TIMES:
            self.fail("output_every_days", every_given,
                      f"an interval giving at most {MAX_OUTPUT_TIMES} output times over "
                      f"duration_days ({duration:g}), i.e. >= {duration / MAX_OUTPUT_TIMES:g}")
        parameters = self.overrides("parameters", data.get("parameters"), PARAMETER_NAMES, "parameter")
        initial = self.overrides("initial_conditions", data.get("initial_conditions"), STATE_NAMES, "state")
        body_weight = None
        if "body_weight" in data:
            value, unit = self.quantity("body_weight", data["body_weight"], tuple(WEIGHT_UNITS), "25 g")
            if value <= 0 or value * WEIGHT_UNITS[unit] > MAX_VALUE:
                self.fail("body_weight", data["body_weight"], "a body weight > 0, e.g. '25 g'")
            if "body_weight" in parameters:
                self.fail("body_weight", data["body_weight"],
                          "body_weight given once: either here or as parameters.body_weight, not both")
            body_weight = value * WEIGHT_UNITS[unit]
        treatments = data.get("treatments")
        if treatments is None:
            treatments = []
        if not isinstance(treatments, list):
            self.fail("treatments", _found(treatments), "a list of treatments (each a mapping "
                      "with drug, dose, route, ...)")
        regimens = tuple(self.treatment(i, item) for i, item in enumerate(treatments))
        total = sum(_dose_count(r) for r in regimens)
        if total > MAX_TOTAL_DOSES:
            self.fail("treatments", f"<{len(regimens)} treatments giving {total} doses in all>",
                      f"at most {MAX_TOTAL_DOSES} doses over all treatments of a scenario")
        return Scenario(name=name, duration_days=duration, species=species,
                        output_every_days=every, description=description, parameters=parameters,
                        initial_conditions=initial, treatments=regimens,
                        body_weight_kg=body_weight, source=source)

    def name(self, value: Any) -> str:
        expected = ("a non-empty name without path separators or control characters "
                    "(it names the output directory)")
        if value is _MISSING:
            self.fail("name", _MISSING, expected + "; required")
        self.text("name", value, expected)
        if not value.strip() or value.strip() in (".", "..") or _NAME_FORBIDDEN.search(value):
            self.fail("name", value, expected)
        return value

    def overrides(self, path: str, value: Any, known, noun: str) -> dict[str, float]:
        """Overrides by name (``noun`` names or states): each a finite number >= 0."""
        mapping = self.mapping(path, value, f"a mapping of {noun} names to numbers >= 0")
        out = {}
        for key, number in mapping.items():
            key_path = join_path(path, key)
            if key not in known:
                listed = (f"one of {', '.join(known)}" if len(known) <= 30
                          else f"one of the {len(known)} listed by `simbev params`")
                self.fail(key_path, key, f"a {noun} name: {listed}{_suggest(key, known)}")
            out[key] = self.number(key_path, number)
            if noun == "parameter":  # the admissibility contract, as the API applies it
                unit = load_parameter_set("mouse").records[key].unit
                try:
                    check_value(key, unit, number)
                except InadmissibleValue as exc:
                    self.fail(key_path, number, exc.expected)
            elif out[key] > MAX_VALUE:
                self.fail(key_path, number, f"a finite number >= 0 and <= {MAX_VALUE:g}")
        return out

    def treatment(self, i: int, item: Any) -> Regimen:
        path = f"treatments.{i}"
        if not isinstance(item, dict):
            self.fail(path, _found(item), f"a treatment: a mapping with keys {', '.join(TREATMENT_KEYS)}")
        self.known_keys(path, item, TREATMENT_KEYS, "a treatment key")
        for key in ("drug", "dose", "route"):
            if key not in item:
                self.fail(f"{path}.{key}", _MISSING, {
                    "drug": f"a drug, one of {', '.join(DRUGS)} (required)",
                    "dose": "a number with a unit, e.g. '10 mg/kg' (required)",
                    "route": f"a route, one of {', '.join(ALL_ROUTES)} (required)",
                }[key])
        drug = self.choice(f"{path}.drug", item["drug"], DRUGS, "a drug")
        dose = self.quantity(f"{path}.dose", item["dose"], DOSE_UNITS, "10 mg/kg")
        if dose[0] < 0 or dose[0] > MAX_DOSE:
            self.fail(f"{path}.dose", item["dose"], "a dose >= 0 with a unit, e.g. '10 mg/kg' "
                      f"(at most {MAX_DOSE:g} mg or mg/kg)")
        route = self.choice(f"{path}.route", item["route"], ALL_ROUTES, "a route")
        if route not in ROUTES[drug]:
            self.fail(f"{path}.route", route, f"a route for {drug}: one of {', '.join(ROUTES[drug])}")

        start = self.number(f"{path}.start_day", item.get("start_day", 0.0), unit="day")
        every = doses = stop = None
        if "every_days" not in item:
            for key in ("doses", "stop_day"):
                if key in item:
                    self.fail(f"{path}.{key}", _found(item[key]),
                              f"every_days as well: {key} only goes with a repeat interval "
                              "(omit it for a single dose)")
        else:
            every = self.number(f"{path}.every_days", item["every_days"], strict=True, unit="days")
            if "doses" in item and "stop_day" in item:
                self.fail(f"{path}.stop_day", item["stop_day"],
                          "either doses or stop_day, not both")
            if "doses" in item:
                doses = item["doses"]
                if isinstance(doses, bool) or not isinstance(doses, int) or not 1 <= doses <= MAX_DOSES:
                    self.fail(f"{path}.doses", _found(doses),
                              f"a whole number of doses from 1 to {MAX_DOSES} (the total count)")
            elif "stop_day" in item:
                stop = self.number(f"{path}.stop_day", item["stop_day"], low=start,
                                   low_text=f"start_day ({start:g})", unit="day")
                if (stop - start) / every >= MAX_DOSES:
                    self.fail(f"{path}.every_days", item["every_days"],
                              f"an interval giving at most {MAX_DOSES} doses from start_day "
                              f"({start:g}) to stop_day ({stop:g})")
            else:
                self.fail(f"{path}.every_days", item["every_days"],
                          "doses or stop_day alongside every_days (how many doses in all, "
                          "or the last day); omit every_days for a single dose")

        hours = None
        if route == "iv_infusion":
            if "infusion_hours" not in item:
                self.fail(f"{path}.infusion_hours", _MISSING,
                          "a finite number > 0 (hours; required for route iv_infusion)")
            hours = self.number(f"{path}.infusion_hours", item["infusion_hours"], low=MIN_INFUSION_HOURS,
                                unit="hours")
            if hours / 24.0 > MAX_VALUE:
                self.fail(f"{path}.infusion_hours", item["infusion_hours"], f"at most {MAX_VALUE * 24:g} hours")
        elif "infusion_hours" in item:
            self.fail(f"{path}.infusion_hours", _found(item["infusion_hours"]),
                      f"no infusion_hours for route {route} (only iv_infusion has a duration)")
        return Regimen(drug, dose, route, start, every, doses, stop, hours, index=i)


def _dose_count(regimen: Regimen) -> int:
    """How many doses ``regimen`` gives at most (before dropping those after the run)."""
    if regimen.every_days is None:
        return 1
    if regimen.doses is not None:
        return regimen.doses
    return int((regimen.stop_day - regimen.start_day) / regimen.every_days) + 1


def load_scenario(path) -> Scenario:
    """Load and validate a scenario file.

    Parameters
    ----------
    path : str or os.PathLike
        The scenario YAML file (format: README, "Using it"). ``extends`` paths inside it are relative
        to the file that names them.

    Returns
    -------
    Scenario
        The validated scenario, with ``source`` set to ``str(path)``.

    Raises
    ------
    InputError
        For any problem with the file or a file it extends: it names the file, the line, the
        key path, the value found and what would be accepted.
    """
    path = Path(path)
    data, where = _read(path, ())
    return _Checker(where, str(path)).scenario(data, str(path))


def validate_file(path) -> Scenario:
    """Check a scenario file without running it (``simbev validate``); return the Scenario.

    Same checks and errors as :func:`load_scenario`.
    """
    return load_scenario(path)
