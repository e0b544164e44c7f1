"""The command line (INTERFACE.md, "Command line"): outputs, exit statuses, no partial output."""
from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import simbev
from simbev.cli import app as cli
from simbev.parameters import load_parameter_set
from simbev.model.states import DERIVED_NAMES, N_STATES, STATE_NAMES

ROOT = Path(__file__).resolve().parents[2]
SCENARIOS = ROOT / "configs" / "scenarios"
BEV_MOUSE = SCENARIOS / "bevacizumab_mouse.yaml"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"

SHORT = """\
name: {name}
description: a short run for the CLI tests
species: mouse
duration_days: {days}
output_every_days: 1
treatments:
  - drug: bevacizumab
    dose: 10 mg/kg
    route: iv_bolus
    start_day: 2
    every_days: 3.5
    doses: 2
"""

# a dose unit that does not exist: InputError at line 6
MALFORMED = """\
name: malformed
species: mouse
duration_days: 30
treatments:
  - drug: bevacizumab
    dose: 10 mg/lb
    route: iv_bolus
"""


def short_scenario(directory: Path, name: str = "short_run", days: int = 10) -> Path:
    path = directory / f"{name}.yaml"
    path.write_text(SHORT.format(name=name, days=days), encoding="utf-8")
    return path


def leftovers(directory: Path) -> list[str]:
    """Hidden staging directories left next to an output directory."""
    return sorted(p.name for p in directory.iterdir() if "simbev-tmp" in p.name)


@pytest.fixture(scope="module")
def bev_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("run") / "bev"
    status = cli.main(["run", str(BEV_MOUSE), "--out", str(out)])
    return status, out


# --- run --------------------------------------------------------------------------------------

def test_run_exits_zero_and_writes_every_file(bev_run):
    status, out = bev_run
    assert status == 0
    names = sorted(p.name for p in out.iterdir())
    assert names == ["compartments.png", "summary.json", "timeseries.csv", "tumor_burden.png"]
    assert leftovers(out.parent) == []


def test_run_timeseries_has_units_line_and_every_column(bev_run):
    _, out = bev_run
    with open(out / "timeseries.csv", encoding="utf-8") as fh:
        first = fh.readline()
        rows = list(csv.reader(fh))
    assert first.startswith("# units:")
    header = rows[0]
    assert header == ["time_days", *STATE_NAMES, *DERIVED_NAMES]
    for name in header:  # every column has its unit stated on the comment line
        assert f"{name} [" in first, name
    assert "tumor_volume [mm^3]" in first
    data = np.array(rows[1:], dtype=float)
    # 60 days sampled every 0.5 day, both ends included
    np.testing.assert_array_equal(data[:, 0], np.arange(0, 60.25, 0.5))
    assert np.all(np.isfinite(data[:, header.index("tumor_volume")]))


def test_run_summary_has_promised_keys(bev_run):
    _, out = bev_run
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    for key in ("scenario", "description", "species", "parameters", "doses", "dropped_doses", "solver",
                "solver_statistics", "simbev_version", "response_metrics", "bev_mass_balance_residual"):
        assert key in summary, key
    assert summary["scenario"] == "bevacizumab_mouse"
    assert summary["species"] == "mouse"
    assert summary["simbev_version"] == simbev.__version__
    assert "intravenous bolus" in summary["description"]
    records = load_parameter_set("mouse").records
    assert set(summary["parameters"]) == set(records)
    for name, entry in summary["parameters"].items():
        assert set(entry) == {"value", "unit", "source"}, name
        assert entry["value"] == records[name].value and entry["unit"] == records[name].unit
    m = summary["response_metrics"]
    for key in ("final_tumor_volume", "min_tumor_volume", "day_of_min", "time_to_progression"):
        assert key in m
    assert m["final_tumor_volume"] > 0 and m["min_tumor_volume"] > 0
    assert m["treatment_start_day"] == 7.0
    assert m["day_of_min"] >= 7.0
    assert summary["solver"]["method"]
    assert summary["solver_statistics"]["steps"] > 0
    assert 0 <= summary["bev_mass_balance_residual"] < 1e-6


