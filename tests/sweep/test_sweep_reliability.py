"""Sweeps that never mix or mistake: a damaged or foreign store is refused untouched, the resume
fingerprint covers the solver, environment errors abort, executor requests are checked."""
from __future__ import annotations

import hashlib
import os
import sqlite3
import textwrap
from pathlib import Path

import pytest

from simbev.cli import main
from simbev.sweeps import guards
from simbev.sweeps.store import StoreDamaged, SweepStore


def _sweep(tmp_path: Path, values="[0.1]") -> Path:
    (tmp_path / "tiny.yaml").write_text("name: tiny\nduration_days: 4\n")
    f = tmp_path / "w.yaml"
    f.write_text(textwrap.dedent(f"""\
        name: w
        scenario: tiny.yaml
        design: grid
        vary:
          tumor_normoxic_growth_rate: {{values: {values}}}
        metrics: [final_tumor_volume]
        """))
    return f


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_damaged_store_is_refused_and_left_untouched(tmp_path, capsys):
    """Guards against: a truncated sweep.sqlite raising sqlite3.DatabaseError (a traceback) on
    rerun."""
    out = tmp_path / "o"
    assert main(["sweep", str(_sweep(tmp_path)), "--out", str(out)]) == 0
    db = out / "sweep.sqlite"
    for name in ("sweep.sqlite-wal", "sweep.sqlite-shm"):
        (out / name).unlink(missing_ok=True)
    with open(db, "r+b") as fh:
        fh.truncate(4096)
    before = _digest(db)
    capsys.readouterr()
    assert main(["sweep", str(_sweep(tmp_path)), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "is damaged" in err and "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert _digest(db) == before


def test_foreign_database_is_refused_and_never_written(tmp_path, capsys):
    """Guards against: another program's sweep.sqlite in --out getting simbev's tables and a
    switch to WAL mode before an OperationalError."""
    out = tmp_path / "o"
    out.mkdir()
    db = out / "sweep.sqlite"
    con = sqlite3.connect(db)
    con.execute("CREATE TABLE tasks (id INTEGER, payload TEXT)")
    con.commit()
    con.close()
    before = _digest(db)
    assert main(["sweep", str(_sweep(tmp_path)), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "another program's database" in err
    assert _digest(db) == before
    assert sorted(os.listdir(out)) == ["sweep.sqlite"]
    con = sqlite3.connect(db)
    assert con.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
    con.close()
    with pytest.raises(StoreDamaged):
        SweepStore.open(db)


def test_fingerprint_covers_the_compiled_method_and_says_what_changed(monkeypatch):
    """Guards against: a sweep resumed with SIMBEV_FAST_METHOD=RODAS4 silently mixing rows of two
    integrators (the fingerprint covered the model only)."""
    from simbev.solvers import compiled
    a = guards.fingerprint(check=False)
    monkeypatch.setattr(compiled, "METHOD", "RODAS4" if compiled.METHOD != "RODAS4" else "RODAS5P")
    b = guards.fingerprint(check=False)
    assert a != b
    assert "SIMBEV_FAST_METHOD" in guards.changed(a, b)
    assert set(dict(p.split("=") for p in a.split())) == {"model", "solver", "results", "method", "compiled"}
    assert any("solvers/*.py" in p for p in guards.FINGERPRINT_PARTS["solver"])


def test_resume_with_changed_solver_is_refused(tmp_path, capsys, monkeypatch):
    """Guards against: a resume accepted after the solver changed (exit 0, mixed rows)."""
    from simbev.sweeps import run as sweep_run
    out = tmp_path / "o"
    assert main(["sweep", str(_sweep(tmp_path)), "--out", str(out)]) == 0
    real = guards.fingerprint(check=False)
    monkeypatch.setattr(sweep_run, "model_fingerprint", lambda: real.replace("method=", "method=X"))
    capsys.readouterr()
    assert main(["sweep", str(_sweep(tmp_path)), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "SIMBEV_FAST_METHOD" in err and "resuming would mix" in err


def test_cache_dir_that_is_a_file_aborts_the_sweep(tmp_path, capsys, monkeypatch):
    """Guards against: SIMBEV_CACHE_DIR pointing at a file giving "0 ok, 15 failed" with exit 0
    and rows that stay failed after the environment is fixed."""
    from simbev.solvers import compiled
    if not compiled.available():
        pytest.skip("no numba: the compiled cache is not used")
    bad = tmp_path / "cachefile"
    bad.write_text("x")
    monkeypatch.setenv("SIMBEV_CACHE_DIR", str(bad))
    monkeypatch.setattr(compiled, "_KERNEL", {})
    out = tmp_path / "o"
    assert main(["sweep", str(_sweep(tmp_path)), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "is a file, not a folder" in err
    assert not (out / "results.csv").exists()


def test_worker_count_is_capped_with_a_message():
    """Guards against: any --workers count starting that many processes."""
    guards.check_workers(1)
    with pytest.raises(Exception, match="at most"):
        guards.check_workers(guards.max_workers() + 1)
    for ok in ("local", "tcp://10.0.0.5:8786", "localhost:8786"):
        guards.check_scheduler(ok)
    for bad in ("not a url", "tcp://host", "host:99999"):
        with pytest.raises(Exception, match="--scheduler"):
            guards.check_scheduler(bad)


def test_sweep_and_run_agree_on_a_sample(tmp_path, capsys):
    """Guards against: tumor_normoxic_growth_rate 2 failing in the sweep (compiled RODAS5P step
    size underflow) while `simbev run` completes: both paths must give the same verdict."""
    sweep = _sweep(tmp_path, "[2]")
    out = tmp_path / "o"
    assert main(["sweep", str(sweep), "--out", str(out)]) == 0
    rows = (out / "results.csv").read_text().splitlines()
    status = rows[-1].split(",")[3]
    (tmp_path / "r.yaml").write_text("name: r\nextends: tiny.yaml\nparameters: {tumor_normoxic_growth_rate: 2}\n")
    code = main(["run", str(tmp_path / "r.yaml"), "--out", str(tmp_path / "run")])
    assert (status == "ok") == (code == 0), rows[-1]


def _linear(values, scenario):
    """A cheap evaluation for design tests (module level, so workers could import it)."""
    return {"final_tumor_volume": sum(float(v) for v in values.values())}


def test_sobol_with_too_few_samples_reports_no_indices(tmp_path):
    """Guards against: Sobol with `samples: 1` writing first-order indices -1.77 and 2.81 with
    zero-width intervals."""
    from simbev.sweeps import designs
    from simbev.sweeps.run import run_sweep
    assert designs.too_small("sobol", 1) and designs.too_small("morris", 2)
    assert designs.too_small("sobol", 64) is None and designs.too_small("grid", None) is None
    (tmp_path / "tiny.yaml").write_text("name: tiny\nduration_days: 4\n")
    f = tmp_path / "s.yaml"
    f.write_text(textwrap.dedent("""\
        name: s
        scenario: tiny.yaml
        design: sobol
        samples: 1
        vary:
          tumor_normoxic_growth_rate: {low: 0.05, high: 0.2}
          vegf_degradation_rate: {low: 20, high: 45}
        metrics: [final_tumor_volume]
        """))
    outcome = run_sweep(f, tmp_path / "o", evaluate=_linear, figures=True)
    assert outcome.sensitivity == {}
    assert not (tmp_path / "o" / "sensitivity.csv").exists()
    assert any("too few for meaningful sobol indices" in n for n in outcome.notes)


def test_failed_executor_leaves_no_store(tmp_path, capsys, monkeypatch):
    """Guards against: a failed Dask connection leaving a sweep.sqlite (and its folder) behind."""
    from simbev.errors import InputError
    from simbev.sweeps import executors

    def refuse(workers=1, scheduler=None, **kwargs):
        raise InputError(None, None, "--scheduler", scheduler, "the address of a running Dask scheduler")

    monkeypatch.setattr(executors, "make_executor", refuse)
    out = tmp_path / "o"
    assert main(["sweep", str(_sweep(tmp_path)), "--out", str(out), "--scheduler", "tcp://127.0.0.1:1"]) == 2
    assert "--scheduler" in capsys.readouterr().err
    assert not out.exists()
