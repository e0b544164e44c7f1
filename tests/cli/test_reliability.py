"""Every input ends in a result or a clear refusal: guards of the defects an adversarial pass
found (tracebacks on accepted input, inexact doses, unbounded reads, half-written outputs,
messages that echo files). Each test calls the CLI in-process and checks the exit status, the
one-line message and what is left on disk."""
from __future__ import annotations

import json
import os
import sqlite3
import stat
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from simbev.atomic import TAG, clean_leftovers, staged
from simbev.cli import main
from simbev.errors import InputError, SimulationError
from simbev.parameters import load_parameter_set
from simbev.parameters.admissible import InadmissibleValue, admissible_range
from simbev.protocol.dosing import DoseEvent
from simbev.scenario.file import load_scenario
from simbev.scenario.yamlsafe import load_yaml


def _write(path: Path, text: str) -> Path:
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def _cli(capsys, *argv) -> tuple[int, str]:
    code = main([str(a) for a in argv])
    err = capsys.readouterr().err
    return code, err


def _one_line_refusal(code: int, err: str) -> str:
    assert code == 2, err
    assert "Traceback" not in err, err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    return lines[0]


# --- 1. admissibility and numerical trouble ----------------------------------------------------

@pytest.mark.parametrize("override", ["bev_molecular_weight: 0", "body_weight: 0", "bev_central_volume: 0",
                                      "vegf_vessel_ec50: 0",
                                      "tumor_normoxic_growth_rate: 1e300"])
def test_inadmissible_parameter_is_refused_alike_by_validate_and_run(tmp_path, capsys, override):
    """Guards against: `parameters: {bev_molecular_weight: 0}` (a ZeroDivisionError traceback) and
    `parameters: {body_weight: 0}` (a silent untreated run) passing validate; validate and run
    must apply the same admissibility rule, with file, line and key."""
    f = _write(tmp_path / "s.yaml", f"""\
        name: s
        duration_days: 3
        parameters: {{{override}}}
        treatments:
          - {{drug: bevacizumab, dose: 10 mg/kg, route: iv_bolus}}
        """)
    key = override.split(":")[0]
    for command in ("validate", "run"):
        line = _one_line_refusal(*_cli(capsys, command, f, *(["--out", tmp_path / "o"] if command == "run" else [])))
        assert f"s.yaml:3: parameters.{key}: found" in line and "expected" in line, line
    assert not (tmp_path / "o").exists()


def test_api_applies_the_same_admissibility_rules():
    """Guards against: the API accepting values the file format refuses (one contract for all)."""
    pset = load_parameter_set("mouse")
    for name in ("bev_molecular_weight", "body_weight", "bev_peripheral_volume"):
        low, _, strict = admissible_range(name, pset.records[name].unit)
        assert strict and low == 0
        with pytest.raises(InadmissibleValue):
            pset.with_values({name: 0.0})
    with pytest.raises(InputError):
        pset.with_values({"tumor_normoxic_growth_rate": float("inf")})
    # every shipped default is admissible
    for species in ("mouse", "human"):
        s = load_parameter_set(species)
        assert s.with_values(s.values()).values() == s.values()


@pytest.mark.parametrize("dose", ["1e29 mg/kg", "1e308 mg"])
def test_absurd_dose_is_refused_by_validate(tmp_path, capsys, dose):
    """Guards against: `dose: 1e29 mg/kg` (complex right-hand side, TypeError traceback) and
    `dose: 1e308 mg` (ValueError: amount_nmol must be finite) in run and export-sbml."""
    f = _write(tmp_path / "s.yaml", f"""\
        name: s
        duration_days: 3
        treatments:
          - {{drug: bevacizumab, dose: {dose}, route: iv_bolus}}
        """)
    for argv in (("validate", f), ("run", f, "--out", tmp_path / "o"), ("export-sbml", f, "-o", tmp_path / "m.xml")):
        line = _one_line_refusal(*_cli(capsys, *argv))
        assert "treatments.0.dose" in line and "at most" in line
    assert sorted(os.listdir(tmp_path)) == ["s.yaml"]


