"""Scenario files: the INTERFACE.md format, ``extends``, and every class of bad input.

Each refusal is checked for the file, the line, the key path, the value found and what was
expected, so that a missing check or a wrong location makes the test fail.
"""
from __future__ import annotations

import pytest

from simbev.protocol.dosing import Regimen
from simbev.errors import InputError
from simbev.scenario import Scenario
from simbev.scenario.file import MAX_DOSES, load_scenario, validate_file

VALID = """\
name: bevacizumab_q2w
description: free text
species: human
duration_days: 120
output_every_days: 0.5
body_weight: 25 g
parameters:
  mif_expression: 0.2
  tumor_normoxic_growth_rate: 0.3
initial_conditions:
  tumor_normoxic: 20.0
  macrophage_m1: 0
treatments:
  - drug: bevacizumab      # infusion arm
    dose: 10 mg/kg
    route: iv_infusion
    start_day: 14
    every_days: 14
    doses: 6
    infusion_hours: 1.5
  - drug: mtor_inhibitor
    dose: 5 mg
    route: oral
    every_days: 1
    stop_day: 100
  - drug: bevacizumab      # bolus arm
    dose: 2.5e-1 mg
    route: iv_bolus
    start_day: 7
"""

EXPECTED = Scenario(
    name="bevacizumab_q2w", duration_days=120.0, species="human", output_every_days=0.5,
    description="free text",
    parameters={"mif_expression": 0.2, "tumor_normoxic_growth_rate": 0.3},
    initial_conditions={"tumor_normoxic": 20.0, "macrophage_m1": 0.0},
    treatments=(
        Regimen("bevacizumab", (10.0, "mg/kg"), "iv_infusion", 14.0, 14.0, 6, None, 1.5, index=0),
        Regimen("mtor_inhibitor", (5.0, "mg"), "oral", 0.0, 1.0, None, 100.0, None, index=1),
        Regimen("bevacizumab", (0.25, "mg"), "iv_bolus", 7.0, None, None, None, None, index=2),
    ),
    body_weight_kg=0.025,
)


def write(directory, text, name="scenario.yaml"):
    path = directory / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def edited(old: str, new: str, text: str = VALID) -> str:
    assert text.count(old) == 1, f"{old!r} must occur once in the template"
    return text.replace(old, new)


def line_containing(text: str, fragment: str) -> int:
    """1-based number of the one line of ``text`` that contains ``fragment``."""
    hits = [i for i, line in enumerate(text.splitlines(), 1) if fragment in line]
    assert len(hits) == 1, (fragment, hits)
    return hits[0]


def refused(path) -> InputError:
    with pytest.raises(InputError) as info:
        load_scenario(path)
    return info.value


def check(err: InputError, file, line, key, found: str, expected: str):
    message = str(err)
    assert err.file == str(file), message
    assert err.line == line, message
    assert err.key == key, message
    assert found in message, message
    assert expected in message, message
    prefix = str(file) + (f":{line}" if line is not None else "") + (f": {key}" if key else "") + ": "
    assert message.startswith(prefix), message


# Good input ----------------------------------------------------------------------------------


def test_full_example_gives_the_expected_scenario(tmp_path):
    path = write(tmp_path, VALID)
    scenario = load_scenario(path)
    assert scenario == Scenario(**{**EXPECTED.__dict__, "source": str(path)})
    assert scenario.source == str(path)
    assert [r.index for r in scenario.treatments] == [0, 1, 2]
    assert all(type(v) is float for v in scenario.parameters.values())
    assert type(scenario.duration_days) is float and type(scenario.treatments[0].doses) is int


def test_validate_file_returns_the_same_scenario(tmp_path):
    path = write(tmp_path, VALID)
    assert validate_file(path) == load_scenario(path)


