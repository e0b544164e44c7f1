"""Parameter sweeps, sensitivity analyses and virtual cohorts (``simbev sweep``).

A sweep file (YAML, format in ``docs/sweeps.md`` and INTERFACE.md) names a base scenario, a
design and what it varies; :func:`load_sweep` validates it into a :class:`Sweep`, and
:func:`run_sweep` runs every sample of the design (in every arm) and writes into ``OUT``:

``sweep.sqlite``
    The crash-safe store (:mod:`simbev.sweep_store`): one row per task, committed as soon as
    it finishes. Running the same sweep into the same ``OUT`` again resumes it.
``results.csv``
    Exported from the store at the end (atomically): ``sample_id``, ``arm`` (with several
    arms), the varied values, the metrics, ``status`` and ``error``. A ``# units:`` comment
    line comes first (``pandas.read_csv(path, skiprows=1)``).
``sensitivity.csv``
    Sobol' or Morris indices per arm and metric (those designs only).
figures (PNG)
    Metrics against the varied values, tumour curves coloured by a varied value, a heat map
    for two-dimensional grids, Sobol' and Morris bar charts, progression-free curves per arm.

Layers: :mod:`simbev.sweep_designs` (samples and SALib analyses, model-free),
:mod:`simbev.executors` (serial, processes, Dask), :mod:`simbev.sweep_store` (SQLite), and this
module (the file format, evaluation of one sample, the run loop, tables and figures).

A sample is a pure function of its inputs (the base scenario, its values, the metrics), so
the results are identical whichever executor ran them, in whatever order.
"""
from __future__ import annotations

import csv
import dataclasses
import hashlib
import math
import os
import re
import sys
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

import numpy as np

from .dosing import Regimen
from .errors import InputError
from .scenario import Scenario
from .sweep_designs import (DEFAULT_OPTIONS, DESIGNS, SCALES, Factor, analyze, canonical_json,
                            design_size, sample_design, sample_hash)
from .sweep_store import FAILED, OK, StoreLocked, SweepStore

__all__ = ["Sweep", "Arm", "SweepOutcome", "SweepChangedError", "load_sweep", "run_sweep",
           "apply_sample", "export_results", "kaplan_meier", "plot_metric_vs_values", "plot_heatmap",
           "plot_tumor_curves", "plot_sobol", "plot_morris", "plot_progression_free",
           "add_sweep_subcommand", "TOP_LEVEL_KEYS", "TREATMENT_FIELDS"]

TOP_LEVEL_KEYS = ("name", "description", "scenario", "arms", "design", "samples", "seed", "vary",
                  "metrics", "options", "trajectories")
#: Treatment fields a sweep may vary, with their unit (``dose`` takes the unit of its values).
TREATMENT_FIELDS = {"dose": None, "start_day": "day", "every_days": "day", "stop_day": "day",
                    "doses": "1", "infusion_hours": "hour"}
STORE_NAME = "sweep.sqlite"
RESULTS_NAME = "results.csv"
SENSITIVITY_NAME = "sensitivity.csv"
DEFAULT_TRAJECTORIES = 50
MAX_TRAJECTORIES = 1000
MAX_TASKS = 1_000_000
MAX_FACTORS = 128  # a Sobol' analysis over every parameter's plausible range needs ~70
MAX_ATTEMPTS = 3
#: Design options that change only the analysis, not the samples: a sweep may be resumed (and
#: re-analysed) with other values.
ANALYSIS_OPTIONS = ("resamples", "conf_level")

_TREATMENT_PATH = re.compile(r"^treatments\.(\d+)\.([A-Za-z_]+)$")
_IC_PATH = re.compile(r"^initial_conditions\.([A-Za-z_][A-Za-z0-9_]*)$")
_AT = re.compile(r"^(?P<name>[A-Za-z_][A-Za-z0-9_]*)@(?P<day>[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?)$")


class SweepChangedError(InputError):
    """The output folder holds a different sweep than the file given: resuming is refused."""


# --- the sweep ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class Arm:
    """One arm: a scenario that every sample of the design is run in."""

    name: str
    scenario: Scenario | None
    file: str | None = None


@dataclass(frozen=True)
class Sweep:
    """A validated sweep: a design over :class:`~simbev.sweep_designs.Factor` s, run in arms.

    Build one with :func:`load_sweep`, or directly (e.g. with an injected evaluation function
    and ``arms=(Arm("f", None),)`` for a model-free test).
    """

    name: str
    design: str
    factors: tuple[Factor, ...]
    metrics: tuple[str, ...]
    arms: tuple[Arm, ...]
    samples: int | None = None
    seed: int = 0
    options: Mapping[str, Any] = field(default_factory=dict)
    trajectories: int = DEFAULT_TRAJECTORIES
    description: str = ""
    source: str | None = None
    metric_units: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self):
        object.__setattr__(self, "factors", tuple(self.factors))
        object.__setattr__(self, "metrics", tuple(self.metrics))
        object.__setattr__(self, "arms", tuple(self.arms))

    @property
    def size(self) -> int:
        """Number of samples of the design (each run once per arm)."""
        return design_size(self.design, self.factors, self.samples, self.options)

    @property
    def n_tasks(self) -> int:
        return self.size * len(self.arms)

    def sample_values(self) -> list[dict[str, float]]:
        """The samples, ``{factor name: value}``; a sample's position is its id."""
        return sample_design(self.design, self.factors, self.samples, self.seed, self.options)

    def record(self) -> dict:
        """Everything that decides the results, as plain data (what the hash covers).

        Comments, layout, the order of the top-level keys, ``name``, ``description``, the
        paths of the scenario files and the options of the analysis alone (``resamples``,
        ``conf_level``) do not count; the scenarios' content and the order of the factors
        (which orders the samples) do.
        """
        options = {k: v for k, v in self.options.items() if k not in ANALYSIS_OPTIONS}
        return {"design": self.design, "samples": self.samples, "seed": self.seed,
                "options": options, "factors": [f.record() for f in self.factors],
                "metrics": list(self.metrics), "trajectories": self.trajectories,
                "arms": [{"name": a.name, "scenario": None if a.scenario is None else _scenario_state(a.scenario)}
                         for a in self.arms]}


def _scenario_state(s: Scenario, full: bool = False) -> dict:
    """A scenario as plain, picklable data (``Scenario`` itself holds mappingproxies)."""
    out = {"name": s.name, "duration_days": s.duration_days, "species": s.species,
           "output_every_days": s.output_every_days, "parameters": dict(s.parameters),
           "initial_conditions": dict(s.initial_conditions),
           "treatments": [dataclasses.asdict(r) for r in s.treatments],
           "body_weight_kg": s.body_weight_kg}
    if full:
        out.update(description=s.description, source=s.source)
    return out


def _scenario_from_state(state: dict) -> Scenario:
    state = dict(state)
    state["treatments"] = tuple(Regimen(**{**r, "dose": tuple(r["dose"])}) for r in state["treatments"])
    return Scenario(**state)


def _base_value(scenario: Scenario, name: str) -> float:
    """Value of parameter or ``initial_conditions.<state>`` ``name`` in ``scenario``."""
    from .parameters import load_parameter_set
    from .states import STATE_INDEX
    pset = load_parameter_set(scenario.species)
    m = _IC_PATH.match(name)
    if m:
        state = m[1]
        if state in scenario.initial_conditions:
            return float(scenario.initial_conditions[state])
        return float(pset.initial_state()[STATE_INDEX[state]])
    if name in scenario.parameters:
        return float(scenario.parameters[name])
    if name == "body_weight" and scenario.body_weight_kg is not None:
        return float(scenario.body_weight_kg)
    return float(pset[name])


