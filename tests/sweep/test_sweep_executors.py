"""Executors give identical tables; a sweep killed with SIGKILL resumes with nothing lost or rerun."""
from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time

import pytest

from simbev.sweeps.executors import DaskExecutor, ProcessExecutor, SerialExecutor, make_executor
from simbev.sweeps import run_sweep

ARMS_GRID = """\
name: equivalence
arms: [tiny.yaml, tiny_combo.yaml]
design: grid
vary:
  treatments.0.dose: {values: [2.5 mg/kg, 10 mg/kg]}
  mif_expression: {values: [0.2, 1, 5]}
metrics: [final_tumor_volume, time_to_progression, m2_m1_ratio_end, tumor_volume@5, mtor_activity@9]
"""


def test_make_executor_choices():
    assert isinstance(make_executor(1), SerialExecutor)
    ex = make_executor(3)
    assert isinstance(ex, ProcessExecutor) and ex.workers == 3
    ex.close()


@pytest.mark.slow
def test_serial_processes_and_dask_give_identical_tables(sweep_file, tmp_path):
    pytest.importorskip("distributed")
    path = sweep_file(ARMS_GRID)
    serial = run_sweep(path, tmp_path / "serial", figures=False)
    procs = run_sweep(path, tmp_path / "procs", workers=2, figures=False)
    dask = run_sweep(path, tmp_path / "dask", workers=2, scheduler="local", figures=False)
    assert serial.executor == "serial" and procs.executor == "processes(2)"
    assert dask.executor.startswith("dask(local, 2 threads")
    reference = (tmp_path / "serial" / "results.csv").read_bytes()
    assert reference.count(b"\n") == 1 + 12 and b",failed," not in reference  # header + 12 rows
    assert (tmp_path / "procs" / "results.csv").read_bytes() == reference
    assert (tmp_path / "dask" / "results.csv").read_bytes() == reference


def test_bad_scheduler_address_is_an_input_error():
    pytest.importorskip("distributed")
    from simbev.errors import InputError
    with pytest.raises(InputError, match="--scheduler"):
        DaskExecutor("tcp://127.0.0.1:9", timeout=1)


# The killed sweep must still be running when the test kills it, however fast the compiled path
# gets: each sample is a year of daily oral dosing (tens of milliseconds), and there are 60.
KILL_SAMPLES = 60
KILL_SCENARIO = """\
name: slow
duration_days: 365
output_every_days: 1
treatments:
  - drug: bevacizumab
    dose: 10 mg/kg
    route: iv_bolus
    start_day: 2
    every_days: 3.5
    stop_day: 365
  - drug: mtor_inhibitor
    dose: 2 mg/kg
    route: oral
    start_day: 2
    every_days: 1
    stop_day: 365
"""

KILL_SWEEP = f"""\
name: killed
scenario: slow.yaml
design: latin_hypercube
samples: {KILL_SAMPLES}
seed: 3
vary:
  mif_expression: {{low: 0.2, high: 5, scale: log}}
  treatments.0.dose: {{low: 2 mg/kg, high: 10 mg/kg}}
metrics: [final_tumor_volume, time_to_progression]
"""

RUNNER = "import sys; from simbev.sweeps import run_sweep; run_sweep(sys.argv[1], sys.argv[2], workers=int(sys.argv[3]))"


def _finished(db_path) -> dict:
    if not db_path.exists():
        return {}
    try:
        with sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, timeout=5) as db:
            return {(s, a): n for s, a, n in db.execute(
                "SELECT sample_id, arm, attempts FROM tasks WHERE status != 'pending'")}
    except sqlite3.OperationalError:  # tables not created yet
        return {}


def _group_alive(pgid: int) -> bool:
    """Whether a process of group ``pgid`` still runs (zombies awaiting their reaper do not)."""
    from pathlib import Path
    proc = Path("/proc")
    if not proc.is_dir():
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return False
        return True
    for stat in proc.glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rpartition(")")[2].split()
        except OSError:
            continue
        if int(fields[2]) == pgid and fields[0] != "Z":  # fields: state, ppid, pgrp, ...
            return True
    return False


@pytest.mark.slow
@pytest.mark.parametrize("workers", [1, 2])
def test_resume_after_sigkill(sweep_file, tmp_path, workers):
    sweep_file(KILL_SCENARIO, "slow.yaml")
    path = sweep_file(KILL_SWEEP)
    out = tmp_path / "out"
    db_path = out / "sweep.sqlite"
    proc = subprocess.Popen([sys.executable, "-c", RUNNER, str(path), str(out), str(workers)],
                            start_new_session=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 120
        while len(_finished(db_path)) < 6:
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline, "the sweep did not get going"
            time.sleep(0.05)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
        # its worker processes notice and exit by themselves (they would otherwise wait forever)
        deadline = time.monotonic() + 20
        while _group_alive(proc.pid):
            assert time.monotonic() < deadline, "worker processes outlived the killed sweep"
            time.sleep(0.2)
    finally:
        try:  # the killed parent's worker processes, if any
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    assert proc.returncode == -signal.SIGKILL
    before = _finished(db_path)
    assert 6 <= len(before) < KILL_SAMPLES, "killed half-way"
    assert not (out / "results.csv").exists()

    resumed = subprocess.run([sys.executable, "-c", RUNNER, str(path), str(out), str(workers)],
                             capture_output=True, text=True, timeout=300)
    assert resumed.returncode == 0, resumed.stderr
    after = _finished(db_path)
    assert len(after) == KILL_SAMPLES
    # finished samples were not run again: one attempt each, still
    assert all(after[key] == 1 for key in before)
    with sqlite3.connect(db_path) as db:
        runs = db.execute("SELECT finished_at FROM runs ORDER BY run_id").fetchall()
    assert len(runs) == 2 and runs[0][0] is None and runs[1][0] is not None

    reference = run_sweep(path, tmp_path / "reference", figures=False)
    assert reference.ok == KILL_SAMPLES
    assert (out / "results.csv").read_bytes() == (tmp_path / "reference" / "results.csv").read_bytes()
    assert {p.name for p in out.iterdir()} >= {"results.csv", "sweep.sqlite", "tumor_curves.png"}
    assert not list(out.glob("*.part"))


def test_no_output_on_stderr_without_a_terminal(sweep_file, tmp_path):
    """Library code does not print, and the progress bar stays off when stderr is not a tty."""
    code = textwrap.dedent(f"""
        from simbev.sweeps import run_sweep
        run_sweep({str(sweep_file(KILL_SWEEP.replace(f'samples: {KILL_SAMPLES}', 'samples: 3').replace('slow.yaml', 'tiny.yaml')))!r}, {str(tmp_path / 'o')!r},
                  progress=None, figures=False)
    """)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout == "" and done.stderr == ""