def test_minimal_file_takes_the_defaults(tmp_path):
    path = write(tmp_path, "name: control\nduration_days: 30\n")
    scenario = load_scenario(path)
    assert scenario == Scenario(name="control", duration_days=30.0, source=str(path))
    assert (scenario.species, scenario.output_every_days, scenario.body_weight_kg) == ("mouse", 1.0, None)
    assert scenario.treatments == () and dict(scenario.parameters) == {}


def test_a_run_shorter_than_a_day_is_sampled_over_its_length_by_default(tmp_path):
    scenario = load_scenario(write(tmp_path, "name: short\nduration_days: 0.25\n"))
    assert scenario.output_every_days == 0.25


def test_empty_collections_mean_none(tmp_path):
    path = write(tmp_path, "name: x\nduration_days: 5\nparameters:\ninitial_conditions:\ntreatments:\n")
    scenario = load_scenario(path)
    assert dict(scenario.parameters) == {} and dict(scenario.initial_conditions) == {}
    assert scenario.treatments == ()


@pytest.mark.parametrize("weight, kg", [("25 g", 0.025), ("70 kg", 70.0), ("0.5kg", 0.5)])
def test_body_weight_units(tmp_path, weight, kg):
    path = write(tmp_path, f"name: x\nduration_days: 5\nbody_weight: {weight}\n")
    assert load_scenario(path).body_weight_kg == pytest.approx(kg)


def test_numbers_in_exponent_notation_are_numbers(tmp_path):
    scenario = load_scenario(write(tmp_path, "name: x\nduration_days: 1e2\n"))
    assert scenario.duration_days == 100.0


# extends ---------------------------------------------------------------------------------------


def test_extends_merges_overrides_and_replaces_treatments(tmp_path):
    write(tmp_path, VALID, "base.yaml")
    child_text = ("extends: ../base.yaml\n"
                  "name: arm_b\n"
                  "duration_days: 60\n"
                  "parameters:\n"
                  "  mif_expression: 5\n"
                  "  lactate_mtor_coupling: 0\n"
                  "initial_conditions:\n"
                  "  tumor_hypoxic: 2\n"
                  "treatments:\n"
                  "  - {drug: bevacizumab, dose: 5 mg/kg, route: iv_bolus}\n")
    child = write(tmp_path / "arms", child_text, "b.yaml")
    scenario = load_scenario(child)
    assert scenario.name == "arm_b" and scenario.duration_days == 60.0
    assert (scenario.species, scenario.output_every_days, scenario.body_weight_kg) == ("human", 0.5, 0.025)
    assert scenario.description == "free text"
    assert dict(scenario.parameters) == {"mif_expression": 5.0, "tumor_normoxic_growth_rate": 0.3,
                                         "lactate_mtor_coupling": 0.0}
    assert dict(scenario.initial_conditions) == {"tumor_normoxic": 20.0, "macrophage_m1": 0.0,
                                                 "tumor_hypoxic": 2.0}
    assert scenario.treatments == (Regimen("bevacizumab", (5.0, "mg/kg"), "iv_bolus", index=0),)
    assert scenario.source == str(child)


def test_extends_inherits_name_and_treatments_and_an_empty_list_clears_them(tmp_path):
    write(tmp_path, VALID, "base.yaml")
    inherit = load_scenario(write(tmp_path, "extends: base.yaml\nspecies: mouse\n", "c.yaml"))
    assert inherit.name == "bevacizumab_q2w" and inherit.species == "mouse"
    assert inherit.treatments == EXPECTED.treatments
    untreated = load_scenario(write(tmp_path, "extends: base.yaml\nname: u\ntreatments: []\n", "u.yaml"))
    assert untreated.treatments == ()


def test_an_empty_mapping_in_the_child_keeps_the_base_overrides(tmp_path):
    write(tmp_path, VALID, "base.yaml")
    scenario = load_scenario(write(tmp_path, "extends: base.yaml\nparameters:\n", "c.yaml"))
    assert dict(scenario.parameters) == dict(EXPECTED.parameters)


