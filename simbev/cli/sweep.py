"""``simbev sweep``: argument wiring over :func:`simbev.sweeps.run.run_sweep`.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from ..errors import InputError

__all__ = ["add_subcommand", "add_sweep_subcommand", "cmd_sweep"]


def add_subcommand(subparsers) -> Any:
    """Add ``simbev sweep`` to an argparse ``subparsers`` object; return its parser."""
    p = subparsers.add_parser(
        "sweep", help="parameter sweep / sensitivity analysis / virtual cohort",
        description="Run a sweep file (docs/sweeps.md); write results.csv, sweep.sqlite and figures "
                    "into DIR. Run the same command again to resume an interrupted sweep.")
    p.add_argument("sweep", metavar="SWEEP.yaml")
    p.add_argument("--out", metavar="DIR", help="output directory (default results/<sweep name>/)")
    p.add_argument("--workers", metavar="N", type=int, default=1,
                   help="worker processes (default 1: serial); with --scheduler local, Dask workers")
    p.add_argument("--scheduler", metavar="ADDRESS",
                   help="run on a Dask scheduler (tcp://host:8786), or 'local' for a local Dask cluster")
    p.add_argument("--retry-failed", action="store_true", help="run failed samples again when resuming")
    p.set_defaults(func=cmd_sweep)
    return p


add_sweep_subcommand = add_subcommand  # the name tests and scripts used before every subcommand had one


def cmd_sweep(args) -> int:
    """Handler of ``simbev sweep``: prints a summary; errors propagate as InputError (exit 2)."""
    # imported here, so that building the parser for any other command stays light
    from ..sweeps.file import RESULTS_NAME, SENSITIVITY_NAME, STORE_NAME, load_sweep
    from ..sweeps.run import run_sweep

    if args.workers is None or args.workers < 1:
        raise InputError(None, None, "--workers", args.workers, "a whole number >= 1")
    sweep = load_sweep(args.sweep)
    out = Path(args.out) if args.out else Path("results") / sweep.name
    result = run_sweep(sweep, out, workers=args.workers, scheduler=args.scheduler, progress=None,
                       retry_failed=args.retry_failed)
    resumed = f", {result.skipped} already done" if result.skipped else ""
    print(f"{result.name}: {result.total} runs ({result.ok} ok, {result.failed} failed{resumed}) "
          f"with {result.executor} in {result.elapsed_s:.1f} s")
    for note in result.notes:
        print(f"note: {note}")
    files = [RESULTS_NAME, STORE_NAME] + ([SENSITIVITY_NAME] if (out / SENSITIVITY_NAME).exists() and result.sensitivity else [])
    print(f"wrote {out}{os.sep} ({', '.join(files + [p.name for p in result.figures])})")
    return 0
