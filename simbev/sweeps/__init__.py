"""Sweeps: the sweep file format (:mod:`.file`), designs (grid, Latin hypercube, Sobol and
Morris via SALib, cohorts; :mod:`.designs`), the run loop (:mod:`.run`), the resumable store
(:mod:`.store`), executors (serial, processes, dask; :mod:`.executors`) and the tables and
sensitivity report (:mod:`.tables`, with the figures of :mod:`simbev.plotting.sweep`).

May import: everything below it (model, parameters, protocol, scenario, solvers, result,
simulation, analysis, errors) and :mod:`simbev.plotting` for its figures; never :mod:`simbev.cli`.
"""
from __future__ import annotations

from .file import TOP_LEVEL_KEYS, TREATMENT_FIELDS, Arm, Sweep, SweepChangedError, apply_sample, load_sweep
from .run import SweepOutcome, model_fingerprint, run_sweep
from .tables import export_results

__all__ = ["TOP_LEVEL_KEYS", "TREATMENT_FIELDS", "Arm", "Sweep", "SweepChangedError", "apply_sample", "load_sweep",
           "SweepOutcome", "model_fingerprint", "run_sweep", "export_results"]