def test_run_dose_log_equals_the_regimen(bev_run):
    """10 mg/kg i.v. every 3.5 days from day 7, stop_day 60: days 7, 10.5, ..., 59.5 (16 doses)."""
    _, out = bev_run
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    expected = [7.0 + 3.5 * k for k in range(16)]
    doses = summary["doses"]
    assert len(doses) == 16
    assert [d["time_days"] for d in doses] == pytest.approx(expected, abs=1e-9)
    body_weight = summary["parameters"]["body_weight"]["value"]
    for d in doses:
        assert d["drug"] == "bevacizumab" and d["route"] == "iv_bolus"
        assert d["amount_mg"] == pytest.approx(10.0 * body_weight)
    assert summary["dropped_doses"] == []


def test_run_pngs_exist_and_are_nonempty(bev_run):
    _, out = bev_run
    for name in ("tumor_burden.png", "compartments.png"):
        data = (out / name).read_bytes()
        assert data.startswith(PNG_MAGIC), name
        assert len(data) > 10_000, name  # a real figure, not an empty canvas


def test_run_without_out_writes_to_results_and_says_where(tmp_path, monkeypatch, capsys):
    scenario = short_scenario(tmp_path)
    monkeypatch.chdir(tmp_path)
    assert cli.main(["run", str(scenario)]) == 0
    out = tmp_path / "results" / "short_run"
    assert (out / "summary.json").is_file() and (out / "timeseries.csv").is_file()
    assert str(Path("results") / "short_run") in capsys.readouterr().out


def test_run_into_existing_directory_replaces_outputs_and_keeps_other_files(tmp_path):
    scenario = short_scenario(tmp_path)
    out = tmp_path / "out"
    out.mkdir()
    (out / "notes.txt").write_text("mine", encoding="utf-8")
    (out / "summary.json").write_text("stale", encoding="utf-8")
    assert cli.main(["run", str(scenario), "--out", str(out)]) == 0
    assert (out / "notes.txt").read_text(encoding="utf-8") == "mine"
    assert json.loads((out / "summary.json").read_text(encoding="utf-8"))["scenario"] == "short_run"
    assert leftovers(tmp_path) == []


# --- failures leave nothing -------------------------------------------------------------------

