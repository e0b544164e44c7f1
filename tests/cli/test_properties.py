"""Property and fault-injection tests: every scenario or sweep document, valid or not, ends in
exit 0 with complete output or exit 2 with a one-line message, never a traceback or leftover;
a writer killed mid-write leaves its target as it was.

The property tests run a bounded number of examples with a fixed seed (CI); set
``SIMBEV_PROPERTY_EXAMPLES`` for a longer run.
"""
from __future__ import annotations

import math
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, event, given, seed, settings
from hypothesis import strategies as st

from simbev.atomic import TAG
from simbev.cli import main

EXAMPLES = int(os.environ.get("SIMBEV_PROPERTY_EXAMPLES", "25"))
RUN_FILES = {"timeseries.csv", "summary.json", "tumor_burden.png", "compartments.png"}

def mostly(valid, invalid):
    """``valid`` seven times in eight, so that whole documents are often accepted and both
    outcomes are exercised."""
    return st.one_of(*([valid] * 7), invalid)


extreme_numbers = st.sampled_from([0, 1, -1, 0.5, 1e-300, 5e-324, 1e9, 1e300, 1e308, float("inf"),
                                   float("-inf"), float("nan"), 10**400, 2**63])
numbers = st.one_of(extreme_numbers, st.floats(0.01, 30.0), st.integers(-5, 50))
junk = st.one_of(st.none(), st.booleans(), st.text(max_size=12), st.lists(st.integers(), max_size=2),
                 st.dictionaries(st.text(max_size=4), st.integers(), max_size=2))
values = st.one_of(numbers, junk)
parameter_names = mostly(st.sampled_from(["tumor_normoxic_growth_rate", "body_weight", "bev_molecular_weight",
                                          "bev_central_volume", "vegf_vessel_ec50", "mtori_bioavailability",
                                          "vessel_loss_rate"]), st.just("not_a_parameter"))
doses = st.one_of(st.sampled_from(["10 mg/kg", "1e29 mg/kg", "1e308 mg", "-1 mg", "0 mg", "5 mg/lb",
                                   "nan mg", "2.5 mg"]), values)
treatment = st.fixed_dictionaries(
    {"drug": st.sampled_from(["bevacizumab", "mtor_inhibitor", "aspirin"]),
     "dose": doses,
     "route": st.sampled_from(["iv_bolus", "iv_infusion", "oral", "im"])},
    optional={"start_day": values, "every_days": values, "doses": values, "stop_day": values,
              "infusion_hours": st.one_of(st.sampled_from([1.3e-8, 1e-3, 1.5, 0]), values)})
good_treatment = st.fixed_dictionaries(
    {"drug": st.just("bevacizumab"), "dose": st.sampled_from(["10 mg/kg", "1e5 mg", "0 mg", "2.5 mg"]),
     "route": st.just("iv_infusion"), "infusion_hours": st.sampled_from([1e-3, 1.5, 30.0])},
    optional={"start_day": st.floats(0, 5)})
scenario_doc = st.fixed_dictionaries(
    {"name": mostly(st.just("p"), st.one_of(st.text(max_size=8), junk)),
     "duration_days": mostly(st.floats(0.5, 20.0), st.one_of(extreme_numbers, junk))},
    optional={"output_every_days": mostly(st.floats(0.1, 0.5), st.one_of(extreme_numbers, junk)),
              "parameters": st.dictionaries(parameter_names, mostly(st.floats(0.05, 0.2), values), max_size=2),
              "treatments": st.lists(mostly(good_treatment, treatment), max_size=3),
              "body_weight": mostly(st.just("25 g"), st.one_of(st.sampled_from(["0 g", "1e300 kg", "-2 kg"]), values)),
              "species": mostly(st.sampled_from(["mouse", "human"]), st.just("rat"))})


def _dump(doc) -> str:
    def fix(v):  # YAML has no big ints beyond what PyYAML writes; keep them as text
        if isinstance(v, float) and math.isnan(v):
            return float("nan")
        return v
    return yaml.safe_dump({k: fix(v) for k, v in doc.items()}, allow_unicode=True)


def _check_outcome(code: int, err: str, out: Path, folder: Path, files: set[str]):
    assert code in (0, 2), err
    assert "Traceback" not in err, err
    if code == 0:
        assert files <= set(os.listdir(out)), os.listdir(out)
    else:
        assert len(err.strip().splitlines()) == 1, err
        assert not out.exists() or not os.listdir(out), os.listdir(out)
    assert not [p for p in folder.rglob("*") if TAG in p.name or p.name.endswith(".part")]


