"""A sweep's tables and report: ``results.csv`` exported from the store (atomically, a ``# units:``
line first), ``sensitivity.csv`` (Sobol' or Morris indices per arm and metric) and the figures.
"""
from __future__ import annotations

import csv
import os
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

import numpy as np

from ..atomic import atomic_file
from .designs import analyze, too_small
from ..plotting.sweep import plot_heatmap, plot_metric_vs_values, plot_morris, plot_progression_free, plot_sobol, plot_tumor_curves
from ..analysis.survival import metric_matrix
from .file import SENSITIVITY_NAME, Sweep
from .store import SweepStore

if TYPE_CHECKING:  # run.py imports this module
    from .run import SweepOutcome

__all__ = ["export_results"]


# --- tables ------------------------------------------------------------------------------------

def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return repr(value)
    return str(value)


def _write_atomic(path: Path, write: Callable[[Any], None], binary: bool = False) -> Path:
    with atomic_file(path, "wb" if binary else "w", newline=None if binary else "",
                     encoding=None if binary else "utf-8") as fh:
        write(fh)
        fh.flush()
        os.fsync(fh.fileno())
    return path


def export_results(store: SweepStore, sweep: Sweep, path) -> Path:
    """Write ``results.csv`` from the store (atomically: ``.part``, then rename).

    Columns: ``sample_id``, ``arm`` (only with several arms), the varied values, the metrics
    (empty for ``None``, e.g. no progression, or a failed sample), ``status``, ``error``. The
    first line is a ``# units:`` comment.
    """
    path = Path(path)
    arms = len(sweep.arms) > 1
    names = [f.name for f in sweep.factors]
    header = ["sample_id", *(["arm"] if arms else []), *names, *sweep.metrics, "status", "error"]
    units = {f.name: f.unit for f in sweep.factors}
    units.update({m: sweep.metric_units.get(m, "") for m in sweep.metrics})

    def write(fh):
        fh.write("# units: " + ", ".join(f"{n} [{units[n]}]" for n in [*names, *sweep.metrics] if units[n])
                 + "; time_to_progression empty = no progression within the run\n")
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(header)
        for row in store.rows():
            w.writerow([row["sample_id"], *([row["arm_name"]] if arms else []),
                        *(_cell(row["values"].get(n)) for n in names),
                        *(_cell(row["metrics"].get(m)) for m in sweep.metrics),
                        row["status"], row["error"] or ""])

    return _write_atomic(path, write)


def _write_analysis(store: SweepStore, sweep: Sweep, out: Path, outcome: SweepOutcome) -> None:
    rows = list(store.rows())

    def save(name: str, fig) -> None:  # one figure in memory at a time
        outcome.figures.append(_write_atomic(out / name, lambda fh: fig.savefig(fh, format="png", dpi=110),
                                             binary=True))

    small = too_small(sweep.design, sweep.samples)
    if small:
        outcome.notes.append(small)
    if sweep.design in ("sobol", "morris") and not small:
        table = []
        for a, arm in enumerate(sweep.arms):
            for metric in sweep.metrics:
                y, cens = metric_matrix(rows, sweep, metric, a)
                try:
                    res = analyze(sweep.design, sweep.factors, sweep.samples, sweep.seed, y, sweep.options)
                except ValueError as exc:
                    outcome.notes.append(f"{arm.name}: {metric}: no sensitivity indices: {exc}")
                    continue
                if cens.any():
                    outcome.notes.append(f"{arm.name}: {metric}: {int(cens.sum())} samples did not "
                                         "progress; their follow-up time was used")
                outcome.sensitivity.setdefault(arm.name, {})[metric] = res
                for j, f in enumerate(sweep.factors):
                    table.append({"arm": arm.name, "metric": metric, "parameter": f.name,
                                  **{k: res[k][j] for k in res if k not in ("names", "S2", "S2_conf")}})
        if table:
            keys = list(table[0])

            def write(fh):
                w = csv.writer(fh, lineterminator="\n")
                w.writerow(keys)
                for r in table:
                    w.writerow([_cell(r[k]) for k in keys])

            _write_atomic(out / SENSITIVITY_NAME, write)
            plot = plot_sobol if sweep.design == "sobol" else plot_morris
            save(f"{sweep.design}_indices.png", plot(outcome.sensitivity))
    arm_names = [a.name for a in sweep.arms]
    for metric in sweep.metrics:
        save(f"{_slug(metric)}_vs_values.png", plot_metric_vs_values(rows, sweep, metric))
        if sweep.design == "grid" and len(sweep.factors) == 2:
            for a, name in enumerate(arm_names):
                suffix = f"_{_slug(name)}" if len(arm_names) > 1 else ""
                save(f"heatmap_{_slug(metric)}{suffix}.png", plot_heatmap(rows, sweep, metric, a))
    traj = list(store.trajectories())
    if traj:
        factor = sweep.factors[0]
        values = {r["sample_id"]: r["values"].get(factor.name) for r in rows}
        save("tumor_curves.png", plot_tumor_curves(
            [(arm_names[a], values[s], t, v) for s, a, t, v in traj], factor.name, factor.unit,
            arm_names, log_color=factor.scale == "log"))
    if "time_to_progression" in sweep.metrics and (sweep.design == "cohort" or len(arm_names) > 1):
        curves = {}
        for a, name in enumerate(arm_names):
            y, cens = metric_matrix(rows, sweep, "time_to_progression", a)
            ok = np.isfinite(y)
            curves[name] = (y[ok], ~cens[ok])
        save("progression_free.png", plot_progression_free(curves))


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", text.replace("@", "_at_")).strip("_")
