"""Parameter sweeps, sensitivity analyses and virtual cohorts (``simbev sweep``).

A sweep file (YAML, format in ``docs/sweeps.md``) names a base scenario, a
design and what it varies; :func:`load_sweep` validates it into a :class:`Sweep`, and
:func:`run_sweep` runs every sample of the design (in every arm) and writes into ``OUT``:

``sweep.sqlite``
    The crash-safe store (:mod:`simbev.sweeps.store`): one row per task, committed as soon as
    it finishes. Running the same sweep into the same ``OUT`` again resumes it.
``results.csv``
    Exported from the store at the end (atomically): ``sample_id``, ``arm`` (with several
    arms), the varied values, the metrics, ``status`` and ``error``. The header is the first line
    (``pandas.read_csv(path)``); units and meanings in ``results.schema.json``.
``sensitivity.csv``
    Sobol' or Morris indices per arm and metric (those designs only).
figures (PNG)
    Metrics against the varied values, tumor curves coloured by a varied value, a heat map
    for two-dimensional grids, Sobol' and Morris bar charts, progression-free curves per arm.

Layers: :mod:`simbev.sweeps.designs` (samples and SALib analyses, model-free),
:mod:`simbev.solvers.executors` (serial, processes, Dask), :mod:`simbev.sweeps.store` (SQLite), and this
module (the run loop: batches of tasks, resume, worker deaths). Each batch runs in one worker call;
its samples go through the batched ensemble (:func:`simbev.solvers.ensemble.run_batch`), the
samples that share a scenario (after their treatment and initial-condition values are applied)
integrated together by the compiled solver.

A sample is a pure function of its inputs (the base scenario, its values, the metrics), so
the results are identical whichever executor ran them, in whatever batches, in whatever order.
"""
from __future__ import annotations

import hashlib
import os
import sys
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping

import numpy as np

from ..errors import InputError
from ..scenario.core import Scenario
from .designs import canonical_json, sample_hash
from .guards import changed as fingerprint_change, check_scheduler, check_workers
from .store import FAILED, OK, StoreLocked, SweepStore
from .file import MAX_ATTEMPTS, RESULTS_NAME, STORE_NAME, Sweep, SweepChangedError, _scenario_from_state, _scenario_state, apply_sample, load_sweep
from .tables import _write_analysis, export_results

__all__ = ["SweepOutcome", "run_sweep", "model_fingerprint", "MODEL_FILES", "canonical_json_values"]


# --- evaluating a batch of samples (runs in a worker) ------------------------------------------

#: Most tasks in one batch (one worker call). Fewer when there are few tasks per worker, so that
#: every worker gets several batches (load balance) and results reach the store steadily.
MAX_BATCH = 32

@dataclass(frozen=True)
class _Task:
    key: tuple[int, int]
    values: dict
    scenario: dict | None
    metrics: tuple[str, ...]
    keep_trajectory: bool
    evaluate: Callable | None = None


def _num(value) -> float | None:
    return None if value is None else float(value)


def _error_text(exc: BaseException) -> str:
    return " ".join(f"{type(exc).__name__}: {exc}".split())


@dataclass(frozen=True)
class _Batch:
    """Tasks for one worker call (:func:`_run_batch`), in store order."""

    tasks: tuple[_Task, ...]


def _run_task(task: _Task) -> dict:
    """Evaluate one task with the injected evaluation function; never raises: a failure is
    returned as data."""
    t0 = time.perf_counter()
    out = {"status": OK, "metrics": {}, "error": None, "info": {}, "trajectory": None}
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")  # overflow warnings of a diverging sample: its row says it
        try:
            scenario = None if task.scenario is None else _scenario_from_state(task.scenario)
            values = task.evaluate(dict(task.values), scenario)
            errors = []
            for name in task.metrics:
                if name in values:
                    out["metrics"][name] = _num(values[name])
                else:
                    errors.append(f"metric {name}: not returned by the evaluation function")
            if errors:
                out.update(status=FAILED, error="; ".join(errors))
        except Exception as exc:  # noqa: BLE001 - any failure of one sample is kept as its row
            out.update(status=FAILED, metrics={}, error=_error_text(exc))
    out["elapsed"] = time.perf_counter() - t0
    return out


