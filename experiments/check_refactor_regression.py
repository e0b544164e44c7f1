"""Regression check for refactors: run every shipped scenario on the reference path and
compare against a stored dump.

    python experiments/check_refactor_regression.py dump OUT.npz     # before the change
    python experiments/check_refactor_regression.py compare OUT.npz  # after: prints max rel. diff

Every state and derived output at every output time, plus the output times, is compared; the
relative difference of each value is ``|a - b| / max(|a|, |b|, 1e-300)`` (exact zeros compare
as 0). Exit status 1 when the largest difference exceeds ``--rtol`` (default 1e-12).
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

import simbev

ROOT = Path(__file__).resolve().parents[1]


def run_all() -> dict[str, np.ndarray]:
    out = {}
    for path in sorted((ROOT / "configs" / "scenarios").glob("*.yaml")):
        res = simbev.simulate(simbev.load_scenario(path))
        out[f"{path.stem}/time"] = np.asarray(res.time, float)
        for name in res.names:
            out[f"{path.stem}/{name}"] = np.asarray(res[name], float)
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("mode", choices=("dump", "compare"))
    ap.add_argument("file")
    ap.add_argument("--rtol", type=float, default=1e-12)
    args = ap.parse_args(argv)
    now = run_all()
    if args.mode == "dump":
        np.savez(args.file, **now)
        print(f"wrote {len(now)} arrays from {len({k.split('/')[0] for k in now})} scenarios to {args.file}")
        return 0
    ref = dict(np.load(args.file))
    missing = sorted(set(ref) ^ set(now))
    if missing:
        print("arrays present in only one run:", ", ".join(missing))
        return 1
    worst, where = 0.0, ""
    for key in sorted(ref):
        a, b = ref[key], now[key]
        if a.shape != b.shape:
            print(f"{key}: shape {a.shape} before, {b.shape} after")
            return 1
        den = np.maximum(np.maximum(np.abs(a), np.abs(b)), 1e-300)
        rel = float(np.max(np.abs(a - b) / den)) if a.size else 0.0
        if rel > worst:
            worst, where = rel, key
    print(f"{len(ref)} arrays compared; max relative difference {worst:.3e}" + (f" ({where})" if where else ""))
    return 0 if worst <= args.rtol else 1


if __name__ == "__main__":
    sys.exit(main())