def test_extends_chains_over_several_files(tmp_path):
    write(tmp_path, "name: a\nduration_days: 10\nparameters: {mif_expression: 1}\n", "a.yaml")
    write(tmp_path, "extends: a.yaml\nname: b\nparameters: {bev_mif_binding: 2}\n", "b.yaml")
    c = write(tmp_path, "extends: b.yaml\nname: c\nparameters: {mif_expression: 3}\n", "c.yaml")
    scenario = load_scenario(c)
    assert dict(scenario.parameters) == {"mif_expression": 3.0, "bev_mif_binding": 2.0}
    assert scenario.name == "c" and scenario.duration_days == 10.0


def test_extends_cycle_is_refused_with_the_chain(tmp_path):
    a = write(tmp_path, "name: a\nduration_days: 5\nextends: b.yaml\n", "a.yaml")
    b = write(tmp_path, "# b\nextends: a.yaml\nname: b\n", "b.yaml")
    err = refused(a)
    check(err, b, 2, "extends", "'a.yaml'", "the chain is a cycle")
    assert f"{a.resolve()} -> {b.resolve()} -> {a.resolve()}" in str(err)


def test_a_file_that_extends_itself_is_refused(tmp_path):
    a = write(tmp_path, "name: a\nduration_days: 5\nextends: a.yaml\n", "a.yaml")
    check(refused(a), a, 3, "extends", "'a.yaml'", f"cycle: {a.resolve()} -> {a.resolve()}")


def test_a_missing_base_is_reported_at_the_extends_line(tmp_path):
    child = write(tmp_path, "name: a\nextends: gone.yaml\n", "a.yaml")
    check(refused(child), child, 2, "extends", "'gone.yaml'", "an existing scenario file")


def test_extends_must_be_a_path(tmp_path):
    child = write(tmp_path, "name: a\nduration_days: 5\nextends: [a.yaml]\n", "a.yaml")
    check(refused(child), child, 3, "extends", "<a list>", "the path of a base scenario file")


def test_an_error_in_an_inherited_value_names_the_base_file_and_line(tmp_path):
    base_text = edited("dose: 5 mg", "dose: 5 mg/lb")
    base = write(tmp_path, base_text, "base.yaml")
    child = write(tmp_path, "extends: base.yaml\nname: child\n", "child.yaml")
    check(refused(child), base, line_containing(base_text, "5 mg/lb"), "treatments.1.dose",
          "'5 mg/lb'", "the unit must be one of mg/kg, mg (did you mean 'mg/kg'?)")


def test_an_error_in_a_merged_override_names_the_file_that_made_it(tmp_path):
    write(tmp_path, VALID, "base.yaml")
    child = write(tmp_path, "extends: base.yaml\nname: c\nparameters:\n  mif_expression: -1\n", "c.yaml")
    check(refused(child), child, 4, "parameters.mif_expression", "-1", "a finite number >= 0")


def test_a_missing_key_in_a_replacing_list_is_located_in_the_child_not_the_base(tmp_path):
    """Guards against: the base's line of ``treatments.0.route`` surviving the replacement."""
    write(tmp_path, VALID, "base.yaml")
    child = write(tmp_path, "extends: base.yaml\ntreatments:\n  - drug: bevacizumab\n    dose: 1 mg\n",
                  "c.yaml")
    check(refused(child), child, 3, "treatments.0.route", "<missing>", "a route, one of")


def test_an_overridden_bad_value_in_the_base_is_not_reported(tmp_path):
    write(tmp_path, edited("duration_days: 120", "duration_days: -1"), "base.yaml")
    child = write(tmp_path, "extends: base.yaml\nduration_days: 10\n", "c.yaml")
    assert load_scenario(child).duration_days == 10.0