@pytest.mark.slow
def test_state_leaving_its_domain_is_a_simulation_error_with_the_state_there(tmp_path, capsys):
    """Guards against: `tumor_normoxic_growth_rate: 0` over 3650 days raising a complex-cast
    TypeError (exit 1), and failure messages that print the *initial* state and no parameters."""
    f = _write(tmp_path / "s.yaml", """\
        name: s
        duration_days: 3650
        parameters: {tumor_normoxic_growth_rate: 0}
        """)
    line = _one_line_refusal(*_cli(capsys, "run", f, "--out", tmp_path / "o"))
    assert "state left its domain" in line and "varied parameters: tumor_normoxic_growth_rate=0" in line
    assert "hint:" in line and "(reference solver)" in line
    t = float(line.split(" at t = ")[1].split(" day")[0])
    assert 0 < t < 3650
    # the state named is the one at that time, not the initial state
    initial = load_parameter_set("mouse").initial_conditions["tumor_normoxic"]
    named = float(line.split("tumor_normoxic=")[1].split(",")[0])
    assert named != pytest.approx(initial)
    assert not (tmp_path / "o").exists()
    line = _one_line_refusal(*_cli(capsys, "compare", f, f, "--out", tmp_path / "c"))
    assert "state left its domain" in line


def test_simulation_error_names_time_state_parameters_and_hint():
    """Guards against: SimulationError messages without the varied parameters or a hint."""
    err = SimulationError("step size underflow", 28.0, np.arange(19.0), {}).with_context({"x": 2.0}, "compiled")
    text = str(err)
    assert "(compiled solver) at t = 28 day" in text and "varied parameters: x=2" in text and "hint:" in text
    assert "\n" not in text


def test_extends_symlink_loop_and_scheduler_are_refused(tmp_path, capsys):
    """Guards against: `extends:` through a symlink loop (RuntimeError traceback) and
    `--scheduler 'not a url'` (ValueError: missing port number)."""
    (tmp_path / "a").symlink_to(tmp_path / "b")
    (tmp_path / "b").symlink_to(tmp_path / "a")
    f = _write(tmp_path / "s.yaml", "name: s\nduration_days: 3\nextends: a\n")
    line = _one_line_refusal(*_cli(capsys, "validate", f))
    assert "s.yaml:3: extends: found 'a'" in line
    good = _write(tmp_path / "g.yaml", "name: g\nduration_days: 3\n")
    sweep = _write(tmp_path / "w.yaml", f"""\
        name: w
        scenario: {good}
        design: grid
        vary:
          tumor_normoxic_growth_rate: {{values: [0.1]}}
        metrics: [final_tumor_volume]
        """)
    line = _one_line_refusal(*_cli(capsys, "sweep", sweep, "--out", tmp_path / "o", "--scheduler", "not a url"))
    assert "--scheduler: found 'not a url'" in line
    assert not (tmp_path / "o").exists()


# --- 2. doses exact or refused ------------------------------------------------------------------

@pytest.mark.parametrize("hours", [1.3e-3, 1e-3 * 1.7, 0.1, 7.77])
def test_infusion_delivers_exactly_the_logged_amount(hours):
    """Guards against: a short infusion whose window end was snapped to the 1e-9 day grid but
    whose rate used the exact duration (1.85x the logged dose delivered, exit 0)."""
    d = DoseEvent(0.3, "bevacizumab", "iv_infusion", 123.0, hours / 24.0, 1.0)
    delivered = d.amount_nmol / d.duration_days * (d.end - d.time)
    assert delivered == pytest.approx(d.amount_nmol, rel=1e-12)
    with pytest.raises(ValueError, match="shorter than the 1e-9 day"):
        DoseEvent(0.3, "bevacizumab", "iv_infusion", 1.0, 1e-12, 1.0)


