"""Executors: one interface to run independent tasks serially, in local processes, or on Dask.

The batched ensemble (:mod:`simbev.solvers.ensemble`) runs its batches on them, and so do sweeps
(:mod:`simbev.sweeps.run`, whose batches go through the ensemble). They know nothing of the model.

An :class:`Executor` maps a picklable, module-level function over tasks and yields
``(task, outcome)`` pairs *as they complete* (in any order), so that the caller can store each
result at once. At most ``window`` tasks are in flight, so memory stays flat however long
the list of tasks. The executors differ only in where ``fn`` runs; since each task is a pure
function of its inputs, the outcomes are identical whichever executor ran them.

``SerialExecutor``
    In this process, in order. No dependency.
``ProcessExecutor``
    ``concurrent.futures.ProcessPoolExecutor`` with ``workers`` processes (started from a
    fork server where there is one).
``DaskExecutor``
    A ``dask.distributed`` cluster: an existing scheduler (``tcp://host:8786``) or, for
    ``"local"``, a ``LocalCluster`` of ``workers`` single-threaded worker processes. The
    workers must be able to import simbev (the same version).

Failures: ``fn`` is expected to catch its own exceptions and return them as data. What it
cannot catch — a worker process that dies — is reported so: a local process pool that breaks
raises :class:`WorkerLost` (the tasks in flight have no outcome; the caller may retry them);
a task that Dask gave up on after killing workers yields a :class:`TaskFailure` as outcome.
"""
from __future__ import annotations

import logging
import os
import time
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Iterator

from ..errors import InputError, SimbevError

__all__ = ["Executor", "SerialExecutor", "ProcessExecutor", "DaskExecutor", "WorkerLost",
           "TaskFailure", "make_executor"]


class WorkerLost(SimbevError, RuntimeError):
    """A worker process died; the tasks in flight have no outcome and may be retried."""


@dataclass(frozen=True)
class TaskFailure:
    """Outcome of a task the executor could not run (e.g. it killed every worker it ran on)."""

    message: str


class Executor:
    """Run ``fn`` over tasks; use as a context manager so that workers are shut down."""

    #: Short description for logs and the run table (``serial``, ``processes(4)``, ...).
    description = "executor"

    def map_unordered(self, fn: Callable[[Any], Any], tasks: Iterable[Any],
                      on_submit: Callable[[Any], None] | None = None) -> Iterator[tuple[Any, Any]]:
        """Yield ``(task, fn(task))`` as tasks complete.

        ``on_submit(task)`` is called just before a task is handed to a worker (e.g. to
        record the attempt). Tasks are drawn from ``tasks`` lazily.
        """
        raise NotImplementedError

    def close(self) -> None:
        """Shut down workers (idempotent)."""

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False


class SerialExecutor(Executor):
    """Run every task in this process, one after the other, in the order given."""

    description = "serial"

    def map_unordered(self, fn, tasks, on_submit=None):
        for task in tasks:
            if on_submit is not None:
                on_submit(task)
            yield task, fn(task)


class _WindowedExecutor(Executor):
    """Common loop: keep up to ``window`` futures in flight, yield them as they complete."""

    window = 2

    def _submit(self, fn, task):
        raise NotImplementedError

    def _completed(self, futures):
        """Block until at least one of ``futures`` is done; return the done ones."""
        raise NotImplementedError

    def _outcome(self, future):
        return future.result()

    def _cancel(self, futures):
        for f in futures:
            f.cancel()

    def map_unordered(self, fn, tasks, on_submit=None):
        it = iter(tasks)
        pending: dict[Any, Any] = {}

        def fill():
            while len(pending) < self.window:
                try:
                    task = next(it)
                except StopIteration:
                    return
                if on_submit is not None:
                    on_submit(task)
                pending[self._submit(fn, task)] = task

        try:
            fill()
            while pending:
                for future in self._completed(list(pending)):
                    task = pending.pop(future)
                    yield task, self._outcome(future)
                fill()
        finally:
            self._cancel(list(pending))


class ProcessExecutor(_WindowedExecutor):
    """Local worker processes (``concurrent.futures.ProcessPoolExecutor``)."""

    def __init__(self, workers: int, window: int | None = None, mp_context=None,
                 preload: tuple[str, ...] = ("simbev.solvers.ensemble",)):
        if workers < 1:
            raise ValueError(f"workers must be >= 1, got {workers}")
        self.workers = int(workers)
        self.window = int(window or 2 * self.workers)
        self._mp_context = mp_context if mp_context is not None else _default_context(preload)
        self._pool = None
        self.description = f"processes({self.workers})"

    @property
    def pool(self) -> ProcessPoolExecutor:
        if self._pool is None:
            self._pool = ProcessPoolExecutor(self.workers, mp_context=self._mp_context,
                                             initializer=_watch_parent, initargs=(os.getpid(),))
        return self._pool

    def _submit(self, fn, task):
        try:
            return self.pool.submit(fn, task)
        except BrokenProcessPool as exc:
            self._restart()
            raise WorkerLost(f"a worker process died ({exc})") from exc

    def _completed(self, futures):
        done, _ = wait(futures, return_when=FIRST_COMPLETED)
        return done

    def _outcome(self, future):
        try:
            return future.result()
        except BrokenProcessPool as exc:
            self._restart()
            raise WorkerLost(f"a worker process died while running a task ({exc})") from exc

    def _restart(self):
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None

    def close(self):
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None