def _run_batch(batch: _Batch) -> list[dict]:
    """Outcomes of a batch's tasks, in order; never raises: a failure is returned as data.

    Model tasks that share a scenario once their treatment and initial-condition values are
    applied (all of them, in a cohort or a parameter sweep) differ only in parameter values:
    they run together through :func:`simbev.solvers.ensemble.run_batch` on the compiled solver
    (the reference path without numba), which gives each sample what ``simbev.simulate(...,
    solver="compiled")`` gives it alone. ``elapsed`` of a task is its group's time per task.
    """
    from ..solvers.ensemble import Batch, run_batch

    outcomes: list[dict | None] = [None] * len(batch.tasks)
    bases: dict[int, Scenario] = {}
    groups: dict[tuple, tuple[Scenario, list[tuple[int, _Task, dict]]]] = {}
    for j, task in enumerate(batch.tasks):
        if task.evaluate is not None:
            outcomes[j] = _run_task(task)
            continue
        try:
            arm = task.key[1]
            if arm not in bases:
                bases[arm] = _scenario_from_state(task.scenario)
            scenario, params = apply_sample(bases[arm], task.values)
        except Exception as exc:  # noqa: BLE001
            outcomes[j] = {"status": FAILED, "metrics": {}, "error": _error_text(exc), "info": {},
                           "trajectory": None, "elapsed": 0.0}
            continue
        key = (arm, repr(sorted(scenario.initial_conditions.items())), repr(scenario.treatments))
        groups.setdefault(key, (scenario, []))[1].append((j, task, params))
    for scenario, members in groups.values():
        t0 = time.perf_counter()
        rows = run_batch(Batch(scenario, 0, tuple(params for _, _, params in members), members[0][1].metrics,
                               keep=frozenset(m for m, (_, task, _) in enumerate(members) if task.keep_trajectory)))
        elapsed = (time.perf_counter() - t0) / len(members)
        for (j, task, _), row in zip(members, rows):
            outcomes[j] = _outcome(row, elapsed)
    return outcomes


def _outcome(row, elapsed: float) -> dict:
    """A task's outcome (as the store records it) from its :class:`EnsembleRow`."""
    if row.status != "ok":
        return {"status": FAILED, "metrics": {}, "error": row.error, "info": {}, "trajectory": None,
                "elapsed": elapsed}
    trajectory = None
    if row.result is not None:  # kept for the tumor-curve figure
        trajectory = (row.result.time.tolist(), np.asarray(row.result["tumor_volume"]).tolist())
    return {"status": OK, "metrics": row.metrics, "error": None, "info": row.info, "trajectory": trajectory,
            "elapsed": elapsed}


# --- running a sweep ---------------------------------------------------------------------------

@dataclass
class SweepOutcome:
    """What :func:`run_sweep` did and wrote."""

    name: str
    out_dir: Path
    results_csv: Path
    store: Path
    total: int            #: tasks in the sweep (samples x arms)
    skipped: int          #: finished before this run (resumed)
    ran: int              #: run now
    ok: int
    failed: int
    executor: str
    elapsed_s: float
    figures: list[Path] = field(default_factory=list)
    sensitivity: dict = field(default_factory=dict)   #: {arm: {metric: indices}}
    notes: list[str] = field(default_factory=list)


def _sweep_hash(sweep: Sweep, evaluate: Callable | None) -> tuple[str, str]:
    record = sweep.record()
    if evaluate is not None:
        record["evaluate"] = f"{getattr(evaluate, '__module__', '?')}.{getattr(evaluate, '__qualname__', repr(evaluate))}"
    text = canonical_json(record)
    return hashlib.sha256(text.encode()).hexdigest(), text


#: The files whose content decides what a sample computes (the model, its parameters, the
#: solver, dosing and metrics). Resuming a sweep after any of them changed is refused.
MODEL_FILES = ("model/*.py", "parameters/*.py", "parameters/sets/*.yaml", "protocol/*.py", "solvers/reference.py",
               "simulation.py", "analysis/metrics.py", "result.py", "scenario/core.py")


def model_fingerprint() -> str:
    """What the stored results were computed with: model, solver code and method, compiled path,
    result code (:func:`simbev.sweeps.guards.fingerprint`; checks the environment first)."""
    from .guards import fingerprint
    return fingerprint()


def _changed_keys(old_json: str | None, new_json: str) -> list[str]:
    import json
    try:
        old = json.loads(old_json or "{}")
    except ValueError:
        return []
    new = json.loads(new_json)
    return [k for k in sorted(set(old) | set(new)) if old.get(k) != new.get(k)]


def _progress_bar(total: int, initial: int, enabled: bool | None, desc: str):
    if enabled is None:
        enabled = bool(getattr(sys.stderr, "isatty", lambda: False)())
    if enabled:
        try:
            from tqdm import tqdm
        except ImportError:
            return _NoBar()
        try:
            width, height = os.get_terminal_size(sys.stderr.fileno())
        except (OSError, ValueError, AttributeError):
            width = height = 0
        # A terminal that reports no size (some pseudo-terminals) would hide the bar.
        size = {"dynamic_ncols": True} if width > 0 and height > 0 else {"ncols": 100, "nrows": 24}
        return tqdm(total=total, initial=initial, desc=desc, unit="run", file=sys.stderr,
                    smoothing=0.05, **size)
    return _NoBar()


