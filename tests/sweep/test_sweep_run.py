"""Running sweeps: the table, failed rows, resume, refusal of a changed file, the lock, the CLI."""
from __future__ import annotations

import argparse
import os
import sqlite3

import pytest

from simbev.errors import InputError
from simbev.cli.sweep import add_sweep_subcommand
from simbev.sweeps import Arm, Sweep, SweepChangedError, load_sweep, run_sweep
from simbev.sweeps.designs import Factor
from simbev.sweeps.store import SweepStore

FAILING_GRID = """\
name: failing
scenario: tiny.yaml
design: grid
vary:
  mif_expression: {values: [0.5, 2]}
  tumor_cell_density: {values: [0, 0.3]}
metrics: [final_tumor_volume, time_to_progression, tumor_volume@5]
"""


def _attempts(out):
    with sqlite3.connect(out / "sweep.sqlite") as db:
        return dict(((s, a), n) for s, a, n in db.execute("SELECT sample_id, arm, attempts FROM tasks"))


def test_results_table_failed_rows_kept_and_sweep_goes_on(sweep_file, tmp_path, read_rows):
    """A sample whose simulation fails (tumor_cell_density 0) keeps its row with the error;
    the others run and the table lists varied values, metrics, status, error in that order."""
    out = tmp_path / "out"
    outcome = run_sweep(sweep_file(FAILING_GRID), out, figures=False)
    assert (outcome.total, outcome.ran, outcome.ok, outcome.failed) == (4, 4, 2, 2)
    rows = read_rows(out / "results.csv")
    assert list(rows[0]) == ["sample_id", "mif_expression", "tumor_cell_density", "final_tumor_volume",
                             "time_to_progression", "tumor_volume@5", "status", "error"]
    assert [r["sample_id"] for r in rows] == ["0", "1", "2", "3"]
    for r in rows:
        if float(r["tumor_cell_density"]) == 0:
            assert r["status"] == "failed" and r["error"] and r["final_tumor_volume"] == ""
        else:
            assert r["status"] == "ok" and r["error"] == "" and float(r["final_tumor_volume"]) > 0
            assert float(r["tumor_volume@5"]) > 0
    assert not list(out.glob("*.part"))


def _raising_evaluate(values, scenario):
    if values["x"] == 2.0:
        raise ArithmeticError("metric blew up")
    return {"y": values["x"] ** 2, "z": None}


def test_failing_metric_keeps_its_row(tmp_path, read_rows):
    sweep = Sweep("inject", "grid", (Factor("x", values=(1.0, 2.0, 3.0)),), ("y", "z"), (Arm("f", None),))
    outcome = run_sweep(sweep, tmp_path / "o", evaluate=_raising_evaluate, figures=False)
    assert (outcome.ok, outcome.failed) == (2, 1)
    rows = read_rows(tmp_path / "o" / "results.csv")
    assert [(r["x"], r["y"], r["z"], r["status"]) for r in rows] == [
        ("1.0", "1.0", "", "ok"), ("2.0", "", "", "failed"), ("3.0", "9.0", "", "ok")]
    assert rows[1]["error"] == "ArithmeticError: metric blew up"


def test_rerun_resumes_without_running_anything_again(sweep_file, tmp_path):
    path = sweep_file(FAILING_GRID)
    out = tmp_path / "out"
    run_sweep(path, out, figures=False)
    first = (out / "results.csv").read_bytes()
    again = run_sweep(path, out, figures=False)
    assert (again.skipped, again.ran) == (4, 0)
    assert (out / "results.csv").read_bytes() == first
    assert set(_attempts(out).values()) == {1}
    # failed rows are final unless asked to retry them
    retried = run_sweep(path, out, figures=False, retry_failed=True)
    assert (retried.skipped, retried.ran, retried.failed) == (2, 2, 2)
    assert (out / "results.csv").read_bytes() == first


