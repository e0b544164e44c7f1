"""Population build (determinism, resume after a kill) and the trial command."""
from __future__ import annotations

import csv
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import write_spec
from simbev.cli import main
from simbev.trial.population import build, load_population, model_fingerprint

ROOT = Path(__file__).resolve().parents[2]
HUMAN = str(ROOT / "configs" / "scenarios" / "bevacizumab_human.yaml")


def _patients(path):
    return json.loads(Path(path).read_text())["patients"]


def test_population_records_fingerprint_and_selection(small_population):
    rec = load_population(small_population)
    assert rec["model_fingerprint"] == model_fingerprint()
    s = rec["screening"]
    assert s["plausible"] == 150 and s["selected"] == len(rec["patients"]) >= 5
    assert s["passed_filters"] + sum(s["excluded_by_filter"].values()) + s["failed"] == 150
    assert "Allen" in s["method"]


@pytest.mark.slow
def test_build_is_deterministic_and_independent_of_workers(small_population, tmp_path):
    spec = write_spec(tmp_path)
    build(spec, tmp_path / "two.json", workers=2)
    assert _patients(tmp_path / "two.json") == _patients(small_population)


def test_stale_population_is_refused_with_how_to_rebuild(small_population, tmp_path, capsys):
    """Guards against: running a trial on patients selected for another model version."""
    rec = json.loads(Path(small_population).read_text())
    rec["model_fingerprint"] = "0123456789abcdef"
    stale = tmp_path / "stale.json"
    stale.write_text(json.dumps(rec))
    out = tmp_path / "out"
    assert main(["trial", HUMAN, "--population", str(stale), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "0123456789abcdef" in err and "simbev population build" in err and "Traceback" not in err
    assert not out.exists()


def test_unknown_population_is_a_clear_error(tmp_path, capsys):
    assert main(["trial", HUMAN, "--population", "no_such_population", "--out", str(tmp_path / "o")]) == 2
    assert "no such population" in capsys.readouterr().err


def test_trial_two_arms_writes_files(small_population, tmp_path, capsys):
    combo = ROOT / "configs" / "scenarios" / "combination_human.yaml"
    out = tmp_path / "trial"
    assert main(["trial", HUMAN, str(combo), "--population", str(small_population), "--out", str(out)]) == 0
    for name in ("patients.csv", "summary.json", "km_pfs.png", "km_os.png", "waterfall.png", "spider.png"):
        assert (out / name).stat().st_size > 0
    rows = list(csv.DictReader(open(out / "patients.csv")))
    n = len(_patients(small_population))
    assert len(rows) == 2 * n
    assert {"arm", "id", "best_response", "pfs_days", "pfs_event", "os_days", "os_event",
            "tumor_normoxic_growth_rate"} <= set(rows[0])
    summary = json.loads((out / "summary.json").read_text())
    assert [a["arm"] for a in summary["arms"]] == ["bevacizumab_human", "combination_human"]
    for arm in summary["arms"]:
        assert arm["n_patients"] == n
        for key in ("objective_response_rate", "progression_free_6mo", "median_pfs_weeks", "median_os_weeks"):
            assert set(arm[key]) >= {"value", "low", "high"}
        orr = arm["objective_response_rate"]
        k = sum(r["best_response"] in ("CR", "PR") for r in rows if r["arm"] == arm["arm"])
        assert orr["value"] == pytest.approx(k / n)
    assert summary["population"] == "small" and summary["model_version"]["model_fingerprint"] == model_fingerprint()


def test_trial_single_arm_has_top_level_statistics(small_population, tmp_path):
    out = tmp_path / "one"
    assert main(["trial", HUMAN, "--population", str(small_population), "--out", str(out)]) == 0
    s = json.loads((out / "summary.json").read_text())
    assert s["n_patients"] == len(_patients(small_population))
    assert "objective_response_rate" in s and s["regimen"][0]["drug"] == "bevacizumab"
    header = (out / "patients.csv").read_text().splitlines()[0]
    assert header.startswith("id,")


def test_trial_refuses_a_mouse_scenario(small_population, tmp_path, capsys):
    mouse = str(ROOT / "configs" / "scenarios" / "bevacizumab_mouse.yaml")
    assert main(["trial", mouse, "--population", str(small_population), "--out", str(tmp_path / "m")]) == 2
    assert "human" in capsys.readouterr().err


@pytest.mark.slow
def test_killed_build_resumes_to_the_same_population(small_population, tmp_path):
    """Guards against: a build killed mid-screening losing or duplicating patients."""
    d = tmp_path / "killed"
    spec = write_spec(d, plausible=900, weeks=52)
    out = d / "pop.json"
    store = d / "pop.json.screening.sqlite"
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    cmd = [sys.executable, "-m", "simbev", "population", "build", str(spec), "--out", str(out)]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    done = 0
    deadline = time.time() + 300
    try:
        while time.time() < deadline and proc.poll() is None:
            time.sleep(0.2)
            if store.exists():
                try:
                    with sqlite3.connect(store) as db:
                        done = db.execute("SELECT COUNT(*) FROM tasks WHERE status != 'pending'").fetchone()[0]
                except sqlite3.Error:
                    continue
                if done >= 100:
                    break
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    assert 100 <= done < 900, f"the build was not caught mid-way ({done} done)"
    assert not out.exists()
    assert main(["population", "build", str(spec), "--out", str(out)]) == 0
    with sqlite3.connect(store) as db:
        attempts = db.execute("SELECT MAX(attempts) FROM tasks").fetchone()[0]
    assert attempts == 1  # no patient recorded twice
    reference = tmp_path / "ref"
    ref_spec = write_spec(reference, plausible=900, weeks=52)
    build(ref_spec, reference / "pop.json")
    assert _patients(out) == _patients(reference / "pop.json")


def test_bad_population_file_is_one_line_with_exit_2(tmp_path, capsys):
    spec = write_spec(tmp_path)
    text = spec.read_text().replace("plausible: 150", "plausible: many")
    spec.write_text(text)
    assert main(["population", "build", str(spec), "--out", str(tmp_path / "p.json")]) == 2
    err = capsys.readouterr().err
    assert "small.yaml:3" in err and "plausible" in err and "'many'" in err and "Traceback" not in err
    assert not (tmp_path / "p.json").exists()


def test_shipped_population_is_built_for_this_model():
    """Guards against: shipping a population selected on an older model (rebuild it with
    `simbev population build simbev/trial/populations/kreisl2009.yaml --out ...` after a model change)."""
    rec = load_population("kreisl2009")
    assert len(rec["patients"]) >= 200
    assert rec["name"] == "kreisl2009"
