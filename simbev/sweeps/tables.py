"""A sweep's tables and report: ``results.csv`` exported from the store (atomically, header first,
units and meanings in ``results.schema.json``), ``sensitivity.csv`` (Sobol' or Morris indices per arm and metric) and the figures.
"""
from __future__ import annotations

import os
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

import numpy as np

from ..atomic import atomic_file
from .designs import analyze, too_small
from ..formats.tables import Column, write_table
from ..plotting.labels import display_name
from ..plotting.sweep import (dominant_factor, plot_heatmap, plot_metric_vs_values, plot_morris, plot_progression_free,
                              plot_sobol, plot_tumor_curves)
from ..analysis.survival import metric_matrix
from .file import SENSITIVITY_NAME, Sweep
from .store import SweepStore

if TYPE_CHECKING:  # run.py imports this module
    from .run import SweepOutcome

__all__ = ["export_results"]


# --- tables ------------------------------------------------------------------------------------

def _write_atomic(path: Path, write: Callable[[Any], None], binary: bool = False) -> Path:
    with atomic_file(path, "wb" if binary else "w", newline=None if binary else "",
                     encoding=None if binary else "utf-8") as fh:
        write(fh)
        fh.flush()
        os.fsync(fh.fileno())
    return path


def result_columns(sweep: Sweep) -> list[Column]:
    """The columns of ``results.csv``: name, unit and meaning."""
    from ..analysis import metrics as M
    cols = [Column("sample_id", "", "sample number (0-based; the same virtual subject in every arm)", "integer")]
    if len(sweep.arms) > 1:
        cols.append(Column("arm", "", "arm name (the scenario's name)", "string"))
    for f in sweep.factors:
        cols.append(Column(f.name, f.unit or "1", f"varied value of {f.name}"))
    for m in sweep.metrics:
        desc = M.METRICS[m].description if m in M.METRICS else f"{m.split('@')[0]} at day {m.split('@')[-1]} of the run"
        cols.append(Column(m, sweep.metric_units.get(m, ""), desc))
    cols += [Column("status", "", "ok or failed", "string"),
             Column("error", "", "the error message of a failed sample (empty if ok)", "string")]
    return cols


def export_results(store: SweepStore, sweep: Sweep, path) -> Path:
    """Write ``results.csv`` from the store (atomically: ``.part``, then rename) and its Table
    Schema ``results.schema.json`` (units and meanings of the columns).

    Columns: ``sample_id``, ``arm`` (only with several arms), the varied values, the metrics
    (empty for ``None``, e.g. no progression, or a failed sample), ``status``, ``error``. The
    header is the first line.
    """
    arms = len(sweep.arms) > 1
    names = [f.name for f in sweep.factors]
    rows = ([row["sample_id"], *([row["arm_name"]] if arms else []),
             *(row["values"].get(n) for n in names),
             *(row["metrics"].get(m) for m in sweep.metrics),
             row["status"], row["error"] or ""] for row in store.rows())
    return write_table(path, result_columns(sweep), rows, title=f"results of sweep {sweep.name}",
                       description="one row per sample and arm; an empty metric: no event within the run "
                                   "(e.g. no progression) or a failed sample")


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
            meaning = {"arm": "arm name", "metric": "the metric analysed", "parameter": "the varied parameter",
                       "S1": "first-order Sobol' index", "S1_conf": "95 % confidence half-width of S1",
                       "ST": "total-order Sobol' index", "ST_conf": "95 % confidence half-width of ST",
                       "mu": "Morris mean elementary effect", "mu_star": "Morris mean absolute elementary effect",
                       "sigma": "standard deviation of the elementary effects",
                       "mu_star_conf": "95 % confidence half-width of mu_star"}
            labels = ("arm", "metric", "parameter")
            cols = [Column(k, "" if k in labels or k.startswith(("mu", "sigma")) else "1",
                           meaning.get(k, k) + (" (in the unit of the metric)" if k.startswith(("mu", "sigma")) else ""),
                           "string" if k in labels else "number") for k in keys]
            write_table(out / SENSITIVITY_NAME, cols, ([r[k] for k in keys] for r in table),
                        title=f"sensitivity indices of sweep {sweep.name}")
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
        values = {r["sample_id"]: r["values"] for r in rows}
        factor, share = dominant_factor(sweep.factors, [values.get(s, {}) for s, _, _, _ in traj],
                                        [float(np.asarray(v)[-1]) for _, _, _, v in traj])
        drugs = [r.drug for r in sweep.arms[0].scenario.treatments] if sweep.arms[0].scenario else None
        note = (f"coloured by {display_name(factor.name, drugs)}: explains {share:.0%} of the spread of "
                "log final volume" if len(sweep.factors) > 1 else "")
        save("tumor_curves.png", plot_tumor_curves(
            [(arm_names[a], values.get(s, {}).get(factor.name), t, v) for s, a, t, v in traj], factor.name,
            factor.unit, arm_names, log_color=factor.scale == "log", drugs=drugs, note=note))
    if "time_to_progression" in sweep.metrics and (sweep.design == "cohort" or len(arm_names) > 1):
        curves = {}
        for a, name in enumerate(arm_names):
            y, cens = metric_matrix(rows, sweep, "time_to_progression", a)
            ok = np.isfinite(y)
            curves[name] = (y[ok], ~cens[ok])
        save("progression_free.png", plot_progression_free(curves))


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", text.replace("@", "_at_")).strip("_")