def apply_sample(scenario: Scenario, values: Mapping[str, Any]) -> tuple[Scenario, dict[str, float]]:
    """The scenario with a sample's treatment and initial-condition values, and its parameter
    overrides (for ``simulate(scenario, parameters=...)``).

    Treatment doses are numbers in the factor's unit (the value of ``treatments.N.dose`` in a
    sweep file, ``"5 mg/kg"``, becomes ``5.0`` with unit ``mg/kg``), or ``(value, unit)``.
    """
    params: dict[str, float] = {}
    ic = dict(scenario.initial_conditions)
    regimens = list(scenario.treatments)
    for name, value in values.items():
        m = _TREATMENT_PATH.match(name)
        if m:
            i, key = int(m[1]), m[2]
            reg = regimens[i]
            if key == "dose":
                new = tuple(value) if isinstance(value, (tuple, list)) else (float(value), reg.dose[1])
            elif key == "doses":
                new = int(value)
            else:
                new = float(value)
            regimens[i] = dataclasses.replace(reg, **{key: new})
            continue
        m = _IC_PATH.match(name)
        if m:
            ic[m[1]] = float(value)
            continue
        params[name] = float(value)
    return dataclasses.replace(scenario, initial_conditions=ic, treatments=tuple(regimens)), params


# --- reading a sweep file ----------------------------------------------------------------------

def _needs(module: str, what: str, path: str, checker) -> None:
    import importlib.util
    if importlib.util.find_spec(module) is None:
        checker.fail(path, what, f"a design whose packages are installed: {what} needs {module} "
                     "(pip install 'simbev[sweep]')")


def load_sweep(path) -> Sweep:
    """Load and validate a sweep file.

    Parameters
    ----------
    path : str or os.PathLike
        The sweep YAML file. ``scenario`` and ``arms`` paths are relative to it.

    Raises
    ------
    InputError
        For any problem, naming the file, the line, the key path, the value found and what
        would be accepted (an unknown name suggests the nearest known one). Problems in a
        scenario file it names are reported with that file's name and line.
    """
    from .scenario_file import _Checker
    from .yamlsafe import load_yaml
    path = Path(path)
    data, lines = load_yaml(path)
    file = str(path)
    checker = _Checker({p: (file, line) for p, line in lines.items()}, file)
    return _SweepReader(checker, path, data).sweep()


