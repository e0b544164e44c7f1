"""Sweep files: every kind of bad input is an InputError naming file, line, key, found, expected."""
from __future__ import annotations

import dataclasses
import textwrap

import pytest

from simbev.errors import InputError
from simbev.sweeps import apply_sample, load_sweep

GOOD = """\
name: g
scenario: tiny.yaml
design: grid
vary:
  mif_expression: {values: [0.5, 2]}
metrics: [final_tumor_volume]
"""


def _error(sweep_file, text) -> InputError:
    path = sweep_file(text)
    with pytest.raises(InputError) as info:
        load_sweep(path)
    assert info.value.file is not None
    return info.value


@pytest.mark.parametrize("text, line, key, found, expected", [
    (GOOD.replace("design: grid", "design: gird"), 3, "design", "gird", "did you mean 'grid'"),
    (GOOD.replace("name: g\n", "name: g\nsampels: 4\n"), 2, "sampels", "sampels", "did you mean 'samples'"),
    (GOOD.replace("scenario: tiny.yaml", "scenario: nope.yaml"), 2, "scenario", "nope.yaml",
     "an existing scenario file"),
    (GOOD.replace("design: grid", "design: grid\nsamples: 4"), 4, "samples", 4, "no samples for a grid"),
    (GOOD.replace("mif_expression", "mif_expresion"), 5, "vary.mif_expresion", "mif_expresion",
     "did you mean 'mif_expression'"),
    (GOOD.replace("mif_expression: {values: [0.5, 2]}", "mif_expression: {values: [0.5, -2]}"), 5,
     "vary.mif_expression.values.1", -2, ">= 0"),
    (GOOD.replace("mif_expression: {values: [0.5, 2]}", "mif_expression: {low: 0.5, high: 2}"), 5,
     "vary.mif_expression.low", "low", "a grid axis"),
    (GOOD.replace("mif_expression: {values: [0.5, 2]}", "treatments.3.dose: {values: [1 mg/kg]}"), 5,
     "vary.treatments.3.dose", "treatments.3.dose", "has 1 treatment(s)"),
    (GOOD.replace("mif_expression: {values: [0.5, 2]}", "treatments.0.dose: {values: [1 mg/lb]}"), 5,
     "vary.treatments.0.dose.values.0", "1 mg/lb", "mg/kg"),
    (GOOD.replace("mif_expression: {values: [0.5, 2]}", "treatments.0.dose: {values: [1 mg/kg, 20 mg]}"), 5,
     "vary.treatments.0.dose.values.1", "20 mg", "one unit per axis"),
    (GOOD.replace("mif_expression: {values: [0.5, 2]}", "treatments.0.stop_day: {values: [5]}"), 5,
     "vary.treatments.0.stop_day", "treatments.0.stop_day", "doses rather than stop_day"),
    (GOOD.replace("mif_expression: {values: [0.5, 2]}", "treatments.0.route: {values: [1]}"), 5,
     "vary.treatments.0.route", "treatments.0.route", "a treatment field that can be varied"),
    (GOOD.replace("mif_expression: {values: [0.5, 2]}", "initial_conditions.tumour: {values: [1]}"), 5,
     "vary.initial_conditions.tumour", "initial_conditions.tumour", "a state"),
    (GOOD.replace("[final_tumor_volume]", "[final_tumour_volume]"), 6, "metrics.0", "final_tumour_volume",
     "did you mean 'final_tumor_volume'"),
    (GOOD.replace("[final_tumor_volume]", "[tumor_volume@11]"), 6, "metrics.0", "tumor_volume@11",
     "from 0 to 10"),
    (GOOD.replace("[final_tumor_volume]", "[tumour_volume@5]"), 6, "metrics.0", "tumour_volume@5",
     "did you mean 'tumor_volume'"),
    (GOOD.replace("[final_tumor_volume]", "[final_tumor_volume, final_tumor_volume]"), 6, "metrics.1",
     "final_tumor_volume", "each metric once"),
])
def test_grid_file_errors(sweep_file, text, line, key, found, expected):
    err = _error(sweep_file, text)
    assert (err.line, err.key, err.found) == (line, key, found), str(err)
    assert expected in str(err)


SAMPLED = """\
name: s
scenario: tiny.yaml
design: sobol
samples: 8
vary:
  mif_expression: {low: 0.5, high: 2}
  tumor_normoxic_growth_rate: {low: 0.05, high: 0.2, scale: log}
metrics: [final_tumor_volume]
"""