@seed(20261127)
@settings(max_examples=EXAMPLES, deadline=None, derandomize=False,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(doc=scenario_doc)
def test_any_scenario_document_ends_in_a_result_or_a_one_line_refusal(tmp_path_factory, doc, capsys):
    """Guards against: tracebacks, multi-line errors or leftovers for any scenario document
    (valid and malformed, extreme numbers included)."""
    folder = tmp_path_factory.mktemp("prop")
    f = folder / "s.yaml"
    f.write_text(_dump(doc), encoding="utf-8")
    out = folder / "out"
    code = main(["run", str(f), "--out", str(out)])
    event(f"exit {code}")
    _check_outcome(code, capsys.readouterr().err, out, folder, RUN_FILES)


sweep_doc = st.fixed_dictionaries(
    {"name": mostly(st.just("w"), junk),
     "scenario": st.just("tiny.yaml"),
     "design": mostly(st.just("grid"), st.sampled_from(["sobol", "morris", "latin_hypercube", "bogus"])),
     "vary": st.one_of(st.fixed_dictionaries({"tumor_normoxic_growth_rate": st.one_of(
         st.fixed_dictionaries({"values": st.lists(numbers, min_size=1, max_size=2)}),
         st.fixed_dictionaries({"low": numbers, "high": numbers}), junk)}), junk),
     "metrics": mostly(st.just(["final_tumor_volume"]), st.one_of(st.lists(st.text(max_size=6), max_size=2), junk))},
    optional={"samples": values, "seed": values})


@seed(20261127)
@settings(max_examples=max(EXAMPLES // 3, 5), deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(doc=sweep_doc)
def test_any_sweep_document_ends_in_a_result_or_a_one_line_refusal(tmp_path_factory, doc, capsys):
    """Guards against: tracebacks, multi-line errors or leftovers for any sweep document."""
    folder = tmp_path_factory.mktemp("sweep")
    (folder / "tiny.yaml").write_text("name: tiny\nduration_days: 3\n")
    f = folder / "w.yaml"
    f.write_text(_dump(doc), encoding="utf-8")
    out = folder / "out"
    code = main(["sweep", str(f), "--out", str(out)])
    event(f"exit {code}")
    err = capsys.readouterr().err
    assert code in (0, 2), err
    assert "Traceback" not in err, err
    if code == 0:
        assert {"results.csv", "sweep.sqlite"} <= set(os.listdir(out))
    else:
        assert len(err.strip().splitlines()) == 1, err
    assert not [p for p in folder.rglob("*") if TAG in p.name or p.name.endswith(".part")]


# --- fault injection --------------------------------------------------------------------------

_SLOW_WRITER = """
import sys, time
from pathlib import Path
import simbev.atomic as atomic
real = atomic.os.replace
def slow_replace(a, b):
    Path(sys.argv[1]).write_text("staged")   # tell the test the staged data are complete
    time.sleep(30)                           # the test kills us here, before the rename
    real(a, b)
atomic.os.replace = slow_replace
from simbev.cli import main
sys.exit(main(sys.argv[2:]))
"""


@pytest.mark.slow
@pytest.mark.parametrize("command", ["run", "export-sbml"])
@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM])
def test_killed_writer_leaves_the_target_as_it_was(tmp_path, command, sig):
    """Guards against: a `.simbev-tmp-*` folder with a `.part` file after SIGKILL or SIGTERM
    during `run`'s write, and a half-written SBML file: the target must stay as it was, and the
    next run into the same folder removes the staging leftovers."""
    f = tmp_path / "s.yaml"
    f.write_text("name: s\nduration_days: 2\ntreatments:\n  - {drug: bevacizumab, dose: 5 mg/kg, route: iv_bolus}\n")
    target = tmp_path / ("out" if command == "run" else "m.xml")
    args = ["run", str(f), "--out", str(target)] if command == "run" else ["export-sbml", str(f), "-o", str(target)]
    flag = tmp_path / "flag"
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2]), "MPLBACKEND": "Agg"}
    proc = subprocess.Popen([sys.executable, "-c", _SLOW_WRITER, str(flag), *args], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.time() + 240
        while not flag.exists():
            assert proc.poll() is None, proc.stderr.read().decode()
            assert time.time() < deadline
            time.sleep(0.1)
        proc.send_signal(sig)
        proc.wait(60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert not target.exists()
    leftovers = [p.name for p in tmp_path.iterdir() if TAG in p.name]
    if sig == signal.SIGTERM:
        assert leftovers == []  # cleaned on the way out
    # the next run into the same folder completes and removes what a killed process left
    assert main(args) == 0
    assert target.exists()
    assert [p.name for p in tmp_path.iterdir() if TAG in p.name] == []