class _SweepReader:
    def __init__(self, checker, path: Path, data: dict):
        self.c = checker
        self.path = path
        self.data = data

    def fail(self, key: str, found: Any, expected: str):
        self.c.fail(key, found, expected)

    def sweep(self) -> Sweep:
        from .scenario_file import _found
        c, data = self.c, self.data
        c.known_keys("", data, TOP_LEVEL_KEYS, "a sweep key")
        from .scenario_file import _MISSING
        name = c.name(data.get("name", _MISSING))
        description = data.get("description", "")
        c.text("description", description, "free text (a string)")
        if "design" not in data:
            self.fail("design", _MISSING, f"a design, one of {', '.join(DESIGNS)} (required)")
        design = c.choice("design", data["design"], DESIGNS, "a design")
        if design in ("sobol", "morris"):
            _needs("SALib", design, "design", c)
        arms = self.arms()
        samples = self.samples(design)
        seed = data.get("seed", 0)
        if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed < 2 ** 63:
            self.fail("seed", _found(seed), "a whole number >= 0 (the random seed)")
        options = self.options(design)
        factors = self.factors(design, arms)
        if design == "sobol" and len(factors) < 2:
            self.fail("vary", _found(data.get("vary")), "at least two varied factors for Sobol' indices")
        if design == "morris" and len(factors) < 1:
            self.fail("vary", _found(data.get("vary")), "at least one varied factor")
        metrics, units = self.metrics(arms)
        trajectories = data.get("trajectories", DEFAULT_TRAJECTORIES)
        if isinstance(trajectories, bool) or not isinstance(trajectories, int) \
                or not 0 <= trajectories <= MAX_TRAJECTORIES:
            self.fail("trajectories", _found(trajectories),
                      f"a whole number from 0 to {MAX_TRAJECTORIES}: how many samples keep their "
                      "tumour curve for the figure")
        sweep = Sweep(name=name, design=design, factors=factors, metrics=metrics, arms=arms,
                      samples=samples, seed=seed, options=options, trajectories=trajectories,
                      description=description, source=str(self.path), metric_units=units)
        if sweep.n_tasks > MAX_TASKS:
            key = "samples" if "samples" in data else "vary"
            self.fail(key, _found(data.get(key)),
                      f"a design of at most {MAX_TASKS} runs in all (this one has {sweep.size} "
                      f"samples x {len(arms)} arm(s) = {sweep.n_tasks})")
        return sweep

    # --- pieces ------------------------------------------------------------------------
    def scenario_file(self, key: str, value: Any):
        from .scenario_file import _found, load_scenario
        if not isinstance(value, str) or not value.strip():
            self.fail(key, _found(value), "the path of a scenario file, relative to the sweep file")
        target = self.path.parent / value
        if not target.is_file():
            self.fail(key, value, f"an existing scenario file (looked for {target})")
        return load_scenario(target), str(target)

    def arms(self) -> tuple[Arm, ...]:
        from .scenario_file import _found
        data = self.data
        base = None
        if "scenario" in data:
            base = self.scenario_file("scenario", data["scenario"])
        if "arms" not in data:
            if base is None:
                self.fail("scenario", "<missing>", "the path of the base scenario file, relative to "
                          "the sweep file (required unless arms are given)")
            return (Arm(base[0].name, base[0], base[1]),)
        items = data["arms"]
        if not isinstance(items, list) or not items:
            self.fail("arms", _found(items), "a non-empty list of scenario files, relative to the sweep file")
        arms = []
        for i, item in enumerate(items):
            scenario, target = self.scenario_file(f"arms.{i}", item)
            if any(a.name == scenario.name for a in arms):
                self.fail(f"arms.{i}", item, f"arms with distinct scenario names ({scenario.name!r} "
                          "is already an arm)")
            arms.append(Arm(scenario.name, scenario, target))
        return tuple(arms)

    def samples(self, design: str) -> int | None:
        from .scenario_file import _found
        data = self.data
        if design == "grid":
            if "samples" in data:
                self.fail("samples", _found(data["samples"]), "no samples for a grid (its size is "
                          "the product of the lengths of the value lists); remove the key")
            return None
        what = {"cohort": "the number of virtual patients", "morris": "the number of trajectories",
                "sobol": "the base number N of Saltelli's scheme, a power of 2",
                "latin_hypercube": "the number of samples"}[design]
        if "samples" not in data:
            self.fail("samples", "<missing>", f"a whole number >= 1: {what} (required)")
        n = data["samples"]
        low = 2 if design == "morris" else 1
        if isinstance(n, bool) or not isinstance(n, int) or not low <= n <= MAX_TASKS:
            self.fail("samples", _found(n), f"a whole number from {low} to {MAX_TASKS}: {what}")
        if design == "sobol" and n & (n - 1):
            self.fail("samples", n, f"a power of 2 for the Sobol' sequence (e.g. {1 << n.bit_length() - 1} "
                      f"or {1 << n.bit_length()})")
        return n

    def options(self, design: str) -> dict:
        from .scenario_file import _found
        value = self.data.get("options")
        if value is None:
            return dict(DEFAULT_OPTIONS.get(design, {}))
        known = DEFAULT_OPTIONS.get(design, {})
        opts = self.c.mapping("options", value, f"a mapping of {design} options"
                              + (f" ({', '.join(known)})" if known else ""))
        if opts and not known:
            self.fail(f"options.{next(iter(opts))}", next(iter(opts)), f"no options: design {design} has none")
        self.c.known_keys("options", opts, tuple(known), f"a {design} option")
        out = dict(known)
        for key, v in opts.items():
            p = f"options.{key}"
            if key == "second_order":
                if not isinstance(v, bool):
                    self.fail(p, _found(v), "true or false: also compute second-order Sobol' indices")
            elif key in ("resamples",):
                if isinstance(v, bool) or not isinstance(v, int) or not 10 <= v <= 100_000:
                    self.fail(p, _found(v), "a whole number from 10 to 100000 (bootstrap resamples "
                              "for the confidence intervals)")
            elif key == "levels":
                if isinstance(v, bool) or not isinstance(v, int) or v < 2 or v % 2:
                    self.fail(p, _found(v), "an even whole number >= 2 (levels of the Morris grid)")
            elif key == "conf_level":
                v = self.c.number(p, v, strict=True)
                if v >= 1:
                    self.fail(p, v, "a confidence level between 0 and 1 (e.g. 0.95)")
            out[key] = v
        return out

    def factors(self, design: str, arms: tuple[Arm, ...]) -> tuple[Factor, ...]:
        from .scenario_file import _found
        data = self.data
        if "vary" not in data:
            self.fail("vary", "<missing>", "a mapping of what to vary (parameter names or "
                      "treatments.N.<field>) to their values or ranges (required)")
        vary = self.c.mapping("vary", data["vary"], "a mapping of parameter names or treatment "
                              "paths to {values: [...]}, {low, high, scale} or {cv}")
        if not vary:
            self.fail("vary", _found(data["vary"]), "at least one varied parameter or treatment field")
        if len(vary) > MAX_FACTORS:
            self.fail("vary", f"<{len(vary)} entries>", f"at most {MAX_FACTORS} varied factors")
        return tuple(self.factor(design, str(name), spec, arms) for name, spec in vary.items())

    def target(self, name: str, arms: tuple[Arm, ...], path: str) -> tuple[str, str, Any]:
        """What ``name`` varies: ``("parameter"|"initial"|"treatment", unit, detail)``."""
        from .model import PARAMETER_NAMES
        from .parameters import load_parameter_set
        from .scenario_file import _suggest
        from .states import STATE_NAMES, STATE_UNITS
        m = _TREATMENT_PATH.match(name)
        if m:
            i, key = int(m[1]), m[2]
            if key not in TREATMENT_FIELDS:
                self.fail(path, name, f"a treatment field that can be varied: one of "
                          f"{', '.join(TREATMENT_FIELDS)}{_suggest(key, TREATMENT_FIELDS)}")
            for arm in arms:
                regs = arm.scenario.treatments if arm.scenario is not None else ()
                where = f"arm {arm.name!r} ({arm.file})"
                if i >= len(regs):
                    self.fail(path, name, f"a treatment that exists: {where} has "
                              f"{len(regs)} treatment(s), numbered from 0")
                reg = regs[i]
                if key in ("every_days", "doses", "stop_day") and reg.every_days is None:
                    self.fail(path, name, f"a field of a repeated regimen: treatments.{i} of {where} "
                              "is a single dose (no every_days)")
                if key == "doses" and reg.doses is None:
                    self.fail(path, name, f"stop_day rather than doses: treatments.{i} of {where} "
                              "ends by stop_day")
                if key == "stop_day" and reg.stop_day is None:
                    self.fail(path, name, f"doses rather than stop_day: treatments.{i} of {where} "
                              "ends by a number of doses")
                if key == "infusion_hours" and reg.route != "iv_infusion":
                    self.fail(path, name, f"a field of an infusion: treatments.{i} of {where} is "
                              f"given by {reg.route}")
            first = arms[0].scenario.treatments[i]
            return "treatment", TREATMENT_FIELDS[key] or first.dose[1], (i, key, first)
        m = _IC_PATH.match(name)
        if m:
            if m[1] not in STATE_NAMES:
                self.fail(path, name, f"initial_conditions.<state> with a state: one of "
                          f"{', '.join(STATE_NAMES)}{_suggest(m[1], STATE_NAMES)}")
            return "initial", STATE_UNITS[m[1]], None
        if name not in PARAMETER_NAMES:
            known = list(PARAMETER_NAMES) + ["treatments.0.dose", "initial_conditions.tumor_normoxic"]
            self.fail(path, name, "a parameter name (listed by `simbev params`), "
                      "treatments.N.<field> or initial_conditions.<state>" + _suggest(name, known))
        species = arms[0].scenario.species if arms[0].scenario is not None else "mouse"
        return "parameter", load_parameter_set(species).records[name].unit, None

    def factor(self, design: str, name: str, spec: Any, arms: tuple[Arm, ...]) -> Factor:
        from .scenario_file import _found
        path = f"vary.{name}"
        kind, unit, detail = self.target(name, arms, path)
        key = detail[1] if kind == "treatment" else None
        forms = {"grid": ("values",), "cohort": ("cv",)}.get(design, ("low", "high", "scale"))
        expected = {"grid": "a grid axis: {values: [v1, v2, ...]}",
                    "cohort": "between-patient variability: {cv: 0.2} (log-normal around the "
                              "scenario's value)"}.get(design, "a range: {low: L, high: H, scale: linear|log}")
        spec = self.c.mapping(path, spec, expected)
        self.c.known_keys(path, spec, forms, f"a key of {design} factors ({expected})")
        if design == "grid":
            if "values" not in spec:
                self.fail(f"{path}.values", "<missing>", expected)
            items = spec["values"]
            if not isinstance(items, list) or not items:
                self.fail(f"{path}.values", _found(items), "a non-empty list of values")
            values = []
            for j, v in enumerate(items):
                x, u = self.value(f"{path}.values.{j}", v, kind, key, unit)
                if key == "dose" and u != unit:
                    if j == 0:
                        unit = u
                    else:
                        self.fail(f"{path}.values.{j}", v, f"a dose in {unit}, the unit of the "
                                  "axis's first value (one unit per axis)")
                if x in values:
                    self.fail(f"{path}.values.{j}", v, "values that differ from each other")
                values.append(x)
            return Factor(name, values=tuple(values), unit=unit, integer=key == "doses")
        if design == "cohort":
            if kind == "treatment":
                self.fail(path, name, "a parameter or initial_conditions.<state>: a cohort varies "
                          "patients, not treatments (use a grid over treatment fields, or arms)")
            if "cv" not in spec:
                self.fail(f"{path}.cv", "<missing>", expected)
            cv = self.c.number(f"{path}.cv", spec["cv"], strict=True)
            if cv > 10:
                self.fail(f"{path}.cv", spec["cv"], "a coefficient of variation from 0 to 10 (e.g. 0.2 = 20 %)")
            base = _base_value(arms[0].scenario, name)
            if base <= 0:
                self.fail(path, name, f"a factor whose value in the scenario is > 0 (it is {base:g}, "
                          "and a log-normal spread around 0 is 0)")
            return Factor(name, cv=cv, base=base, unit=unit)
        # sampled designs
        if key == "doses":
            self.fail(path, name, "a continuous factor: treatments.N.doses is a whole number and "
                      "can only be varied in a grid")
        for k in ("low", "high"):
            if k not in spec:
                self.fail(f"{path}.{k}", "<missing>", expected)
        low, ulow = self.value(f"{path}.low", spec["low"], kind, key, unit)
        high, uhigh = self.value(f"{path}.high", spec["high"], kind, key, unit)
        if key == "dose":
            if ulow != uhigh:
                self.fail(f"{path}.high", spec["high"], f"a dose in {ulow}, the unit of low")
            unit = ulow
        if not high > low:
            self.fail(f"{path}.high", spec["high"], f"a value > low ({spec['low']})")
        scale = spec.get("scale", "linear")
        self.c.choice(f"{path}.scale", scale, SCALES, "a scale")
        if scale == "log" and low <= 0:
            self.fail(f"{path}.low", spec["low"], "a value > 0 for scale: log")
        return Factor(name, low=low, high=high, scale=scale, unit=unit)

    def value(self, path: str, v: Any, kind: str, key: str | None, unit: str) -> tuple[Any, str]:
        """One value of a factor, checked: ``(number, unit)``."""
        from .scenario_file import DOSE_UNITS, MAX_DOSES, _found
        if key == "dose":
            if isinstance(v, str):
                x, u = self.c.quantity(path, v, DOSE_UNITS, "5 mg/kg")
            else:
                x, u = self.c.number(path, v, unit=unit), unit
            if x < 0:
                self.fail(path, v, "a dose >= 0 with a unit, e.g. '5 mg/kg'")
            return x, u
        if key == "doses":
            if isinstance(v, bool) or not isinstance(v, int) or not 1 <= v <= MAX_DOSES:
                self.fail(path, _found(v), f"a whole number of doses from 1 to {MAX_DOSES} (the total count)")
            return v, unit
        strict = key in ("every_days", "infusion_hours")
        return self.c.number(path, v, strict=strict, unit=unit), unit

    def metrics(self, arms: tuple[Arm, ...]) -> tuple[tuple[str, ...], dict[str, str]]:
        from . import metrics as M
        from .scenario_file import _found, _suggest
        from .states import DERIVED_NAMES, DERIVED_UNITS, STATE_NAMES, STATE_UNITS
        value = self.data.get("metrics", list(M.RESPONSE_METRICS))
        if not isinstance(value, list) or not value:
            self.fail("metrics", _found(value), "a non-empty list of metric names")
        outputs = {**STATE_UNITS, **DERIVED_UNITS}
        horizon = min((a.scenario.duration_days for a in arms if a.scenario is not None), default=math.inf)
        names, units = [], {}
        for j, name in enumerate(value):
            p = f"metrics.{j}"
            expected = (f"a metric: one of {', '.join(M.METRICS)}, or <output>@<day> for any state "
                        "or derived output (e.g. tumor_volume@28)")
            if not isinstance(name, str):
                self.fail(p, _found(name), expected)
            if name in M.METRICS:
                units[name] = M.METRICS[name].unit
            else:
                m = _AT.match(name)
                if m is None:
                    self.fail(p, name, expected + _suggest(name, list(M.METRICS)))
                if m["name"] not in outputs:
                    self.fail(p, name, "<output>@<day> with an output: one of "
                              f"{', '.join(STATE_NAMES + DERIVED_NAMES)}{_suggest(m['name'], outputs)}")
                day = float(m["day"])
                if not 0 <= day <= horizon:
                    self.fail(p, name, f"a day within every arm's run, from 0 to {horizon:g}")
                units[name] = outputs[m["name"]]
            if name in names:
                self.fail(p, name, "each metric once")
            names.append(name)
        return tuple(names), units


