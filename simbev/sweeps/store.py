"""The crash-safe store of a sweep: ``OUT/sweep.sqlite``, SQLite in WAL mode.

One row per task (a sample of the design, run in one arm), created *pending* when the sweep
starts, in a single transaction together with the sweep's identity (the normalised hash of
the sweep file and of the scenarios it runs). The parent process commits each finished task
as soon as its result arrives; workers never touch the database. A SIGKILL at any moment
therefore loses at most the tasks that were running; those are still pending and run again
on resume, and a finished task is never run twice.

WAL with ``synchronous=NORMAL``: a commit survives the death of the process (the kernel
holds the write-ahead log); after a power cut the last commits may be missing, but the
database is never corrupt and resuming runs them again.

Tables
------
``meta``         key/value: ``sweep_hash``, ``sweep`` (the normalised sweep, JSON),
                 ``simbev_version``, ``model_fingerprint``, ``created_at``.
``tasks``        ``sample_id``, ``arm``, ``arm_name``, ``sample_hash``, ``vals`` (JSON),
                 ``status`` (pending | ok | failed), ``metrics`` (JSON), ``error``, ``info``
                 (JSON: follow-up, solver statistics), ``attempts`` (times handed to a
                 worker), ``started_at``, ``finished_at``, ``elapsed_s``, ``run_id``.
``trajectories`` tumor-volume curves of the first few samples (``time``, ``tumor_volume``
                 as float64 bytes).
``runs``         one row per invocation: start, end, executor, process id.
"""
from __future__ import annotations

import json
import os
import sqlite3
import time
from pathlib import Path
from typing import Any, Iterable, Iterator, Sequence

import numpy as np

from ..errors import SimbevError

__all__ = ["SweepStore", "StoreLocked", "StoreDamaged", "check_existing", "PENDING", "OK", "FAILED"]