def test_changed_sweep_file_is_refused_cosmetic_change_is_not(sweep_file, tmp_path, folder):
    path = sweep_file(FAILING_GRID)
    out = tmp_path / "out"
    run_sweep(path, out, figures=False)
    # comments, layout and the description do not change what is run
    sweep_file("# a comment\n" + FAILING_GRID.replace("design: grid", "design:   grid\ndescription: x"))
    assert run_sweep(path, out, figures=False).ran == 0
    sweep_file(FAILING_GRID.replace("[0.5, 2]", "[0.5, 3]"))
    assert load_sweep(path).record() != load_sweep(sweep_file(FAILING_GRID, "other.yaml")).record()
    with pytest.raises(SweepChangedError) as info:
        run_sweep(path, out, figures=False)
    assert isinstance(info.value, InputError)
    assert "changed: factors" in str(info.value) and "new --out" in str(info.value)
    # so is a change in the scenario the sweep runs
    sweep_file(FAILING_GRID)
    (folder / "tiny.yaml").write_text((folder / "tiny.yaml").read_text().replace("duration_days: 10",
                                                                                 "duration_days: 9"))
    with pytest.raises(SweepChangedError, match="changed: arms"):
        run_sweep(path, out, figures=False)


def test_second_sweep_into_a_busy_folder_is_refused(sweep_file, tmp_path):
    out = tmp_path / "out"
    with SweepStore.open(out / "sweep.sqlite"):
        pid = os.fork()
        if pid == 0:  # another process: the lock must refuse it
            try:
                run_sweep(sweep_file(FAILING_GRID), out, figures=False)
                os._exit(1)
            except InputError as exc:
                os._exit(0 if "another simbev sweep is running" in str(exc) else 2)
            except BaseException:
                os._exit(3)
        _, status = os.waitpid(pid, 0)
    assert os.WEXITSTATUS(status) == 0


def _die_on_three(values, scenario):
    if values["x"] == 3.0:
        os._exit(7)  # a worker dying (segfault, OOM kill): not an exception
    return {"y": values["x"]}


def test_worker_death_is_retried_then_recorded(tmp_path, read_rows):
    from simbev.sweeps.executors import ProcessExecutor
    sweep = Sweep("die", "grid", (Factor("x", values=(1.0, 2.0, 3.0, 4.0)),), ("y",), (Arm("f", None),))
    outcome = run_sweep(sweep, tmp_path / "o", evaluate=_die_on_three, figures=False,
                        executor=ProcessExecutor(2))
    rows = read_rows(tmp_path / "o" / "results.csv")
    assert [r["status"] for r in rows] == ["ok", "ok", "failed", "ok"]
    assert "WorkerLost" in rows[2]["error"]
    assert (outcome.ok, outcome.failed) == (3, 1)


def test_cli_subcommand(sweep_file, tmp_path, capsys):
    parser = argparse.ArgumentParser(prog="simbev")
    add_sweep_subcommand(parser.add_subparsers(dest="command"))
    out = tmp_path / "cli"
    args = parser.parse_args(["sweep", str(sweep_file(FAILING_GRID)), "--out", str(out)])
    assert args.func(args) == 0
    text = capsys.readouterr().out
    assert "4 runs (2 ok, 2 failed)" in text and "results.csv" in text
    assert (out / "results.csv").exists() and (out / "tumor_curves.png").exists()
    args = parser.parse_args(["sweep", str(sweep_file(FAILING_GRID)), "--out", str(out), "--workers", "0"])
    with pytest.raises(InputError):
        args.func(args)


def test_figures_of_a_two_dimensional_grid_and_arms(sweep_file, tmp_path):
    text = """\
    name: arms
    arms: [tiny.yaml, tiny_combo.yaml]
    design: grid
    vary:
      treatments.0.dose: {values: [2.5 mg/kg, 10 mg/kg]}
      mif_expression: {values: [0.5, 2]}
    metrics: [time_to_progression, final_tumor_volume]
    """
    import textwrap
    out = tmp_path / "o"
    outcome = run_sweep(sweep_file(textwrap.dedent(text)), out)
    names = sorted(p.name for p in outcome.figures)
    assert "heatmap_final_tumor_volume_tiny.png" in names and "heatmap_final_tumor_volume_tiny_combo.png" in names
    assert "progression_free.png" in names and "tumor_curves.png" in names
    for p in outcome.figures:
        assert p.stat().st_size > 1000
    header = (out / "results.csv").read_text().splitlines()[0]
    assert header.startswith("sample_id,arm,treatments.0.dose,mif_expression,")
    assert load_sweep(sweep_file(textwrap.dedent(text))).n_tasks == 8