# --- evaluating one sample (runs in a worker) --------------------------------------------------

@dataclass(frozen=True)
class _Task:
    key: tuple[int, int]
    values: dict
    scenario: dict | None
    metrics: tuple[str, ...]
    keep_trajectory: bool
    evaluate: Callable | None = None


def _num(value) -> float | None:
    return None if value is None else float(value)


def _error_text(exc: BaseException) -> str:
    return " ".join(f"{type(exc).__name__}: {exc}".split())


def _run_task(task: _Task) -> dict:
    """Evaluate one task; never raises: a failure is returned as data."""
    t0 = time.perf_counter()
    out = {"status": OK, "metrics": {}, "error": None, "info": {}, "trajectory": None}
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")  # overflow warnings of a diverging sample: its row says it
        try:
            scenario = None if task.scenario is None else _scenario_from_state(task.scenario)
            if task.evaluate is not None:
                values = task.evaluate(dict(task.values), scenario)
                errors = []
                for name in task.metrics:
                    if name in values:
                        out["metrics"][name] = _num(values[name])
                    else:
                        errors.append(f"metric {name}: not returned by the evaluation function")
            else:
                out["metrics"], errors, out["info"], out["trajectory"] = _simulate_task(task, scenario)
            if errors:
                out.update(status=FAILED, error="; ".join(errors))
        except Exception as exc:  # noqa: BLE001 - any failure of one sample is kept as its row
            out.update(status=FAILED, metrics={}, error=_error_text(exc))
    out["elapsed"] = time.perf_counter() - t0
    return out


def _simulate_task(task: _Task, scenario: Scenario):
    """One sample through the fast path (:mod:`simbev.fast`: compiled, same answers as
    :func:`simbev.simulate` within 1e-4; it falls back to the reference path without numba)."""
    from . import metrics as M
    from .fast import simulate
    scenario, params = apply_sample(scenario, task.values)
    result = simulate(scenario, parameters=params)
    values, errors = {}, []
    for name in task.metrics:
        try:
            values[name] = _num(M.compute(result, [name])[name])
        except Exception as exc:  # noqa: BLE001
            errors.append(f"metric {name}: {_error_text(exc)}")
    start = M.treatment_start(result)
    info = {"treatment_start_day": start, "end_day": float(result.time[-1]),
            "followup_days": float(result.time[-1] - M.reference_start(result)),
            "solver_steps": result.stats.get("steps")}
    trajectory = None
    if task.keep_trajectory:
        trajectory = (result.time.tolist(), np.asarray(result["tumor_volume"]).tolist())
    return values, errors, info, trajectory


# --- running a sweep ---------------------------------------------------------------------------

@dataclass
class SweepOutcome:
    """What :func:`run_sweep` did and wrote."""

    name: str
    out_dir: Path
    results_csv: Path
    store: Path
    total: int            #: tasks in the sweep (samples x arms)
    skipped: int          #: finished before this run (resumed)
    ran: int              #: run now
    ok: int
    failed: int
    executor: str
    elapsed_s: float
    figures: list[Path] = field(default_factory=list)
    sensitivity: dict = field(default_factory=dict)   #: {arm: {metric: indices}}
    notes: list[str] = field(default_factory=list)