def test_too_short_infusion_is_refused_by_validate(tmp_path, capsys):
    """Guards against: `infusion_hours: 1.3e-8` (1.85x delivered) and 1e-8 (nothing delivered)
    accepted with exit 0."""
    for hours in ("1.3e-8", "1e-8"):
        f = _write(tmp_path / "s.yaml", f"""\
            name: s
            duration_days: 3
            treatments:
              - {{drug: bevacizumab, dose: 10 mg/kg, route: iv_infusion, infusion_hours: {hours}}}
            """)
        line = _one_line_refusal(*_cli(capsys, "run", f, "--out", tmp_path / "o"))
        assert "treatments.0.infusion_hours" in line


def test_run_with_broken_mass_balance_fails_instead_of_writing(monkeypatch):
    """Guards against: a run whose bevacizumab mass balance is off being written with exit 0."""
    from simbev import Scenario
    from simbev.protocol.dosing import Regimen
    from simbev.solvers import base
    sc = Scenario("mb", 3.0, treatments=(Regimen("bevacizumab", (10.0, "mg/kg"), "iv_bolus"),))
    assert base.simulate(sc).bev_mass_balance_residual() < base.MASS_BALANCE_TOLERANCE
    from simbev import result as result_module
    monkeypatch.setattr(result_module.Result, "bev_mass_balance_residual", lambda self: 1e-3)
    with pytest.raises(SimulationError, match="mass balance"):
        base.simulate(sc)


# --- 4. resources bounded ---------------------------------------------------------------------

def test_only_small_regular_files_are_read(tmp_path, capsys):
    """Guards against: `extends: /dev/zero` growing memory without limit, a FIFO as extends
    target blocking forever, and a directory."""
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    big = tmp_path / "big.yaml"
    big.write_text("name: x\n" + "#" * 2_000_000 + "\n")
    for target in ("/dev/zero", str(fifo), str(tmp_path), str(big)):
        f = _write(tmp_path / "s.yaml", f"name: s\nduration_days: 3\nextends: {target}\n")
        line = _one_line_refusal(*_cli(capsys, "validate", f))
        assert "regular" in line or "directory" in line or "at most" in line, line


def test_total_dose_count_and_extends_depth_are_capped(tmp_path, capsys):
    """Guards against: 200 regimens x 100,000 doses passing validation (the cap was per
    regimen) and a long extends chain reported as "values nested too deeply"."""
    regimen = "  - {drug: bevacizumab, dose: 1 mg/kg, route: iv_bolus, every_days: 0.001, doses: 100000}\n"
    f = _write(tmp_path / "s.yaml", "name: s\nduration_days: 3\ntreatments:\n" + regimen * 3)
    line = _one_line_refusal(*_cli(capsys, "validate", f))
    assert "treatments: found <3 treatments giving 300000 doses in all>" in line
    _write(tmp_path / "c0.yaml", "name: s\nduration_days: 3\n")
    for i in range(1, 40):
        _write(tmp_path / f"c{i}.yaml", f"extends: c{i - 1}.yaml\n")
    line = _one_line_refusal(*_cli(capsys, "validate", tmp_path / "c39.yaml"))
    assert "a chain of at most" in line


# --- 5. nothing half-written ------------------------------------------------------------------

def test_leftovers_of_a_killed_writer_are_cleaned_and_folders_follow_the_umask(tmp_path):
    """Guards against: `.simbev-tmp-*` folders with `.part` files left by SIGKILL during a write,
    and run folders created 0700 whatever the umask."""
    dead = tmp_path / f".out{TAG}999999999-abc"
    dead.mkdir()
    (dead / "timeseries.csv").write_text("half")
    alive = tmp_path / f".out{TAG}{os.getpid()}-abc"
    alive.mkdir()
    assert clean_leftovers(tmp_path) == [dead]
    assert alive.exists()
    alive.rmdir()
    old = os.umask(0o022)
    try:
        staged(tmp_path / "out", lambda d: (d / "x.txt").write_text("x"))
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "out").stat().st_mode) == 0o755
    assert sorted(os.listdir(tmp_path)) == ["out"]


