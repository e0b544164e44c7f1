"""Sweeps: the sweep file format (:mod:`.file`), designs (grid, Latin hypercube, Sobol and
Morris via SALib, cohorts; :mod:`.designs`), the run loop (:mod:`.run`), the resumable store
(:mod:`.store`), executors (serial, processes, dask; :mod:`.executors`) and the tables and
sensitivity report (:mod:`.tables`).

May import: everything below it (model, parameters, protocol, scenario, solvers, result,
simulation, analysis, errors) and :mod:`simbev.plotting` for its figures; never :mod:`simbev.cli`.
"""