PENDING, OK, FAILED = "pending", "ok", "failed"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS tasks (
    sample_id   INTEGER NOT NULL,
    arm         INTEGER NOT NULL,
    arm_name    TEXT NOT NULL,
    sample_hash TEXT NOT NULL,
    vals        TEXT NOT NULL,
    status      TEXT NOT NULL DEFAULT 'pending',
    metrics     TEXT,
    error       TEXT,
    info        TEXT,
    attempts    INTEGER NOT NULL DEFAULT 0,
    started_at  REAL,
    finished_at REAL,
    elapsed_s   REAL,
    run_id      INTEGER,
    PRIMARY KEY (sample_id, arm)
);
CREATE TABLE IF NOT EXISTS trajectories (
    sample_id    INTEGER NOT NULL,
    arm          INTEGER NOT NULL,
    time         BLOB NOT NULL,
    tumor_volume BLOB NOT NULL,
    PRIMARY KEY (sample_id, arm)
);
CREATE TABLE IF NOT EXISTS runs (
    run_id      INTEGER PRIMARY KEY AUTOINCREMENT,
    started_at  REAL NOT NULL,
    finished_at REAL,
    executor    TEXT,
    pid         INTEGER,
    simbev_version TEXT
);
"""


class StoreLocked(SimbevError, RuntimeError):
    """Another process is running a sweep into the same output directory."""


class StoreDamaged(SimbevError, RuntimeError):
    """``sweep.sqlite`` is damaged, or is not a simbev sweep store; it is left untouched."""


_TABLES = {"meta", "tasks", "trajectories", "runs", "sqlite_sequence"}
_COLUMNS = {"tasks": {"sample_id", "arm", "arm_name", "sample_hash", "vals", "status", "metrics", "error",
                      "info", "attempts", "started_at", "finished_at", "elapsed_s", "run_id"},
            "meta": {"key", "value"}}


def check_existing(path: Path) -> None:
    """Refuse a damaged or foreign ``path`` before anything writes to it (read-only checks).

    An empty or missing file is fine (a new store). Otherwise it must be an intact SQLite
    database (``PRAGMA quick_check``) whose tables are simbev's, with the columns simbev writes.
    """
    path = Path(path)
    if not path.exists() or (path.is_file() and path.stat().st_size == 0):
        return
    advice = ("move it away or use another --out directory; simbev did not change it")
    if not path.is_file():
        raise StoreDamaged(f"{path}: is not a regular file; {advice}")
    with open(path, "rb") as fh:
        header = fh.read(16)
    if header != b"SQLite format 3\x00":
        raise StoreDamaged(f"{path}: is not an SQLite database (not a simbev sweep store); {advice}")
    try:
        db = sqlite3.connect(f"{path.absolute().as_uri()}?mode=ro", uri=True, timeout=30.0)
        try:
            check = db.execute("PRAGMA quick_check").fetchone()
            tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
            columns = {t: {r[1] for r in db.execute(f"PRAGMA table_info({t})")} for t in _COLUMNS if t in tables}
        finally:
            db.close()
    except sqlite3.DatabaseError as exc:
        raise StoreDamaged(f"{path}: is damaged ({exc}); {advice}") from None
    if not check or check[0] != "ok":
        raise StoreDamaged(f"{path}: is damaged (integrity check: {check[0] if check else 'no answer'}); {advice}")
    if tables and (not tables <= _TABLES or any(not _COLUMNS[t] <= columns.get(t, set()) for t in _COLUMNS)):
        raise StoreDamaged(f"{path}: is another program's database (tables: {', '.join(sorted(tables)) or 'none'}), "
                           f"not a simbev sweep store; {advice}")


def _loads(text: str | None) -> Any:
    return None if text is None else json.loads(text)


def _dumps(value: Any) -> str:
    # Python's JSON keeps inf and nan (as Infinity/NaN) and reads them back: metrics may be inf.
    return json.dumps(value, allow_nan=True, separators=(",", ":"))


class SweepStore:
    """An open sweep database. Use :meth:`open`; close with :meth:`close` or ``with``."""

    def __init__(self, path: Path, connection: sqlite3.Connection, lock_fd: int | None):
        self.path = path
        self.db = connection
        self._lock_fd = lock_fd

    # --- opening --------------------------------------------------------------------------
    @classmethod
    def open(cls, path, lock: bool = True) -> "SweepStore":
        """Open (creating if needed) the store at ``path``.

        With ``lock``, take an exclusive advisory lock on ``<path>.lock`` so that two sweeps
        cannot run into the same directory at once (released by the kernel when the process
        dies, even if worker processes it forked live on); raise :class:`StoreLocked` if
        another process holds it.
        """
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        lock_path = path.with_name(path.name + ".lock")
        lock_existed = lock_path.exists()
        fd = _lock(lock_path) if lock else None
        try:
            check_existing(path)  # before any write: no tables added, no switch to WAL
        except StoreDamaged:
            _unlock(fd)
            if not lock_existed:
                lock_path.unlink(missing_ok=True)
            raise
        try:
            db = sqlite3.connect(str(path), timeout=30.0, isolation_level=None)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            db.executescript(_SCHEMA)
        except BaseException:
            _unlock(fd)
            raise
        return cls(path, db, fd)

    def close(self) -> None:
        if self.db is not None:
            self.db.close()
            self.db = None
        _unlock(self._lock_fd)
        self._lock_fd = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    # --- identity -------------------------------------------------------------------------
    def meta(self, key: str, default: str | None = None) -> str | None:
        row = self.db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return default if row is None else row[0]

    def initialised(self) -> bool:
        return self.meta("sweep_hash") is not None

    def initialise(self, sweep_hash: str, sweep_json: str, version: str,
                   rows: Iterable[tuple[int, int, str, str, str]],
                   extra_meta: dict[str, str] | None = None) -> None:
        """Record the sweep and create its pending tasks, in one transaction.

        ``rows``: ``(sample_id, arm, arm_name, sample_hash, vals_json)``.
        """
        with self._transaction():
            self.db.execute("DELETE FROM meta")
            self.db.execute("DELETE FROM tasks")
            self.db.execute("DELETE FROM trajectories")
            self.db.executemany("INSERT INTO meta (key, value) VALUES (?, ?)", [
                ("sweep_hash", sweep_hash), ("sweep", sweep_json), ("simbev_version", version),
                ("created_at", repr(time.time())), *(extra_meta or {}).items()])
            self.db.executemany(
                "INSERT INTO tasks (sample_id, arm, arm_name, sample_hash, vals) VALUES (?, ?, ?, ?, ?)",
                rows)

    def task_hashes(self) -> dict[tuple[int, int], str]:
        return {(s, a): h for s, a, h in self.db.execute("SELECT sample_id, arm, sample_hash FROM tasks")}

    # --- runs -----------------------------------------------------------------------------
    def begin_run(self, executor: str, version: str) -> int:
        cur = self.db.execute(
            "INSERT INTO runs (started_at, executor, pid, simbev_version) VALUES (?, ?, ?, ?)",
            (time.time(), executor, os.getpid(), version))
        return int(cur.lastrowid)

    def end_run(self, run_id: int) -> None:
        self.db.execute("UPDATE runs SET finished_at = ? WHERE run_id = ?", (time.time(), run_id))

    # --- tasks ----------------------------------------------------------------------------
    def counts(self) -> dict[str, int]:
        out = {PENDING: 0, OK: 0, FAILED: 0}
        out.update(dict(self.db.execute("SELECT status, COUNT(*) FROM tasks GROUP BY status")))
        return out

    def pending(self) -> list[tuple[int, int, int]]:
        """``(sample_id, arm, attempts)`` of every pending task, in id order."""
        return list(self.db.execute(
            "SELECT sample_id, arm, attempts FROM tasks WHERE status = 'pending' ORDER BY sample_id, arm"))

    def reset_failed(self) -> int:
        """Make failed tasks pending again (to retry them); return how many."""
        with self._transaction():
            cur = self.db.execute("UPDATE tasks SET status = 'pending', metrics = NULL, error = NULL, "
                                  "info = NULL, attempts = 0 WHERE status = 'failed'")
        return cur.rowcount

    def mark_started(self, key: tuple[int, int], run_id: int) -> None:
        """Count an attempt of a task (committed at once)."""
        self.db.execute("UPDATE tasks SET attempts = attempts + 1, started_at = ?, run_id = ? "
                        "WHERE sample_id = ? AND arm = ?", (time.time(), run_id, *key))

    def record(self, key: tuple[int, int], status: str, metrics: dict | None, error: str | None,
               info: dict | None = None, elapsed: float | None = None,
               trajectory: tuple[Sequence[float], Sequence[float]] | None = None) -> None:
        """Store the outcome of a task, in one transaction, committed at once."""
        with self._transaction():
            self.db.execute(
                "UPDATE tasks SET status = ?, metrics = ?, error = ?, info = ?, finished_at = ?, "
                "elapsed_s = ? WHERE sample_id = ? AND arm = ?",
                (status, None if metrics is None else _dumps(metrics), error,
                 None if info is None else _dumps(info), time.time(), elapsed, *key))
            if trajectory is not None:
                t, v = trajectory
                self.db.execute(
                    "INSERT OR REPLACE INTO trajectories (sample_id, arm, time, tumor_volume) "
                    "VALUES (?, ?, ?, ?)",
                    (*key, np.asarray(t, dtype="<f8").tobytes(), np.asarray(v, dtype="<f8").tobytes()))

    def rows(self) -> Iterator[dict]:
        """Every task in id order: ``sample_id, arm, arm_name, sample_hash, values, status,
        metrics, error, info, attempts``."""
        cur = self.db.execute(
            "SELECT sample_id, arm, arm_name, sample_hash, vals, status, metrics, error, info, attempts "
            "FROM tasks ORDER BY sample_id, arm")
        for sid, arm, name, h, vals, status, metrics, error, info, attempts in cur:
            yield {"sample_id": sid, "arm": arm, "arm_name": name, "sample_hash": h,
                   "values": _loads(vals), "status": status, "metrics": _loads(metrics) or {},
                   "error": error, "info": _loads(info) or {}, "attempts": attempts}

    def trajectories(self) -> Iterator[tuple[int, int, np.ndarray, np.ndarray]]:
        cur = self.db.execute("SELECT sample_id, arm, time, tumor_volume FROM trajectories "
                              "ORDER BY sample_id, arm")
        for sid, arm, t, v in cur:
            yield sid, arm, np.frombuffer(t, dtype="<f8"), np.frombuffer(v, dtype="<f8")

    # --- helpers --------------------------------------------------------------------------
    def _transaction(self):
        return _Transaction(self.db)


class _Transaction:
    """``BEGIN IMMEDIATE`` ... ``COMMIT`` (``ROLLBACK`` on error) on an autocommit connection."""

    def __init__(self, db: sqlite3.Connection):
        self.db = db

    def __enter__(self):
        self.db.execute("BEGIN IMMEDIATE")
        return self.db

    def __exit__(self, exc_type, exc, tb):
        self.db.execute("ROLLBACK" if exc_type else "COMMIT")
        return False


def _lock(path: Path) -> int | None:
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not POSIX: no advisory lock
        return None
    fd = os.open(str(path), os.O_RDWR | os.O_CREAT, 0o644)
    try:
        # A POSIX record lock, not flock: it belongs to this process only, so worker processes
        # forked from it do not keep it after this process was killed.
        fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        os.close(fd)
        raise StoreLocked(f"{path.parent}: another simbev sweep is running into this directory "
                          "(wait for it to finish, or use another --out)") from None
    return fd


def _unlock(fd: int | None) -> None:
    if fd is not None:
        os.close(fd)  # closing the descriptor releases the lock
