"""Benchmark: wall time of ``simbev sweep`` on a shipped sweep file, end to end.

Runs ``python -m simbev sweep SWEEP --out <fresh temporary dir> --workers N`` as a separate
process ``--repeats`` times per worker count and prints the median, minimum and maximum wall
time (process start to exit: import, compile-cache load, every sample, the tables and the
figures). The compiled code is loaded from one temporary cache directory shared by the runs;
one untimed run first fills it, so no timed run includes numba compilation.

It also prints the SHA-256 of each ``results.csv`` (the first 12 hex digits): runs of the same
sweep must give byte-identical tables, whatever the worker count and whichever simbev
(``--src``) ran them, so the line doubles as a check that numbers did not move.

    python experiments/benchmark_sweep.py                                 # this checkout
    python experiments/benchmark_sweep.py --src /tmp/simbev-main          # another simbev tree
    python experiments/benchmark_sweep.py configs/sweeps/sobol_ttp_bevacizumab.yaml --workers 1

Wall times on a shared machine vary with its load: compare medians taken back to back.
"""
from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def run_once(src: Path, sweep: Path, workers: int, env: dict) -> tuple[float, str]:
    """Wall time (s) of one sweep into a fresh directory, and the digest of its results.csv."""
    out = Path(tempfile.mkdtemp(prefix="simbev-bench-sweep-"))
    try:
        t0 = time.perf_counter()
        proc = subprocess.run([sys.executable, "-m", "simbev", "sweep", str(sweep), "--out", str(out / "o"),
                               "--workers", str(workers)], cwd=src, env=env, capture_output=True, text=True)
        elapsed = time.perf_counter() - t0
        if proc.returncode != 0:
            raise SystemExit(f"sweep failed ({proc.returncode}):\n{proc.stderr}")
        digest = hashlib.sha256((out / "o" / "results.csv").read_bytes()).hexdigest()[:12]
        return elapsed, digest
    finally:
        shutil.rmtree(out, ignore_errors=True)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("sweep", nargs="?", default=str(ROOT / "configs/sweeps/cohort_bev_vs_combo.yaml"))
    parser.add_argument("--src", default=str(ROOT), help="root of the simbev tree to run (default: this one)")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)
    src, sweep = Path(args.src).resolve(), Path(args.sweep).resolve()
    cache = Path(tempfile.mkdtemp(prefix="simbev-bench-cache-"))
    env = {**os.environ, "PYTHONPATH": str(src), "SIMBEV_CACHE_DIR": str(cache), "MPLBACKEND": "Agg"}
    try:
        run_once(src, sweep, 1, env)  # fills the compiled-code cache; not timed
        print(f"sweep {sweep.name}, simbev from {src}, {args.repeats} runs per worker count, "
              f"{os.cpu_count()} CPUs")
        for workers in args.workers:
            times, digests = [], set()
            for _ in range(args.repeats):
                t, d = run_once(src, sweep, workers, env)
                times.append(t)
                digests.add(d)
            print(f"  --workers {workers}: median {statistics.median(times):.2f} s "
                  f"(min {min(times):.2f}, max {max(times):.2f}); results.csv sha256 {', '.join(sorted(digests))}")
    finally:
        shutil.rmtree(cache, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