def test_changed_model_code_is_refused(sweep_file, tmp_path, monkeypatch):
    """Guards against: resuming after simbev's model changed, which would mix two models'
    results in one table."""
    import simbev.sweeps.run as sweep_module
    path = sweep_file(FAILING_GRID.replace("[0.5, 2]", "[0.5]"))
    out = tmp_path / "out"
    run_sweep(path, out, figures=False)
    monkeypatch.setattr(sweep_module, "model_fingerprint", lambda: "0123456789abcdef")
    with pytest.raises(SweepChangedError, match="model code"):
        run_sweep(path, out, figures=False)


def test_sweep_runs_its_samples_in_batches_through_the_ensemble(sweep_file, tmp_path, monkeypatch):
    """Issue 11: `simbev sweep` runs its samples in batches through the batched ensemble (the
    compiled path), not one at a time through simulate."""
    from simbev.solvers import base, ensemble

    sizes, singles = [], []
    real_batch, real_simulate = ensemble.run_batch, base.simulate

    def spy_batch(batch):
        sizes.append(len(batch.samples))
        return real_batch(batch)

    def spy_simulate(*args, **kwargs):
        singles.append(1)
        return real_simulate(*args, **kwargs)

    monkeypatch.setattr(ensemble, "run_batch", spy_batch)
    monkeypatch.setattr(base, "simulate", spy_simulate)
    grid = """\
name: fastgrid
scenario: tiny.yaml
design: grid
vary:
  mif_expression: {values: [0.5, 0.8, 1.2, 2, 3, 4, 5, 6]}
metrics: [final_tumor_volume]
"""
    outcome = run_sweep(sweep_file(grid), tmp_path / "out", workers=1)
    assert outcome.ran == outcome.total == 8 and outcome.ok == 8
    assert sum(sizes) == 8 and max(sizes) > 1 and singles == []


def test_batched_sweep_rows_are_the_metrics_of_single_compiled_runs(sweep_file, tmp_path, read_rows):
    """The batches change nothing: every row (treatment and parameter values varied, in two arms,
    one sample failing) holds what ``simulate(..., solver="compiled")`` of its sample gives alone."""
    import textwrap

    from simbev.analysis.metrics import compute
    from simbev.solvers.base import simulate
    from simbev.sweeps.file import apply_sample

    text = textwrap.dedent("""\
    name: same
    arms: [tiny.yaml, tiny_combo.yaml]
    design: grid
    vary:
      treatments.0.dose: {values: [2.5 mg/kg, 10 mg/kg]}
      mif_expression: {values: [0.5, 2]}
      tumor_cell_density: {values: [0, 0.3]}
    metrics: [final_tumor_volume, time_to_progression, tumor_volume@5]
    """)
    path = sweep_file(text)
    sweep = load_sweep(path)
    run_sweep(sweep, tmp_path / "o", figures=False)
    rows = read_rows(tmp_path / "o" / "results.csv")
    samples = sweep.sample_values()
    assert len(rows) == 16
    for row in rows:
        arm = next(a for a in sweep.arms if a.name == row["arm"])
        scenario, params = apply_sample(arm.scenario, samples[int(row["sample_id"])])
        try:
            single = compute(simulate(scenario, parameters=params, solver="compiled"), sweep.metrics)
        except Exception as exc:  # noqa: BLE001
            assert row["status"] == "failed" and row["error"].startswith(type(exc).__name__)
            continue
        assert row["status"] == "ok"
        assert [row[m] for m in sweep.metrics] == ["" if single[m] is None else repr(float(single[m]))
                                                  for m in sweep.metrics]
    assert {r["status"] for r in rows} == {"ok", "failed"}
