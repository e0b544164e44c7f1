"""The executors sweeps run on; they live in :mod:`simbev.solvers.executors` (the batched
ensemble runs its batches on them too) and are re-exported here for sweep code and scripts."""
from __future__ import annotations

from ..solvers.executors import (DaskExecutor, Executor, ProcessExecutor, SerialExecutor, TaskFailure,
                                 WorkerLost, make_executor)

__all__ = ["Executor", "SerialExecutor", "ProcessExecutor", "DaskExecutor", "WorkerLost",
           "TaskFailure", "make_executor"]