def _watch_parent(pid: int, interval: float = 1.0) -> None:
    """Worker initializer: exit when the process that made the pool is gone.

    If that process is killed (SIGKILL, the OOM killer), nothing tells its workers: each
    holds both ends of the task queue's pipe and would wait for work forever. A daemon thread
    checks every ``interval`` seconds that ``pid`` still exists.
    """
    import threading

    def watch():
        while True:
            time.sleep(interval)
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                os._exit(1)
            except OSError:  # exists, owned by someone else: cannot be our parent's successor
                pass

    threading.Thread(target=watch, name="simbev-parent-watch", daemon=True).start()


def _default_context(preload: tuple[str, ...] = ("simbev.solvers.ensemble",)):
    """``forkserver`` where it exists (POSIX), with the modules ``preload`` imported in the server.

    Plain ``fork`` would copy a parent that already runs threads (a progress bar's monitor,
    an open database), which can deadlock the child; ``spawn`` would import simbev afresh
    in every worker. The fork server is started once, single-threaded, with simbev imported,
    and forks clean workers from it.
    """
    import multiprocessing
    if "forkserver" not in multiprocessing.get_all_start_methods():
        return None
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload(list(preload))
    return ctx


class DaskExecutor(_WindowedExecutor):
    """A Dask distributed cluster: ``address`` of a scheduler, or ``"local"`` for a LocalCluster."""

    def __init__(self, address: str = "local", workers: int | None = None, window: int | None = None,
                 timeout: float = 20.0):
        try:
            from distributed import Client, LocalCluster
        except ImportError:  # pragma: no cover - depends on the environment
            raise InputError(None, None, "--scheduler", address,
                             "the dask[distributed] package for a Dask scheduler "
                             "(pip install 'simbev[sweep]')") from None
        self.address = address
        self._cluster = None
        try:
            if address == "local":
                self._cluster = LocalCluster(n_workers=int(workers or 1), threads_per_worker=1,
                                             processes=True, dashboard_address=None,
                                             silence_logs=logging.ERROR)
                self.client = Client(self._cluster)
            else:
                self.client = Client(address, timeout=timeout)
        except (OSError, TimeoutError, ValueError) as exc:  # ValueError: an address Dask cannot parse
            self.close()
            raise InputError(None, None, "--scheduler", address,
                             "the address of a running Dask scheduler (e.g. tcp://host:8786) or "
                             f"'local' ({type(exc).__name__}: {exc})") from None
        threads = sum(self.client.nthreads().values()) or 1
        self.window = int(window or 2 * threads)
        self.description = f"dask({address}, {threads} threads)"
        self._counter = 0

    def _submit(self, fn, task):
        self._counter += 1
        return self.client.submit(fn, task, pure=False, key=f"simbev-task-{id(self):x}-{self._counter}")

    def _completed(self, futures):
        from distributed import wait as dask_wait
        done, _ = dask_wait(futures, return_when="FIRST_COMPLETED")
        return done

    def _outcome(self, future):
        from distributed import KilledWorker
        try:
            return future.result()
        except KilledWorker as exc:
            return TaskFailure(f"KilledWorker: the task killed the Dask workers it ran on ({exc})")

    def close(self):
        client = getattr(self, "client", None)
        if client is not None:
            client.close()
            self.client = None
        if self._cluster is not None:
            self._cluster.close()
            self._cluster = None


def make_executor(workers: int = 1, scheduler: str | None = None,
                  preload: tuple[str, ...] = ("simbev.solvers.ensemble",)) -> Executor:
    """The executor for ``--workers N`` and ``--scheduler ADDRESS``.

    ``scheduler`` given: Dask (``"local"`` starts a LocalCluster of ``workers`` processes).
    Otherwise ``workers > 1`` gives local processes (their fork server imports the modules
    ``preload`` once) and ``workers == 1`` runs serially.
    """
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise InputError(None, None, "--workers", workers, "a whole number >= 1")
    if scheduler:
        return DaskExecutor(scheduler, workers=workers)
    if workers == 1:
        return SerialExecutor()
    return ProcessExecutor(workers, preload=preload)