class _NoBar:
    def update(self, n=1):
        pass

    def close(self):
        pass


def run_sweep(sweep_path, out_dir, workers: int = 1, scheduler: str | None = None,
              progress: bool | None = False, *, evaluate: Callable | None = None,
              retry_failed: bool = False, figures: bool = True, executor=None) -> SweepOutcome:
    """Run (or resume) a sweep into ``out_dir``; return a :class:`SweepOutcome`.

    Parameters
    ----------
    sweep_path : path or Sweep
        The sweep file, or a :class:`Sweep` already loaded.
    out_dir : path
        Output folder: ``sweep.sqlite``, ``results.csv``, ``sensitivity.csv``, figures.
        If it holds the store of the same sweep, the sweep resumes: finished samples are not
        run again. If it holds another sweep, :class:`SweepChangedError` is raised.
    workers : int
        Local worker processes (1 = serial), or the size of a local Dask cluster.
    scheduler : str, optional
        A Dask scheduler address (``tcp://host:8786``), or ``"local"`` for a LocalCluster.
    progress : bool or None
        A tqdm progress bar on stderr; ``None`` shows it when stderr is a terminal.
    evaluate : callable, optional
        ``evaluate(values, scenario) -> {metric: value}`` in place of simulating the model
        (a module-level function, so that worker processes can import it).
    retry_failed : bool
        Run failed samples again on resume (by default a failed row is final).
    figures : bool
        Write the figures (and the sensitivity table) at the end.
    executor : Executor, optional
        Use this executor (from :mod:`simbev.solvers.executors`) instead of making one.
    """
    from .. import __version__
    from ..solvers.executors import make_executor
    t_start = time.perf_counter()
    if executor is None:  # refuse a bad executor request before anything is created
        check_scheduler(scheduler), check_workers(workers)
    sweep = sweep_path if isinstance(sweep_path, Sweep) else load_sweep(sweep_path)
    source = sweep.source or "<sweep>"
    out = Path(out_dir)
    samples = sweep.sample_values()
    hashes = [sample_hash(v) for v in samples]
    sweep_hash, sweep_json = _sweep_hash(sweep, evaluate)
    if out.exists() and not out.is_dir():
        raise InputError(None, None, "--out", str(out), "a directory (or a path that does not exist yet)")
    own = executor is None
    # the executor first: a scheduler that cannot be reached leaves no store and no folder behind
    ex = make_executor(workers, scheduler, preload=("simbev.solvers.ensemble", "simbev.sweeps.run")) if own else executor
    try:
        store = SweepStore.open(out / STORE_NAME)
    except BaseException as exc:
        if own:
            ex.close()
        if isinstance(exc, StoreLocked):
            raise InputError(None, None, "--out", str(out), message=str(exc)) from None
        raise
    notes: list[str] = []
    try:
        fingerprint = "custom evaluation" if evaluate is not None else model_fingerprint()
        if not store.initialised():
            store.initialise(sweep_hash, sweep_json, __version__, (
                (i, a, arm.name, hashes[i], canonical_json_values(samples[i]))
                for i in range(len(samples)) for a, arm in enumerate(sweep.arms)),
                extra_meta={"model_fingerprint": fingerprint})
        else:
            if store.meta("sweep_hash") != sweep_hash:
                changed = _changed_keys(store.meta("sweep"), sweep_json)
                what = f" (changed: {', '.join(changed)})" if changed else ""
                raise SweepChangedError(message=(
                    f"{source}: the sweep differs from the one already in {out / STORE_NAME}{what}; "
                    "refusing to resume into it. Run the original sweep file, or use a new --out "
                    "directory (or delete the old one) to start afresh."))
            stored = store.meta("model_fingerprint")
            if stored is not None and stored != fingerprint:
                raise SweepChangedError(message=(
                    f"{source}: simbev's model code or solver (simbev {__version__}, fingerprint {fingerprint}) "
                    f"differs from the code that started {out / STORE_NAME} (simbev "
                    f"{store.meta('simbev_version')}, fingerprint {stored}; changed: {fingerprint_change(stored, fingerprint)}); "
                    "resuming would mix results "
                    "of two models. Use a new --out directory, or finish with the original simbev."))
            expected = {(i, a): hashes[i] for i in range(len(samples)) for a in range(len(sweep.arms))}
            if store.task_hashes() != expected:
                raise SweepChangedError(message=(
                    f"{source}: the design now gives different samples than those stored in "
                    f"{out / STORE_NAME} (was SALib, SciPy or NumPy upgraded?); refusing to mix them. "
                    "Use a new --out directory."))
        if retry_failed:
            store.reset_failed()
        before = store.counts()
        skipped = before[OK] + before[FAILED]
        run_id = store.begin_run(ex.description, __version__)
        states = [None if arm.scenario is None else _scenario_state(arm.scenario) for arm in sweep.arms]
        ran = 0
        bar = _progress_bar(sweep.n_tasks, skipped, progress, sweep.name)
        try:
            def make_task(key):
                sid, arm = key
                return _Task(key, samples[sid], states[arm], sweep.metrics, sid < sweep.trajectories, evaluate)

            ran = _execute(store, ex, make_task, run_id, bar, notes)
        finally:
            bar.close()
            if own:
                ex.close()
        store.end_run(run_id)
        counts = store.counts()
        results = export_results(store, sweep, out / RESULTS_NAME)
        outcome = SweepOutcome(sweep.name, out, results, out / STORE_NAME, sweep.n_tasks, skipped, ran,
                               counts[OK], counts[FAILED], ex.description, 0.0, notes=notes)
        if figures:
            _write_analysis(store, sweep, out, outcome)
    finally:
        store.close()
        if own:
            ex.close()
    outcome.elapsed_s = time.perf_counter() - t_start
    return outcome