def test_name_missing_in_every_file_of_the_chain(tmp_path):
    write(tmp_path, "duration_days: 5\n", "base.yaml")
    child = write(tmp_path, "# child\nextends: base.yaml\nspecies: human\n", "c.yaml")
    check(refused(child), child, 2, "name", "<missing>", "a non-empty name")


def test_a_base_with_an_unknown_key_names_the_base(tmp_path):
    base = write(tmp_path, "name: a\nduration_days: 5\nspeceis: human\n", "base.yaml")
    child = write(tmp_path, "extends: base.yaml\n", "c.yaml")
    check(refused(child), base, 3, "speceis", "'speceis'", "(did you mean 'species'?)")


def test_a_broken_base_file_is_reported_in_the_base(tmp_path):
    base = write(tmp_path, "name: a\nname: b\n", "base.yaml")
    child = write(tmp_path, "extends: base.yaml\n", "c.yaml")
    err = refused(child)
    assert (err.file, err.line, err.key) == (str(base), 2, "name")
    assert "duplicate key 'name'" in str(err)


# Bad values, one class per case ----------------------------------------------------------------
# (old text, new text, key path, found, expected, fragment of the line that must be named)

T0, T1, T2 = "treatments.0", "treatments.1", "treatments.2"
BAD = {
    # wrong types
    "string_for_number": ("duration_days: 120", 'duration_days: "120"', "duration_days", "found '120'",
                          "a finite number > 0 (days)", None),
    "list_for_mapping": ("  mif_expression: 0.2\n  tumor_normoxic_growth_rate: 0.3",
                         "  - mif_expression", "parameters", "found <a list>",
                         "a mapping of parameter names to numbers >= 0", "parameters:"),
    "mapping_for_list": (VALID[VALID.index("treatments:"):], "treatments:\n  drug: bevacizumab\n",
                         "treatments", "found <a mapping>", "a list of treatments", "treatments:"),
    "string_for_treatment": ("  - drug: mtor_inhibitor\n    dose: 5 mg\n    route: oral\n"
                             "    every_days: 1\n    stop_day: 100\n", "  - oral everolimus\n", T1,
                             "found 'oral everolimus'", "a treatment: a mapping with keys", None),
    "number_for_name": ("name: bevacizumab_q2w", "name: 12", "name", "found 12", "a non-empty name", None),
    "list_for_description": ("description: free text", "description: [a, b]", "description",
                             "found <a list>", "free text (a string)", None),
    "date_for_number": ("    start_day: 7", "    start_day: 2024-01-07", f"{T2}.start_day",
                        "datetime.date(2024, 1, 7)", "a finite number >= 0 (day)", None),
    "float_doses": ("doses: 6", "doses: 2.5", f"{T0}.doses", "found 2.5", "a whole number of doses", None),
    # booleans where numbers are expected
    "bool_for_number": ("    start_day: 14", "    start_day: true", f"{T0}.start_day", "found True",
                        "a finite number >= 0 (day), not true/false", None),
    "bool_for_count": ("doses: 6", "doses: yes", f"{T0}.doses", "found True", "a whole number of doses",
                       None),
    "bool_for_parameter": ("mif_expression: 0.2", "mif_expression: false", "parameters.mif_expression",
                           "found False", "not true/false", None),
    # non-finite numbers
    "nan_parameter": ("mif_expression: 0.2", "mif_expression: .nan", "parameters.mif_expression",
                      "found nan", "a finite number >= 0", None),
    "inf_duration": ("duration_days: 120", "duration_days: .inf", "duration_days", "found inf",
                     "a finite number > 0", None),
    "huge_integer": ("duration_days: 120", "duration_days: 1" + "0" * 400, "duration_days", "found 1000",
                     "a finite number > 0", None),
    "overflowing_dose": ("dose: 5 mg", "dose: 1e999 mg", f"{T1}.dose", "found '1e999 mg'",
                         "a finite number with a unit", None),
    # negative amounts
    "negative_dose": ("dose: 10 mg/kg", "dose: -10 mg/kg", f"{T0}.dose", "found '-10 mg/kg'",
                      "a dose >= 0 with a unit", None),
    "negative_parameter": ("mif_expression: 0.2", "mif_expression: -0.2", "parameters.mif_expression",
                           "found -0.2", "a finite number >= 0", None),
    "negative_initial": ("tumor_normoxic: 20.0", "tumor_normoxic: -20.0", "initial_conditions.tumor_normoxic",
                         "found -20.0", "a finite number >= 0", None),
    "negative_start": ("    start_day: 14", "    start_day: -1", f"{T0}.start_day", "found -1",
                       "a finite number >= 0", None),
    "zero_body_weight": ("body_weight: 25 g", "body_weight: 0 g", "body_weight", "found '0 g'",
                         "a body weight > 0", None),
    # zero intervals and durations
    "zero_interval": ("every_days: 14", "every_days: 0", f"{T0}.every_days", "found 0",
                      "a finite number > 0 (days)", "    every_days: 0"),
    "zero_duration": ("duration_days: 120", "duration_days: 0", "duration_days", "found 0",
                      "a finite number > 0 (days)", None),
    "zero_output_step": ("output_every_days: 0.5", "output_every_days: 0", "output_every_days", "found 0",
                         "a finite number > 0", None),
    "zero_infusion": ("infusion_hours: 1.5", "infusion_hours: 0", f"{T0}.infusion_hours", "found 0",
                      "a finite number >= 0.001 (hours)", None),
    "zero_doses": ("doses: 6", "doses: 0", f"{T0}.doses", "found 0", "from 1 to", None),
    # relations between values
    "output_step_longer_than_run": ("output_every_days: 0.5", "output_every_days: 200", "output_every_days",
                                    "found 200", "at most duration_days (120)", None),
    "too_many_output_times": ("output_every_days: 0.5", "output_every_days: 1e-5", "output_every_days",
                              "found 1e-05", "at most 1000000 output times", None),
    "stop_before_start": ("    start_day: 14\n    every_days: 14\n    doses: 6",
                          "    start_day: 14\n    every_days: 14\n    stop_day: 9", f"{T0}.stop_day",
                          "found 9", "a finite number >= start_day (14)", "stop_day: 9"),
    "too_many_doses": ("every_days: 1\n", "every_days: 0.0001\n", f"{T1}.every_days", "found 0.0001",
                       f"at most {MAX_DOSES} doses", None),
    "too_large_count": ("doses: 6", f"doses: {MAX_DOSES + 1}", f"{T0}.doses", f"found {MAX_DOSES + 1}",
                        f"from 1 to {MAX_DOSES}", None),
    "doses_and_stop_day": ("    doses: 6\n", "    doses: 6\n    stop_day: 90\n", f"{T0}.stop_day",
                           "found 90", "either doses or stop_day, not both", "stop_day: 90"),
    "interval_without_count": ("    doses: 6\n", "", f"{T0}.every_days", "found 14",
                               "doses or stop_day alongside every_days", "every_days: 14"),
    "count_without_interval": ("    start_day: 7", "    start_day: 7\n    doses: 3", f"{T2}.doses",
                               "found 3", "every_days as well", "doses: 3"),
    "stop_day_without_interval": ("    start_day: 7", "    start_day: 7\n    stop_day: 30", f"{T2}.stop_day",
                                  "found 30", "every_days as well", "stop_day: 30"),
    "infusion_hours_on_bolus": ("    start_day: 7", "    start_day: 7\n    infusion_hours: 2",
                                f"{T2}.infusion_hours", "found 2",
                                "no infusion_hours for route iv_bolus", "infusion_hours: 2"),
    "infusion_hours_on_oral": ("stop_day: 100", "stop_day: 100\n    infusion_hours: 2",
                               f"{T1}.infusion_hours", "found 2", "no infusion_hours for route oral",
                               "infusion_hours: 2"),
    "infusion_without_hours": ("    infusion_hours: 1.5\n", "", f"{T0}.infusion_hours", "found <missing>",
                               "required for route iv_infusion", "# infusion arm"),
    "body_weight_twice": ("  mif_expression: 0.2", "  mif_expression: 0.2\n  body_weight: 0.03",
                          "body_weight",
                          "found '25 g'", "either here or as parameters.body_weight, not both",
                          "body_weight: 25 g"),
    # units
    "bare_number_dose": ("dose: 10 mg/kg", "dose: 10", f"{T0}.dose", "found 10",
                         "a number with a unit (mg/kg or mg), e.g. '10 mg/kg'", None),
    "number_without_unit_text": ("dose: 10 mg/kg", "dose: '10'", f"{T0}.dose", "found '10'",
                                 "a number with a unit (mg/kg or mg)", None),
    "unknown_dose_unit": ("dose: 10 mg/kg", "dose: 10 mg/lb", f"{T0}.dose", "found '10 mg/lb'",
                          "the unit must be one of mg/kg, mg (did you mean 'mg/kg'?)", None),
    "text_dose": ("dose: 10 mg/kg", "dose: ten mg/kg", f"{T0}.dose", "found 'ten mg/kg'",
                  "a number with a unit", None),
    "bare_body_weight": ("body_weight: 25 g", "body_weight: 25", "body_weight", "found 25",
                         "a number with a unit (kg or g), e.g. '25 g'", None),
    "unknown_weight_unit": ("body_weight: 25 g", "body_weight: 25 lb", "body_weight", "found '25 lb'",
                            "the unit must be one of kg, g", None),
    # unknown names, with the nearest known one suggested
    "unknown_top_level_key": ("duration_days: 120", "duraton_days: 120", "duraton_days",
                              "found 'duraton_days'", "(did you mean 'duration_days'?)", None),
    "unknown_treatment_key": ("infusion_hours: 1.5", "infusion_hour: 1.5", f"{T0}.infusion_hour",
                              "found 'infusion_hour'", "(did you mean 'infusion_hours'?)", None),
    "unknown_drug": ("drug: mtor_inhibitor", "drug: mtor_inhibiter", f"{T1}.drug", "found 'mtor_inhibiter'",
                     "a drug: one of bevacizumab, mtor_inhibitor (did you mean 'mtor_inhibitor'?)", None),
    "unknown_route": ("route: iv_bolus", "route: iv_bolsu", f"{T2}.route", "found 'iv_bolsu'",
                      "(did you mean 'iv_bolus'?)", None),
    "route_of_another_drug": ("route: oral", "route: iv_bolus  # not for mtor", f"{T1}.route",
                              "found 'iv_bolus'", "a route for mtor_inhibitor: one of oral",
                              "# not for mtor"),
    "unknown_species": ("species: human", "species: humna", "species", "found 'humna'",
                        "a species: one of mouse, human (did you mean 'human'?)", None),
    "unknown_state": ("tumor_normoxic: 20.0", "tumor_normoxc: 20.0", "initial_conditions.tumor_normoxc",
                      "found 'tumor_normoxc'", "a state name: one of tumor_normoxic, tumor_hypoxic", None),
    "unknown_parameter": ("mif_expression: 0.2", "mif_expresion: 0.2", "parameters.mif_expresion",
                          "found 'mif_expresion'", "(did you mean 'mif_expression'?)", None),
    # missing required fields
    "missing_name": ("name: bevacizumab_q2w\n", "", "name", "found <missing>",
                     "a non-empty name without path separators", "description:"),
    "missing_duration": ("duration_days: 120\n", "", "duration_days", "found <missing>",
                         "a finite number > 0 (days; required)", "name:"),
    "missing_drug": ("  - drug: mtor_inhibitor\n    dose: 5 mg", "  - dose: 5 mg", f"{T1}.drug",
                     "found <missing>", "a drug, one of bevacizumab, mtor_inhibitor (required)",
                     "- dose: 5 mg"),
    "missing_dose": ("    dose: 10 mg/kg\n", "", f"{T0}.dose", "found <missing>",
                     "a number with a unit, e.g. '10 mg/kg' (required)", "# infusion arm"),
    "missing_route": ("    route: oral\n", "", f"{T1}.route", "found <missing>", "a route, one of",
                      "mtor_inhibitor"),
    "empty_name": ("name: bevacizumab_q2w", "name: '  '", "name", "found '  '", "a non-empty name", None),
    "name_with_path": ("name: bevacizumab_q2w", "name: ../../etc", "name", "found '../../etc'",
                       "without path separators", None),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_value_is_refused_with_file_line_key_found_and_expected(tmp_path, case):
    old, new, key, found, expected, fragment = BAD[case]
    text = edited(old, new)
    path = write(tmp_path, text)
    line = line_containing(text, fragment if fragment is not None else new.strip().splitlines()[0])
    check(refused(path), path, line, key, found, expected)


def test_the_unchanged_template_is_valid(tmp_path):
    """The bad-value cases each change one thing in a template that is itself accepted."""
    load_scenario(write(tmp_path, VALID))


# Bad files, through load_scenario ------------------------------------------------------------


@pytest.mark.parametrize("text, line, key, found, expected", [
    (VALID + "species: mouse\n", VALID.count("\n") + 1, "species",
     "duplicate key 'species' (first given at line 3)", "each key at most once"),
    (edited("  mif_expression: 0.2\n", "  mif_expression: &m 0.2\n  bev_mif_binding: *m\n"), 8,
     "parameters.mif_expression", "anchor &m",
     "anchors (&) and aliases (*) are not supported in scenario files"),
    (edited("name: bevacizumab_q2w", "name: !!python/object/apply:os.getcwd []"), 1, "name",
     "tag !!python/object/apply:os.getcwd", "a plain value without a tag"),
    ("- name: x\n- duration_days: 3\n", 1, None, "<a list>", "a mapping of keys to values at the top level"),
])
def test_bad_yaml_is_refused_by_load_scenario(tmp_path, text, line, key, found, expected):
    path = write(tmp_path, text)
    err = refused(path)
    assert (err.file, err.line, err.key) == (str(path), line, key), str(err)
    assert found in str(err) and expected in str(err)


def test_missing_file(tmp_path):
    path = tmp_path / "absent.yaml"
    check(refused(path), path, None, None, "<no such file>", "an existing YAML file")


def test_directory(tmp_path):
    check(refused(tmp_path), tmp_path, None, None, "<a directory>", "a readable UTF-8 YAML file")


def test_non_utf8_file(tmp_path):
    path = tmp_path / "latin1.yaml"
    path.write_bytes(b"name: x\nduration_days: 5\ndescription: \xe9t\xe9\n")
    check(refused(path), path, 3, None, "0xe9", "a text file encoded as UTF-8")


def test_empty_file(tmp_path):
    path = write(tmp_path, "")
    check(refused(path), path, None, None, "<an empty file>", "a mapping of keys to values")


def test_errors_never_leak_other_exception_types(tmp_path):
    """Guards against: a check that raises TypeError or ValueError instead of InputError."""
    odd = ["name: [1]", "duration_days: {a: 1}", "treatments: 3", "treatments: [[1]]",
           "parameters: 3", "initial_conditions: [a]", "species: [mouse]", "body_weight: {a: 1}",
           "? [a]\n: 1", "1: 2", "null: 2", "output_every_days: '1'"]
    for i, line in enumerate(odd):
        path = write(tmp_path, f"{line}\n", f"odd{i}.yaml")
        with pytest.raises(InputError):
            load_scenario(path)