def _sweep_hash(sweep: Sweep, evaluate: Callable | None) -> tuple[str, str]:
    record = sweep.record()
    if evaluate is not None:
        record["evaluate"] = f"{getattr(evaluate, '__module__', '?')}.{getattr(evaluate, '__qualname__', repr(evaluate))}"
    text = canonical_json(record)
    return hashlib.sha256(text.encode()).hexdigest(), text


#: The files whose content decides what a sample computes (the model, its parameters, the
#: solver, dosing and metrics). Resuming a sweep after any of them changed is refused.
MODEL_FILES = ("model/*.py", "parameter_sets/*.yaml", "solver.py", "simulation.py", "dosing.py",
               "metrics.py", "states.py", "parameters.py", "result.py", "scenario.py")


def model_fingerprint() -> str:
    """SHA-256 (16 hex digits) of the source of :data:`MODEL_FILES` of this simbev."""
    root = Path(__file__).parent
    digest = hashlib.sha256()
    for pattern in MODEL_FILES:
        for path in sorted(root.glob(pattern)):
            digest.update(path.relative_to(root).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


def _changed_keys(old_json: str | None, new_json: str) -> list[str]:
    import json
    try:
        old = json.loads(old_json or "{}")
    except ValueError:
        return []
    new = json.loads(new_json)
    return [k for k in sorted(set(old) | set(new)) if old.get(k) != new.get(k)]


def _progress_bar(total: int, initial: int, enabled: bool | None, desc: str):
    if enabled is None:
        enabled = bool(getattr(sys.stderr, "isatty", lambda: False)())
    if enabled:
        try:
            from tqdm import tqdm
        except ImportError:
            return _NoBar()
        try:
            width, height = os.get_terminal_size(sys.stderr.fileno())
        except (OSError, ValueError, AttributeError):
            width = height = 0
        # A terminal that reports no size (some pseudo-terminals) would hide the bar.
        size = {"dynamic_ncols": True} if width > 0 and height > 0 else {"ncols": 100, "nrows": 24}
        return tqdm(total=total, initial=initial, desc=desc, unit="run", file=sys.stderr,
                    smoothing=0.05, **size)
    return _NoBar()


class _NoBar:
    def update(self, n=1):
        pass

    def close(self):
        pass


def run_sweep(sweep_path, out_dir, workers: int = 1, scheduler: str | None = None,
              progress: bool | None = False, *, evaluate: Callable | None = None,
              retry_failed: bool = False, figures: bool = True, executor=None) -> SweepOutcome:
    """Run (or resume) a sweep into ``out_dir``; return a :class:`SweepOutcome`.

    Parameters
    ----------
    sweep_path : path or Sweep
        The sweep file, or a :class:`Sweep` already loaded.
    out_dir : path
        Output folder: ``sweep.sqlite``, ``results.csv``, ``sensitivity.csv``, figures.
        If it holds the store of the same sweep, the sweep resumes: finished samples are not
        run again. If it holds another sweep, :class:`SweepChangedError` is raised.
    workers : int
        Local worker processes (1 = serial), or the size of a local Dask cluster.
    scheduler : str, optional
        A Dask scheduler address (``tcp://host:8786``), or ``"local"`` for a LocalCluster.
    progress : bool or None
        A tqdm progress bar on stderr; ``None`` shows it when stderr is a terminal.
    evaluate : callable, optional
        ``evaluate(values, scenario) -> {metric: value}`` in place of simulating the model
        (a module-level function, so that worker processes can import it).
    retry_failed : bool
        Run failed samples again on resume (by default a failed row is final).
    figures : bool
        Write the figures (and the sensitivity table) at the end.
    executor : Executor, optional
        Use this executor (from :mod:`simbev.executors`) instead of making one.
    """
    from . import __version__
    from .executors import make_executor
    t_start = time.perf_counter()
    sweep = sweep_path if isinstance(sweep_path, Sweep) else load_sweep(sweep_path)
    source = sweep.source or "<sweep>"
    out = Path(out_dir)
    samples = sweep.sample_values()
    hashes = [sample_hash(v) for v in samples]
    sweep_hash, sweep_json = _sweep_hash(sweep, evaluate)
    if out.exists() and not out.is_dir():
        raise InputError(None, None, "--out", str(out), "a directory (or a path that does not exist yet)")
    try:
        store = SweepStore.open(out / STORE_NAME)
    except StoreLocked as exc:
        raise InputError(None, None, "--out", str(out), message=str(exc)) from None
    notes: list[str] = []
    try:
        fingerprint = "custom evaluation" if evaluate is not None else model_fingerprint()
        if not store.initialised():
            store.initialise(sweep_hash, sweep_json, __version__, (
                (i, a, arm.name, hashes[i], canonical_json_values(samples[i]))
                for i in range(len(samples)) for a, arm in enumerate(sweep.arms)),
                extra_meta={"model_fingerprint": fingerprint})
        else:
            if store.meta("sweep_hash") != sweep_hash:
                changed = _changed_keys(store.meta("sweep"), sweep_json)
                what = f" (changed: {', '.join(changed)})" if changed else ""
                raise SweepChangedError(message=(
                    f"{source}: the sweep differs from the one already in {out / STORE_NAME}{what}; "
                    "refusing to resume into it. Run the original sweep file, or use a new --out "
                    "directory (or delete the old one) to start afresh."))
            stored = store.meta("model_fingerprint")
            if stored is not None and stored != fingerprint:
                raise SweepChangedError(message=(
                    f"{source}: simbev's model code (simbev {__version__}, fingerprint {fingerprint}) "
                    f"differs from the code that started {out / STORE_NAME} (simbev "
                    f"{store.meta('simbev_version')}, fingerprint {stored}); resuming would mix results "
                    "of two models. Use a new --out directory, or finish with the original simbev."))
            expected = {(i, a): hashes[i] for i in range(len(samples)) for a in range(len(sweep.arms))}
            if store.task_hashes() != expected:
                raise SweepChangedError(message=(
                    f"{source}: the design now gives different samples than those stored in "
                    f"{out / STORE_NAME} (was SALib, SciPy or NumPy upgraded?); refusing to mix them. "
                    "Use a new --out directory."))
        if retry_failed:
            store.reset_failed()
        before = store.counts()
        skipped = before[OK] + before[FAILED]
        own = executor is None
        ex = make_executor(workers, scheduler) if own else executor
        run_id = store.begin_run(ex.description, __version__)
        states = [None if arm.scenario is None else _scenario_state(arm.scenario) for arm in sweep.arms]
        ran = 0
        bar = _progress_bar(sweep.n_tasks, skipped, progress, sweep.name)
        try:
            def make_task(key):
                sid, arm = key
                return _Task(key, samples[sid], states[arm], sweep.metrics, sid < sweep.trajectories, evaluate)

            ran = _execute(store, ex, make_task, run_id, bar, notes)
        finally:
            bar.close()
            if own:
                ex.close()
        store.end_run(run_id)
        counts = store.counts()
        results = export_results(store, sweep, out / RESULTS_NAME)
        outcome = SweepOutcome(sweep.name, out, results, out / STORE_NAME, sweep.n_tasks, skipped, ran,
                               counts[OK], counts[FAILED], ex.description, 0.0, notes=notes)
        if figures:
            _write_analysis(store, sweep, out, outcome)
    finally:
        store.close()
    outcome.elapsed_s = time.perf_counter() - t_start
    return outcome


def _execute(store: SweepStore, ex, make_task: Callable, run_id: int, bar, notes: list[str]) -> int:
    """Run every pending task of ``store`` on ``ex``, recording each outcome as it arrives.

    A worker process that dies (:class:`~simbev.executors.WorkerLost`) takes the tasks in
    flight with it, and only one of them may be to blame. Those tasks become suspects and are
    run again one at a time; a suspect that kills its worker ``MAX_ATTEMPTS`` times when run
    alone is recorded as failed. So an innocent sample is never failed for its neighbour, and
    the table does not depend on which tasks happened to share the pool.
    """
    from .executors import TaskFailure, WorkerLost
    suspects: set[tuple[int, int]] = set()
    deaths: dict[tuple[int, int], int] = {}
    ran = 0

    def record(key, outcome):
        nonlocal ran
        if isinstance(outcome, TaskFailure):
            outcome = {"status": FAILED, "metrics": {}, "error": outcome.message}
        store.record(key, outcome["status"], outcome["metrics"], outcome["error"], outcome.get("info"),
                     outcome.get("elapsed"), outcome.get("trajectory"))
        ran += 1
        bar.update(1)

    while True:
        todo = []
        for sid, arm, _attempts in store.pending():
            key = (sid, arm)
            if deaths.get(key, 0) >= MAX_ATTEMPTS:
                store.record(key, FAILED, None, f"WorkerLost: the worker process died each of the "
                             f"{MAX_ATTEMPTS} times this sample ran on its own")
                bar.update(1)
            else:
                todo.append(key)
        if not todo:
            return ran
        alone = [k for k in todo if k in suspects]
        batch = [k for k in todo if k not in suspects]
        inflight: set = set()

        def submitted(task):
            inflight.add(task.key)
            store.mark_started(task.key, run_id)

        try:
            for key in alone:
                for task, outcome in ex.map_unordered(_run_task, [make_task(key)], on_submit=submitted):
                    inflight.discard(task.key)
                    suspects.discard(task.key)
                    record(task.key, outcome)
            for task, outcome in ex.map_unordered(_run_task, map(make_task, batch), on_submit=submitted):
                inflight.discard(task.key)
                record(task.key, outcome)
        except WorkerLost:
            if len(inflight) == 1 and inflight <= suspects:
                key = next(iter(inflight))
                deaths[key] = deaths.get(key, 0) + 1
            suspects.update(inflight)
            if not any("worker process died" in n for n in notes):
                notes.append("a worker process died; the samples it was running were run again, one at a time")


def canonical_json_values(values: Mapping[str, Any]) -> str:
    """The values of a sample as stored (JSON; floats exact)."""
    import json
    return json.dumps(dict(values), separators=(",", ":"))


# --- tables ------------------------------------------------------------------------------------

def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return repr(value)
    return str(value)


def _write_atomic(path: Path, write: Callable[[Any], None], binary: bool = False) -> Path:
    tmp = path.with_name(path.name + ".part")
    with open(tmp, "wb" if binary else "w", newline=None if binary else "", encoding=None if binary else "utf-8") as fh:
        write(fh)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
    return path


def export_results(store: SweepStore, sweep: Sweep, path) -> Path:
    """Write ``results.csv`` from the store (atomically: ``.part``, then rename).

    Columns: ``sample_id``, ``arm`` (only with several arms), the varied values, the metrics
    (empty for ``None``, e.g. no progression, or a failed sample), ``status``, ``error``. The
    first line is a ``# units:`` comment.
    """
    path = Path(path)
    arms = len(sweep.arms) > 1
    names = [f.name for f in sweep.factors]
    header = ["sample_id", *(["arm"] if arms else []), *names, *sweep.metrics, "status", "error"]
    units = {f.name: f.unit for f in sweep.factors}
    units.update({m: sweep.metric_units.get(m, "") for m in sweep.metrics})

    def write(fh):
        fh.write("# units: " + ", ".join(f"{n} [{units[n]}]" for n in [*names, *sweep.metrics] if units[n])
                 + "; time_to_progression empty = no progression within the run\n")
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(header)
        for row in store.rows():
            w.writerow([row["sample_id"], *([row["arm_name"]] if arms else []),
                        *(_cell(row["values"].get(n)) for n in names),
                        *(_cell(row["metrics"].get(m)) for m in sweep.metrics),
                        row["status"], row["error"] or ""])

    return _write_atomic(path, write)


def _metric_matrix(rows: list[dict], sweep: Sweep, metric: str, arm: int):
    """Values of ``metric`` in ``arm`` in sample order: ``(y, censored)``.

    A ``time_to_progression`` of ``None`` (no progression) counts as the follow-up time and is
    flagged as censored; a failed or pending sample gives NaN.
    """
    y = np.full(sweep.size, np.nan)
    censored = np.zeros(sweep.size, dtype=bool)
    for row in rows:
        if row["arm"] != arm or row["status"] != OK:
            continue
        v = row["metrics"].get(metric)
        if v is None and metric == "time_to_progression" and "followup_days" in row["info"]:
            v, censored[row["sample_id"]] = row["info"]["followup_days"], True
        y[row["sample_id"]] = np.nan if v is None else v
    return y, censored


def _write_analysis(store: SweepStore, sweep: Sweep, out: Path, outcome: SweepOutcome) -> None:
    rows = list(store.rows())

    def save(name: str, fig) -> None:  # one figure in memory at a time
        outcome.figures.append(_write_atomic(out / name, lambda fh: fig.savefig(fh, format="png", dpi=110),
                                             binary=True))

    if sweep.design in ("sobol", "morris"):
        table = []
        for a, arm in enumerate(sweep.arms):
            for metric in sweep.metrics:
                y, cens = _metric_matrix(rows, sweep, metric, a)
                try:
                    res = analyze(sweep.design, sweep.factors, sweep.samples, sweep.seed, y, sweep.options)
                except ValueError as exc:
                    outcome.notes.append(f"{arm.name}: {metric}: no sensitivity indices: {exc}")
                    continue
                if cens.any():
                    outcome.notes.append(f"{arm.name}: {metric}: {int(cens.sum())} samples did not "
                                         "progress; their follow-up time was used")
                outcome.sensitivity.setdefault(arm.name, {})[metric] = res
                for j, f in enumerate(sweep.factors):
                    table.append({"arm": arm.name, "metric": metric, "parameter": f.name,
                                  **{k: res[k][j] for k in res if k not in ("names", "S2", "S2_conf")}})
        if table:
            keys = list(table[0])

            def write(fh):
                w = csv.writer(fh, lineterminator="\n")
                w.writerow(keys)
                for r in table:
                    w.writerow([_cell(r[k]) for k in keys])

            _write_atomic(out / SENSITIVITY_NAME, write)
            plot = plot_sobol if sweep.design == "sobol" else plot_morris
            save(f"{sweep.design}_indices.png", plot(outcome.sensitivity))
    arm_names = [a.name for a in sweep.arms]
    for metric in sweep.metrics:
        save(f"{_slug(metric)}_vs_values.png", plot_metric_vs_values(rows, sweep, metric))
        if sweep.design == "grid" and len(sweep.factors) == 2:
            for a, name in enumerate(arm_names):
                suffix = f"_{_slug(name)}" if len(arm_names) > 1 else ""
                save(f"heatmap_{_slug(metric)}{suffix}.png", plot_heatmap(rows, sweep, metric, a))
    traj = list(store.trajectories())
    if traj:
        factor = sweep.factors[0]
        values = {r["sample_id"]: r["values"].get(factor.name) for r in rows}
        save("tumor_curves.png", plot_tumor_curves(
            [(arm_names[a], values[s], t, v) for s, a, t, v in traj], factor.name, factor.unit,
            arm_names, log_color=factor.scale == "log"))
    if "time_to_progression" in sweep.metrics and (sweep.design == "cohort" or len(arm_names) > 1):
        curves = {}
        for a, name in enumerate(arm_names):
            y, cens = _metric_matrix(rows, sweep, "time_to_progression", a)
            ok = np.isfinite(y)
            curves[name] = (y[ok], ~cens[ok])
        save("progression_free.png", plot_progression_free(curves))


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", text.replace("@", "_at_")).strip("_")


# --- analysis helpers --------------------------------------------------------------------------

def kaplan_meier(times, events) -> tuple[np.ndarray, np.ndarray]:
    """Kaplan–Meier estimate of the progression-free fraction.

    Parameters
    ----------
    times : array
        Time of progression, or of censoring (end of follow-up) where ``events`` is False.
    events : array of bool
        True where progression was observed.

    Returns
    -------
    t, s : arrays
        Step function: ``s[k]`` is the fraction free of progression on ``[t[k], t[k+1])``;
        ``t[0] = 0``, ``s[0] = 1``.
    """
    times = np.asarray(times, dtype=float)
    events = np.asarray(events, dtype=bool)
    t_out, s_out = [0.0], [1.0]
    s = 1.0
    for t in np.unique(times[events]):
        at_risk = np.count_nonzero(times >= t)
        d = np.count_nonzero((times == t) & events)
        s *= 1.0 - d / at_risk
        t_out.append(float(t))
        s_out.append(s)
    return np.array(t_out), np.array(s_out)


# --- figures (matplotlib Figures; never shown) ---------------------------------------------------

def _figure(nrows=1, ncols=1, width=4.2, height=3.3, **kw):
    from matplotlib.figure import Figure
    fig = Figure(figsize=(width * ncols, height * nrows), layout="constrained")
    axes = fig.subplots(nrows, ncols, squeeze=False, **kw)
    return fig, axes


def _label(name: str, unit: str) -> str:
    return f"{name} [{unit}]" if unit and unit != "1" else name


def _norm(values, log: bool):
    from matplotlib.colors import LogNorm, Normalize
    v = np.asarray([x for x in values if x is not None], dtype=float)
    lo, hi = (float(v.min()), float(v.max())) if v.size else (0.0, 1.0)
    if hi <= lo:
        hi = lo + 1.0
    if log and lo > 0:
        return LogNorm(lo, hi)
    return Normalize(lo, hi)


def plot_metric_vs_values(rows: list[dict], sweep: Sweep, metric: str):
    """A metric against each varied value: one panel per factor, one row per arm.

    Grids draw lines (for two-dimensional grids, one line per value of the other factor,
    coloured by it); sampled designs and cohorts draw points. A time to progression that never
    happened is drawn at the follow-up time with an open marker.
    """
    from matplotlib import colormaps
    factors = sweep.factors[:8]
    arms = sweep.arms
    fig, axes = _figure(len(arms), len(factors))
    unit = sweep.metric_units.get(metric, "")
    for a, arm in enumerate(arms):
        y, cens = _metric_matrix(rows, sweep, metric, a)
        values = {r["sample_id"]: r["values"] for r in rows if r["arm"] == a}
        for j, f in enumerate(factors):
            ax = axes[a][j]
            x = np.array([float(values[i][f.name]) if i in values else np.nan for i in range(sweep.size)])
            if sweep.design == "grid" and len(sweep.factors) <= 2:
                other = [g for g in sweep.factors if g.name != f.name]
                if other:
                    g = other[0]
                    norm = _norm(g.values, log=True)
                    cmap = colormaps["viridis"]
                    for gv in g.values:
                        sel = np.array([values.get(i, {}).get(g.name) == gv for i in range(sweep.size)])
                        order = np.argsort(x[sel])
                        ax.plot(x[sel][order], y[sel][order], "-o", ms=3, color=cmap(norm(gv)),
                                label=f"{g.name} = {gv:g}")
                    ax.legend(fontsize=6)
                else:
                    order = np.argsort(x)
                    ax.plot(x[order], y[order], "-o", ms=4, color="C0")
            else:
                ax.scatter(x[~cens], y[~cens], s=9, color="C0", alpha=0.7, linewidths=0)
            if cens.any():
                ax.scatter(x[cens], y[cens], s=14, facecolors="none", edgecolors="C3",
                           label="no progression (follow-up)")
                if j == 0:
                    ax.legend(fontsize=6)
            if f.scale == "log" or (f.values and min(f.values) > 0 and max(f.values) / min(f.values) >= 20):
                from matplotlib.ticker import NullFormatter
                ax.set_xscale("log")
                ax.xaxis.set_minor_formatter(NullFormatter())
                if f.values:
                    ax.set_xticks(list(f.values), [f"{v:g}" for v in f.values])
            ax.set_xlabel(_label(f.name, f.unit))
            if j == 0:
                ax.set_ylabel(_label(metric, unit))
            if len(arms) > 1:
                ax.set_title(arm.name, fontsize=9)
    fig.suptitle(f"{sweep.name}: {metric}", fontsize=10)
    return fig


def plot_heatmap(rows: list[dict], sweep: Sweep, metric: str, arm: int = 0):
    """A metric over a two-dimensional grid, as a heat map with the values written in the
    cells (a time to progression that never happened is shown as ``>follow-up``)."""
    f1, f2 = sweep.factors
    y, cens = _metric_matrix(rows, sweep, metric, arm)
    grid = y.reshape(len(f1.values), len(f2.values))
    cgrid = cens.reshape(grid.shape)
    fig, axes = _figure(width=5.5, height=4.2)
    ax = axes[0][0]
    image = ax.imshow(np.ma.masked_invalid(grid), origin="lower", aspect="auto", cmap="viridis")
    ax.set_xticks(range(len(f2.values)), [f"{v:g}" for v in f2.values])
    ax.set_yticks(range(len(f1.values)), [f"{v:g}" for v in f1.values])
    ax.set_xlabel(_label(f2.name, f2.unit))
    ax.set_ylabel(_label(f1.name, f1.unit))
    finite = grid[np.isfinite(grid)]
    mid = float(np.mean([finite.min(), finite.max()])) if finite.size else 0.0
    for i in range(grid.shape[0]):
        for j in range(grid.shape[1]):
            v = grid[i, j]
            text = "failed" if not np.isfinite(v) else (">" if cgrid[i, j] else "") + f"{v:.3g}"
            ax.text(j, i, text, ha="center", va="center", fontsize=7,
                    color="white" if np.isfinite(v) and v < mid else "black")
    fig.colorbar(image, ax=ax, label=_label(metric, sweep.metric_units.get(metric, "")))
    ax.set_title(f"{sweep.name} ({sweep.arms[arm].name})", fontsize=9)
    return fig


def plot_tumor_curves(curves: Sequence[tuple[str, Any, Any, Any]], factor: str, unit: str = "",
                      arms: Sequence[str] | None = None, log_color: bool = False):
    """Tumour-volume curves coloured by the value of ``factor``.

    ``curves``: ``(arm name, factor value, time, tumour volume)``; one panel per arm.
    """
    from matplotlib import colormaps
    from matplotlib.cm import ScalarMappable
    from matplotlib.collections import LineCollection
    arms = list(arms or dict.fromkeys(c[0] for c in curves))
    values = [c[1] for c in curves]
    if not log_color and values and all(isinstance(v, (int, float)) and v > 0 for v in values):
        log_color = max(values) / min(values) >= 20
    norm = _norm(values, log_color)
    cmap = colormaps["viridis"]
    fig, axes = _figure(1, len(arms), width=4.5, height=3.5)
    for k, arm in enumerate(arms):
        ax = axes[0][k]
        segs = [np.column_stack([t, v]) for a, _, t, v in curves if a == arm]
        cols = [cmap(norm(x)) for a, x, _, _ in curves if a == arm]
        if segs:
            ax.add_collection(LineCollection(segs, colors=cols, linewidths=0.9, alpha=0.85))
            ax.autoscale()
        ax.set_xlabel("time [day]")
        ax.set_ylabel("tumour volume [mm^3]")
        ax.set_title(arm if len(arms) > 1 else f"{len(segs)} samples", fontsize=9)
    fig.colorbar(ScalarMappable(norm=norm, cmap=cmap), ax=list(axes[0]), label=_label(factor, unit))
    return fig


def _index_bars(results: Mapping[str, Mapping[str, dict]], series: Sequence[tuple[str, str | None, str]],
                title: str):
    cells = [(arm, metric, res) for arm, by_metric in results.items() for metric, res in by_metric.items()]
    fig, axes = _figure(1, max(len(cells), 1), width=4.6, height=3.6)
    for k, (arm, metric, res) in enumerate(cells):
        ax = axes[0][k]
        names = res["names"]
        x = np.arange(len(names))
        width = 0.8 / len(series)
        for s, (key, conf, label) in enumerate(series):
            err = np.abs(np.asarray(res[conf], dtype=float)) if conf else None
            ax.bar(x + (s - (len(series) - 1) / 2) * width, res[key], width, yerr=err, capsize=2,
                   label=label, color=f"C{s}")
        ax.set_xticks(x, names, rotation=45, ha="right", fontsize=7)
        ax.axhline(0, color="0.5", lw=0.6)
        ax.set_title(f"{metric}" + (f" ({arm})" if len(results) > 1 else ""), fontsize=9)
        if k == 0:
            ax.legend(fontsize=7)
    fig.suptitle(title, fontsize=10)
    return fig


def plot_sobol(results: Mapping[str, Mapping[str, dict]]):
    """First-order (S1) and total (ST) Sobol' indices with their bootstrap confidence
    intervals, one panel per arm and metric. ``results``: ``{arm: {metric: indices}}`` as
    returned by :func:`~simbev.sweep_designs.analyze`."""
    return _index_bars(results, [("S1", "S1_conf", "S1 (first order)"), ("ST", "ST_conf", "ST (total)")],
                       "Sobol' indices (95 % CI)")


def plot_morris(results: Mapping[str, Mapping[str, dict]]):
    """Morris ``mu*`` (with its bootstrap confidence interval) and ``sigma``, per unit
    fraction of each factor's range, one panel per arm and metric."""
    return _index_bars(results, [("mu_star", "mu_star_conf", "mu* (95 % CI)"), ("sigma", None, "sigma")],
                       "Morris elementary effects")


def plot_progression_free(curves: Mapping[str, tuple[Any, Any]], horizon_label: str = "days since first dose"):
    """Kaplan–Meier progression-free curves, one per arm.

    ``curves``: ``{arm: (times, events)}`` with ``events`` False where the patient had not
    progressed by the end of the run (censored at the follow-up time, marked ``+``).
    """
    fig, axes = _figure(width=5.5, height=4.0)
    ax = axes[0][0]
    for k, (arm, (times, events)) in enumerate(curves.items()):
        times = np.asarray(times, dtype=float)
        events = np.asarray(events, dtype=bool)
        t, s = kaplan_meier(times, events)
        end = float(times.max()) if times.size else 0.0
        tt, ss = np.append(t, max(end, t[-1])), np.append(s, s[-1])
        below = np.nonzero(s <= 0.5)[0]
        median = f"median {t[below[0]]:.3g} d" if below.size else "median not reached"
        ax.step(tt, ss, where="post", color=f"C{k}", label=f"{arm} (n={times.size}, {median})")
        cens = times[~events]
        if cens.size:
            ax.plot(cens, [s[np.searchsorted(t, c, side="right") - 1] for c in cens], "+", color=f"C{k}", ms=6)
    ax.set_ylim(-0.02, 1.02)
    ax.set_xlabel(horizon_label)
    ax.set_ylabel("progression-free fraction")
    ax.legend(fontsize=7, loc="lower left")
    ax.set_title("Progression-free survival (Kaplan–Meier; + = censored at end of run)", fontsize=9)
    return fig


# --- command line (wired by simbev.cli) ---------------------------------------------------------

def add_sweep_subcommand(subparsers) -> Any:
    """Add ``simbev sweep`` to an argparse ``subparsers`` object; return its parser."""
    p = subparsers.add_parser(
        "sweep", help="parameter sweep / sensitivity analysis / virtual cohort",
        description="Run a sweep file (docs/sweeps.md); write results.csv, sweep.sqlite and figures "
                    "into DIR. Run the same command again to resume an interrupted sweep.")
    p.add_argument("sweep", metavar="SWEEP.yaml")
    p.add_argument("--out", metavar="DIR", help="output directory (default results/<sweep name>/)")
    p.add_argument("--workers", metavar="N", type=int, default=1,
                   help="worker processes (default 1: serial); with --scheduler local, Dask workers")
    p.add_argument("--scheduler", metavar="ADDRESS",
                   help="run on a Dask scheduler (tcp://host:8786), or 'local' for a local Dask cluster")
    p.add_argument("--retry-failed", action="store_true", help="run failed samples again when resuming")
    p.set_defaults(func=cmd_sweep)
    return p


def cmd_sweep(args) -> int:
    """Handler of ``simbev sweep``: prints a summary; errors propagate as InputError (exit 2)."""
    if args.workers is None or args.workers < 1:
        raise InputError(None, None, "--workers", args.workers, "a whole number >= 1")
    sweep = load_sweep(args.sweep)
    out = Path(args.out) if args.out else Path("results") / sweep.name
    result = run_sweep(sweep, out, workers=args.workers, scheduler=args.scheduler, progress=None,
                       retry_failed=args.retry_failed)
    resumed = f", {result.skipped} already done" if result.skipped else ""
    print(f"{result.name}: {result.total} runs ({result.ok} ok, {result.failed} failed{resumed}) "
          f"with {result.executor} in {result.elapsed_s:.1f} s")
    for note in result.notes:
        print(f"note: {note}")
    files = [RESULTS_NAME, STORE_NAME] + ([SENSITIVITY_NAME] if (out / SENSITIVITY_NAME).exists() and result.sensitivity else [])
    print(f"wrote {out}{os.sep} ({', '.join(files + [p.name for p in result.figures])})")
    return 0
