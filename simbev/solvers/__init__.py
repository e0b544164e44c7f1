"""Solvers: integrate the model between dose events.

``reference``: scipy's ODEPACK (LSODA) or BDF/Radau, the reference path. ``compiled``: the
model generated as straight-line code (``codegen``) and integrated by a Rosenbrock method
(``kernel``) compiled with numba, with its code cache; falls back to the reference path without
numba. Both take the same arguments: parameters, initial state, output times and dose events.
``ensemble``: many samples of one scenario in compiled batches (``Batch``, ``run_batch``), run on
``executors`` (serial, local processes, Dask; no model knowledge), which sweeps use too.

May import: :mod:`simbev.model`, :mod:`simbev.parameters`, :mod:`simbev.protocol`,
:mod:`simbev.scenario`, :mod:`simbev.symbolic`, :mod:`simbev.result`, :mod:`simbev.errors`.
Never a file format (:mod:`simbev.formats`).
"""