@pytest.mark.parametrize("text, line, key, found, expected", [
    (SAMPLED.replace("samples: 8", "samples: 12"), 4, "samples", 12, "a power of 2"),
    (SAMPLED.replace("samples: 8\n", ""), 1, "samples", "<missing>", "required"),
    (SAMPLED.replace("high: 2}", "high: 0.5}"), 6, "vary.mif_expression.high", 0.5, "a value > low"),
    (SAMPLED.replace("low: 0.05", "low: 0"), 7, "vary.tumor_normoxic_growth_rate.low", 0,
     "a value > 0 for scale: log"),
    (SAMPLED.replace("scale: log", "scale: lgo"), 7, "vary.tumor_normoxic_growth_rate.scale",
     "lgo", "did you mean 'log'"),
    (SAMPLED + "options: {levels: 4}\n", 9, "options.levels", "levels", "a sobol option"),
    (SAMPLED + "seed: -1\n", 9, "seed", -1, "a whole number >= 0"),
    (SAMPLED.replace("  tumor_normoxic_growth_rate: {low: 0.05, high: 0.2, scale: log}\n", ""), 5, "vary",
     "<a mapping>", "at least two varied factors"),
])
def test_sampled_file_errors(sweep_file, text, line, key, found, expected):
    err = _error(sweep_file, text)
    assert (err.line, err.key, err.found) == (line, key, found), str(err)
    assert expected in str(err)


def test_cohort_errors(sweep_file):
    cohort = """\
    name: c
    scenario: tiny.yaml
    design: cohort
    samples: 10
    vary:
      treatments.0.dose: {cv: 0.2}
    """
    err = _error(sweep_file, cohort)
    assert err.key == "vary.treatments.0.dose" and "a cohort varies patients" in str(err)
    err = _error(sweep_file, cohort.replace("treatments.0.dose: {cv: 0.2}", "vessel_loss_rate: {cv: 0.2}"))
    assert err.key == "vary.vessel_loss_rate" and "log-normal spread around 0" in str(err)
    err = _error(sweep_file, cohort.replace("treatments.0.dose: {cv: 0.2}", "mif_expression: {cv: 0}"))
    assert err.key == "vary.mif_expression.cv" and err.line == 6


def test_arms_errors(sweep_file):
    text = textwrap.dedent("""\
    name: a
    arms: [tiny.yaml, tiny.yaml]
    design: grid
    vary:
      mif_expression: {values: [1]}
    """)
    err = _error(sweep_file, text)
    assert err.key == "arms.1" and "distinct scenario names" in str(err)
    err = _error(sweep_file, text.replace("arms: [tiny.yaml, tiny.yaml]", "arms: []"))
    assert err.key == "arms"
    err = _error(sweep_file, text.replace("arms: [tiny.yaml, tiny.yaml]\n", ""))
    assert err.key == "scenario" and "required unless arms are given" in str(err)


def test_error_in_the_scenario_names_the_scenario_file(sweep_file, folder):
    (folder / "bad.yaml").write_text("name: bad\nduration_days: -1\n")
    err = _error(sweep_file, GOOD.replace("tiny.yaml", "bad.yaml"))
    assert err.file.endswith("bad.yaml") and err.key == "duration_days" and err.line == 2


def test_unsafe_yaml_is_refused(sweep_file):
    err = _error(sweep_file, GOOD + "metrics: [min_tumor_volume]\n")
    assert err.line == 7 and "duplicate" in str(err).lower()


def test_apply_sample_sets_treatments_initial_conditions_and_parameters(sweep_file):
    sweep = load_sweep(sweep_file(GOOD))
    base = sweep.arms[0].scenario
    scenario, params = apply_sample(base, {"treatments.0.dose": 2.5, "treatments.0.every_days": 4.0,
                                           "initial_conditions.tumor_normoxic": 50.0, "mif_expression": 3.0})
    reg = scenario.treatments[0]
    assert reg.dose == (2.5, "mg/kg") and reg.every_days == 4.0 and reg.doses == 3
    assert scenario.initial_conditions["tumor_normoxic"] == 50.0
    assert params == {"mif_expression": 3.0}
    assert dataclasses.replace(base) == base  # the base scenario is untouched
    assert base.treatments[0].dose == (10.0, "mg/kg")
    scenario, _ = apply_sample(base, {"treatments.0.dose": (20.0, "mg"), "treatments.0.doses": 2})
    assert scenario.treatments[0].dose == (20.0, "mg") and scenario.treatments[0].doses == 2