def test_output_folder_ends_complete_or_as_it_was(tmp_path, capsys):
    """Guards against: a rerun into a folder where `summary.json` is a directory leaving old and
    new files mixed, `export-sbml -o existing_dir` leaving a `.part`, a too-long scenario name
    leaving an empty `results/`, and "File exists" for an --out below a file."""
    f = _write(tmp_path / "s.yaml", "name: s\nduration_days: 2\n")
    out = tmp_path / "o"
    assert _cli(capsys, "run", f, "--out", out)[0] == 0
    before = {p.name: p.stat().st_mtime_ns for p in out.iterdir()}
    (out / "summary.json").unlink()
    (out / "summary.json").mkdir()
    before["summary.json"] = (out / "summary.json").stat().st_mtime_ns
    line = _one_line_refusal(*_cli(capsys, "run", f, "--out", out))
    assert "summary.json: is a directory" in line
    assert {p.name: p.stat().st_mtime_ns for p in out.iterdir()} == before
    assert not [p for p in tmp_path.iterdir() if TAG in p.name]

    line = _one_line_refusal(*_cli(capsys, "export-sbml", f, "-o", out))
    assert "is a directory" in line
    assert sorted(os.listdir(out)) == sorted(before)

    line = _one_line_refusal(*_cli(capsys, "run", f, "--out", f / "below"))
    assert "which is a file, not a directory" in line

    long = _write(tmp_path / "l.yaml", f"name: {'n' * 300}\nduration_days: 2\n")
    cwd = os.getcwd()
    os.chdir(tmp_path)
    try:
        code, err = _cli(capsys, "run", long)
    finally:
        os.chdir(cwd)
    _one_line_refusal(code, err)
    assert not (tmp_path / "results").exists()


# --- 6. messages --------------------------------------------------------------------------------

def test_errors_quote_at_most_one_line(tmp_path, capsys):
    """Guards against: `extends: /etc/passwd` printing the whole file in the message."""
    text = tmp_path / "notes.txt"
    text.write_text("\n".join(f"secret line {i}" for i in range(100)))
    f = _write(tmp_path / "s.yaml", f"name: s\nduration_days: 3\nextends: {text}\n")
    line = _one_line_refusal(*_cli(capsys, "validate", f))
    assert "secret line 1" not in line and len(line) < 400


@pytest.mark.parametrize("text, value", [("017", 17), ("0o17", 15), ("1e3", 1000.0), ("-2.5", -2.5)])
def test_numbers_are_read_by_the_yaml_12_core_schema(tmp_path, text, value):
    """Guards against: YAML 1.1 forms read silently (`017` -> 15, `1:30` -> 90)."""
    f = _write(tmp_path / "a.yaml", f"a: {text}\nb: 1:30\nc: 1_000\n")
    data, _ = load_yaml(f)
    assert data["a"] == value and type(data["a"]) is type(value)
    assert data["b"] == "1:30" and data["c"] == "1_000"
    g = _write(tmp_path / "s.yaml", "name: s\nduration_days: 1:30\n")
    with pytest.raises(InputError, match="duration_days: found '1:30'"):
        load_scenario(g)


def test_default_values_are_not_blamed_at_line_1(tmp_path):
    """Guards against: a default key blamed at "line 1" of a file that does not contain it."""
    f = _write(tmp_path / "s.yaml", "# a comment\nname: s\nduration_days: 2e7\n")
    with pytest.raises(InputError) as info:
        load_scenario(f)
    assert info.value.line == 3 and info.value.key == "duration_days"
    assert ":1:" not in str(info.value)


def test_solver_messages_carry_no_scipy_advice():
    """Guards against: "Run with full_output = 1" (scipy's advice to its callers) in messages."""
    from simbev.solvers.reference import _first_sentence
    text = _first_sentence(Warning("Excess work done on this call (perhaps wrong Dfun type). "
                                   "Run with full_output = 1 to get quantitative information."))
    assert "full_output" not in text and text.startswith("Excess work done")