def test_malformed_scenario_exits_2_with_one_line_and_writes_nothing(tmp_path, capsys):
    bad = tmp_path / "bad.yaml"
    bad.write_text(MALFORMED, encoding="utf-8")
    out = tmp_path / "new" / "deeper" / "out"
    assert cli.main(["run", str(bad), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert len(err.strip().splitlines()) == 1
    assert "bad.yaml" in err and "treatments.0.dose" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.yaml"]


def test_missing_scenario_file_exits_2(tmp_path, capsys):
    assert cli.main(["run", str(tmp_path / "nope.yaml"), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert "nope.yaml" in err and "Traceback" not in err
    assert list(tmp_path.iterdir()) == []


def test_simulation_error_exits_2_and_writes_nothing(tmp_path, monkeypatch, capsys):
    def failing(scenario):
        raise simbev.SimulationError("solver failed", 3.0, np.zeros(N_STATES), {})

    from simbev.cli import common
    monkeypatch.setattr(common, "simulate", failing)
    scenario = short_scenario(tmp_path)
    out = tmp_path / "out"
    assert cli.main(["run", str(scenario), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "solver failed" in err and "Traceback" not in err
    assert not out.exists() and leftovers(tmp_path) == []


def test_failure_while_writing_leaves_no_partial_folder(tmp_path, monkeypatch):
    """The CSV and JSON are written before the figures; a failing figure must take them along."""
    from simbev.plotting import run as plotting

    def broken(result):
        raise RuntimeError("figure failed")

    monkeypatch.setattr(plotting, "plot_compartments", broken)
    scenario = short_scenario(tmp_path)
    out = tmp_path / "a" / "b"
    with pytest.raises(RuntimeError, match="figure failed"):
        cli.main(["run", str(scenario), "--out", str(out)])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["short_run.yaml"]


def test_usage_error_exits_2(capsys):
    assert cli.main(["run"]) == 2
    assert cli.main(["frobnicate"]) == 2
    assert "usage" in capsys.readouterr().err


# --- compare ----------------------------------------------------------------------------------

def test_compare_writes_figure_and_metrics_table(tmp_path, capsys):
    arms = [short_scenario(tmp_path, "arm_a", days=12), short_scenario(tmp_path, "arm_b", days=15)]
    untreated = tmp_path / "control.yaml"
    untreated.write_text("name: control\nspecies: mouse\nduration_days: 12\n", encoding="utf-8")
    out = tmp_path / "cmp"
    assert cli.main(["compare", *map(str, arms), str(untreated), "--out", str(out)]) == 0
    assert sorted(p.name for p in out.iterdir()) == ["comparison.png", "metrics.csv"]
    assert (out / "comparison.png").read_bytes().startswith(PNG_MAGIC)
    with open(out / "metrics.csv", encoding="utf-8") as fh:
        assert fh.readline().startswith("# units:")
        rows = list(csv.DictReader(fh))
    assert [r["arm"] for r in rows] == ["arm_a", "arm_b", "control"]
    assert rows[0]["treatment_start_day"] == "2.0" and rows[2]["treatment_start_day"] == ""
    for r in rows:
        assert float(r["final_tumor_volume"]) > 0
    printed = capsys.readouterr().out
    for arm in ("arm_a", "arm_b", "control", "final_tumor_volume", "time_to_progression"):
        assert arm in printed


def test_compare_with_one_bad_file_runs_nothing_and_writes_nothing(tmp_path, capsys):
    good = short_scenario(tmp_path)
    bad = tmp_path / "bad.yaml"
    bad.write_text(MALFORMED, encoding="utf-8")
    assert cli.main(["compare", str(good), str(bad), "--out", str(tmp_path / "cmp")]) == 2
    assert "bad.yaml" in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.yaml", "short_run.yaml"]


# --- validate ---------------------------------------------------------------------------------

def test_validate_good_files_returns_0(capsys):
    files = [str(SCENARIOS / "untreated.yaml"), str(BEV_MOUSE)]
    assert cli.main(["validate", *files]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out == [f"OK {f}" for f in files]


def test_validate_bad_file_returns_2_and_names_it(tmp_path, capsys):
    bad = tmp_path / "broken_scenario.yaml"
    bad.write_text(MALFORMED, encoding="utf-8")
    assert cli.main(["validate", str(BEV_MOUSE), str(bad)]) == 2
    captured = capsys.readouterr()
    assert "broken_scenario.yaml" in captured.err and "Traceback" not in captured.err
    assert f"OK {BEV_MOUSE}" in captured.out  # the good file is still reported


# --- params -----------------------------------------------------------------------------------

@pytest.mark.parametrize("species", ["mouse", "human"])
def test_params_lists_every_parameter(species, capsys):
    assert cli.main(["params", "--species", species]) == 0
    lines = capsys.readouterr().out.splitlines()
    rows = {line.split()[0]: line for line in lines if line and not line.startswith(("#", "-", "name "))}
    records = load_parameter_set(species).records
    assert set(rows) == set(records)
    for name, rec in records.items():
        fields = rows[name].split()
        assert float(fields[1]) == pytest.approx(rec.value, rel=1e-5), name
        assert rec.unit in rows[name] and rows[name].rstrip().endswith(rec.source), name


def test_params_defaults_to_mouse(capsys):
    assert cli.main(["params"]) == 0
    assert "parameter set: mouse" in capsys.readouterr().out


# --- as a program -----------------------------------------------------------------------------

def _python_m(*args, cwd):
    env = dict(os.environ, MPLBACKEND="Agg")
    return subprocess.run([sys.executable, "-m", "simbev", *args], cwd=cwd, capture_output=True, text=True,
                          env=env, timeout=300)


def test_python_m_simbev_run(tmp_path):
    scenario = short_scenario(tmp_path)
    proc = _python_m("run", str(scenario), "--out", "o", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "o" + os.sep in proc.stdout
    assert sorted(p.name for p in (tmp_path / "o").iterdir()) == [
        "compartments.png", "summary.json", "timeseries.csv", "tumor_burden.png"]


def test_python_m_simbev_bad_input_has_no_traceback(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(MALFORMED, encoding="utf-8")
    proc = _python_m("run", str(bad), cwd=tmp_path)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr and "bad.yaml:6" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1
    assert proc.stdout == ""
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.yaml"]
