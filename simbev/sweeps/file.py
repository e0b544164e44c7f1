"""The sweep file format: :func:`load_sweep` validates a sweep YAML file (format in ``docs/sweeps.md``)
into a :class:`Sweep` (base scenario, arms, design, varied factors, metrics), with one-line
errors naming file, line, key, value and expectation; :func:`apply_sample` applies one sample's
values to a scenario.
"""
from __future__ import annotations

import dataclasses
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

from ..errors import InputError
from ..protocol.dosing import Regimen
from ..scenario.core import Scenario
from .designs import DEFAULT_OPTIONS, DESIGNS, Factor, SCALES, design_size, sample_design

__all__ = ["Sweep", "Arm", "SweepChangedError", "load_sweep", "apply_sample", "TOP_LEVEL_KEYS", "TREATMENT_FIELDS"]


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
MAX_FACTORS = 128  # a Sobol' analysis over every parameter's plausible range needs ~75
MAX_ATTEMPTS = 3
#: Design options that change only the analysis, not the samples: a sweep may be resumed (and
#: re-analysed) with other values.
ANALYSIS_OPTIONS = ("resamples", "conf_level")

_TREATMENT_PATH = re.compile(r"^treatments\.(\d+)\.([A-Za-z_]+)$")
_IC_PATH = re.compile(r"^initial_conditions\.([A-Za-z_][A-Za-z0-9_]*)$")


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
    """A validated sweep: a design over :class:`~simbev.sweeps.designs.Factor` s, run in arms.

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
    from ..parameters.parameter_set import load_parameter_set
    from ..model.states import STATE_INDEX
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
    from ..scenario.file import _Checker
    from ..scenario.yamlsafe import load_yaml
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
        from ..scenario.file import _found
        c, data = self.c, self.data
        c.known_keys("", data, TOP_LEVEL_KEYS, "a sweep key")
        from ..scenario.file import _MISSING
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
                      "tumor curve for the figure")
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
        from ..scenario.file import _found, load_scenario
        if not isinstance(value, str) or not value.strip():
            self.fail(key, _found(value), "the path of a scenario file, relative to the sweep file")
        target = self.path.parent / value
        if not target.is_file():
            self.fail(key, value, f"an existing scenario file (looked for {target})")
        return load_scenario(target), str(target)

    def arms(self) -> tuple[Arm, ...]:
        from ..scenario.file import _found
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
        from ..scenario.file import _found
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
        from ..scenario.file import _found
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
        from ..scenario.file import _found
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
        from ..model import PARAMETER_NAMES
        from ..parameters.parameter_set import load_parameter_set
        from ..scenario.file import _suggest
        from ..model.states import STATE_NAMES, STATE_UNITS
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
        from ..scenario.file import _found
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
        from ..scenario.file import DOSE_UNITS, MAX_DOSES, _found
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
        from ..analysis import metrics as M
        from ..scenario.file import _found, _suggest
        from ..model.states import DERIVED_NAMES, DERIVED_UNITS, STATE_NAMES, STATE_UNITS
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
                at = M.parse_at(name)
                if at is None:
                    self.fail(p, name, expected + _suggest(name, list(M.METRICS)))
                output, day = at
                if output not in outputs:
                    self.fail(p, name, "<output>@<day> with an output: one of "
                              f"{', '.join(STATE_NAMES + DERIVED_NAMES)}{_suggest(output, outputs)}")
                if not 0 <= day <= horizon:
                    self.fail(p, name, f"a day within every arm's run, from 0 to {horizon:g}")
                units[name] = outputs[output]
            if name in names:
                self.fail(p, name, "each metric once")
            names.append(name)
        return tuple(names), units