def _batch_size(tasks: int, ex) -> int:
    """Tasks per batch: up to :data:`MAX_BATCH`, and at least four batches per slot of the
    executor's window (its tasks in flight), so that no worker waits on one long batch."""
    window = int(getattr(ex, "window", 1) or 1)
    return max(1, min(MAX_BATCH, -(-tasks // (4 * window))))


def _execute(store: SweepStore, ex, make_task: Callable, run_id: int, bar, notes: list[str]) -> int:
    """Run every pending task of ``store`` on ``ex``, in batches, recording each outcome as its
    batch returns.

    A worker process that dies (:class:`~simbev.solvers.executors.WorkerLost`) takes the tasks in
    flight with it, and only one of them may be to blame. Those tasks become suspects and are
    run again one at a time; a suspect that kills its worker ``MAX_ATTEMPTS`` times when run
    alone is recorded as failed. A batch that Dask gives up on (a :class:`TaskFailure`) makes
    its tasks suspects in the same way. So an innocent sample is never failed for its neighbour,
    and the table does not depend on which tasks happened to share a batch or the pool.
    """
    from ..solvers.executors import TaskFailure, WorkerLost
    suspects: set[tuple[int, int]] = set()
    deaths: dict[tuple[int, int], int] = {}
    ran = 0

    def record(key, outcome):
        nonlocal ran
        if isinstance(outcome, TaskFailure):
            outcome = {"status": FAILED, "metrics": {}, "error": outcome.message}
        store.record(key, outcome["status"], outcome["metrics"], outcome["error"], outcome.get("info"),
                     outcome.get("elapsed"), outcome.get("trajectory"))
        ran += 1
        bar.update(1)

    while True:
        todo = []
        for sid, arm, _attempts in store.pending():
            key = (sid, arm)
            if deaths.get(key, 0) >= MAX_ATTEMPTS:
                store.record(key, FAILED, None, f"WorkerLost: the worker process died each of the "
                             f"{MAX_ATTEMPTS} times this sample ran on its own")
                bar.update(1)
            else:
                todo.append(key)
        if not todo:
            return ran
        alone = [k for k in todo if k in suspects]
        together = [k for k in todo if k not in suspects]
        size = _batch_size(len(together), ex)
        batches = (_Batch(tuple(map(make_task, together[i:i + size]))) for i in range(0, len(together), size))
        inflight: set = set()

        def submitted(batch):
            for task in batch.tasks:
                inflight.add(task.key)
                store.mark_started(task.key, run_id)

        def run(batches):
            for batch, outcomes in ex.map_unordered(_run_batch, batches, on_submit=submitted):
                if isinstance(outcomes, TaskFailure) and len(batch.tasks) > 1:
                    suspects.update(task.key for task in batch.tasks)  # pending: run alone next round
                    inflight.difference_update(task.key for task in batch.tasks)
                    continue
                if isinstance(outcomes, TaskFailure):
                    outcomes = [outcomes]
                for task, outcome in zip(batch.tasks, outcomes):
                    inflight.discard(task.key)
                    suspects.discard(task.key)
                    record(task.key, outcome)

        try:
            for key in alone:  # one at a time: a death then names its task
                run([_Batch((make_task(key),))])
            run(batches)
        except WorkerLost:
            if len(inflight) == 1 and inflight <= suspects:
                key = next(iter(inflight))
                deaths[key] = deaths.get(key, 0) + 1
            suspects.update(inflight)
            if not any("worker process died" in n for n in notes):
                notes.append("a worker process died; the samples it was running were run again, one at a time")


def canonical_json_values(values: Mapping[str, Any]) -> str:
    """The values of a sample as stored (JSON; floats exact)."""
    import json
    return json.dumps(dict(values), separators=(",", ":"))
