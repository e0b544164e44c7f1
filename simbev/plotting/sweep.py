"""Figures of sweeps (matplotlib Figures; never shown): metrics against varied values, heat maps of
two-dimensional grids, tumor curves coloured by a varied value, Sobol' and Morris bar charts and
progression-free curves per arm.
"""
from __future__ import annotations

from typing import Any, Mapping, Sequence

import numpy as np

from ..analysis.survival import kaplan_meier, metric_matrix

__all__ = ["plot_metric_vs_values", "plot_heatmap", "plot_tumor_curves", "plot_sobol", "plot_morris", "plot_progression_free"]


# --- figures (matplotlib Figures; never shown) ---------------------------------------------------

def _figure(nrows=1, ncols=1, width=4.2, height=3.3, **kw):
    from matplotlib.figure import Figure
    fig = Figure(figsize=(width * ncols, height * nrows), layout="constrained")
    axes = fig.subplots(nrows, ncols, squeeze=False, **kw)
    return fig, axes


def _label(name: str, unit: str) -> str:
    return f"{name} [{unit}]" if unit and unit != "1" else name


def _norm(values, log: bool):
    from matplotlib.colors import LogNorm, Normalize
    v = np.asarray([x for x in values if x is not None], dtype=float)
    lo, hi = (float(v.min()), float(v.max())) if v.size else (0.0, 1.0)
    if hi <= lo:
        hi = lo + 1.0
    if log and lo > 0:
        return LogNorm(lo, hi)
    return Normalize(lo, hi)


def plot_metric_vs_values(rows: list[dict], sweep, metric: str):
    """A metric against each varied value: one panel per factor, one row per arm.

    Grids draw lines (for two-dimensional grids, one line per value of the other factor,
    coloured by it); sampled designs and cohorts draw points. A time to progression that never
    happened is drawn at the follow-up time with an open marker.
    """
    from matplotlib import colormaps
    factors = sweep.factors[:8]
    arms = sweep.arms
    fig, axes = _figure(len(arms), len(factors))
    unit = sweep.metric_units.get(metric, "")
    for a, arm in enumerate(arms):
        y, cens = metric_matrix(rows, sweep, metric, a)
        values = {r["sample_id"]: r["values"] for r in rows if r["arm"] == a}
        for j, f in enumerate(factors):
            ax = axes[a][j]
            x = np.array([float(values[i][f.name]) if i in values else np.nan for i in range(sweep.size)])
            if sweep.design == "grid" and len(sweep.factors) <= 2:
                other = [g for g in sweep.factors if g.name != f.name]
                if other:
                    g = other[0]
                    norm = _norm(g.values, log=True)
                    cmap = colormaps["viridis"]
                    for gv in g.values:
                        sel = np.array([values.get(i, {}).get(g.name) == gv for i in range(sweep.size)])
                        order = np.argsort(x[sel])
                        ax.plot(x[sel][order], y[sel][order], "-o", ms=3, color=cmap(norm(gv)),
                                label=f"{g.name} = {gv:g}")
                    ax.legend(fontsize=6)
                else:
                    order = np.argsort(x)
                    ax.plot(x[order], y[order], "-o", ms=4, color="C0")
            else:
                ax.scatter(x[~cens], y[~cens], s=9, color="C0", alpha=0.7, linewidths=0)
            if cens.any():
                ax.scatter(x[cens], y[cens], s=14, facecolors="none", edgecolors="C3",
                           label="no progression (follow-up)")
                if j == 0:
                    ax.legend(fontsize=6)
            if f.scale == "log" or (f.values and min(f.values) > 0 and max(f.values) / min(f.values) >= 20):
                from matplotlib.ticker import NullFormatter
                ax.set_xscale("log")
                ax.xaxis.set_minor_formatter(NullFormatter())
                if f.values:
                    ax.set_xticks(list(f.values), [f"{v:g}" for v in f.values])
            ax.set_xlabel(_label(f.name, f.unit))
            if j == 0:
                ax.set_ylabel(_label(metric, unit))
            if len(arms) > 1:
                ax.set_title(arm.name, fontsize=9)
    fig.suptitle(f"{sweep.name}: {metric}", fontsize=10)
    return fig


def plot_heatmap(rows: list[dict], sweep, metric: str, arm: int = 0):
    """A metric over a two-dimensional grid, as a heat map with the values written in the
    cells (a time to progression that never happened is shown as ``>follow-up``)."""
    f1, f2 = sweep.factors
    y, cens = metric_matrix(rows, sweep, metric, arm)
    grid = y.reshape(len(f1.values), len(f2.values))
    cgrid = cens.reshape(grid.shape)
    fig, axes = _figure(width=5.5, height=4.2)
    ax = axes[0][0]
    image = ax.imshow(np.ma.masked_invalid(grid), origin="lower", aspect="auto", cmap="viridis")
    ax.set_xticks(range(len(f2.values)), [f"{v:g}" for v in f2.values])
    ax.set_yticks(range(len(f1.values)), [f"{v:g}" for v in f1.values])
    ax.set_xlabel(_label(f2.name, f2.unit))
    ax.set_ylabel(_label(f1.name, f1.unit))
    finite = grid[np.isfinite(grid)]
    mid = float(np.mean([finite.min(), finite.max()])) if finite.size else 0.0
    for i in range(grid.shape[0]):
        for j in range(grid.shape[1]):
            v = grid[i, j]
            text = "failed" if not np.isfinite(v) else (">" if cgrid[i, j] else "") + f"{v:.3g}"
            ax.text(j, i, text, ha="center", va="center", fontsize=7,
                    color="white" if np.isfinite(v) and v < mid else "black")
    fig.colorbar(image, ax=ax, label=_label(metric, sweep.metric_units.get(metric, "")))
    ax.set_title(f"{sweep.name} ({sweep.arms[arm].name})", fontsize=9)
    return fig


def plot_tumor_curves(curves: Sequence[tuple[str, Any, Any, Any]], factor: str, unit: str = "",
                      arms: Sequence[str] | None = None, log_color: bool = False):
    """Tumour-volume curves coloured by the value of ``factor``.

    ``curves``: ``(arm name, factor value, time, tumor volume)``; one panel per arm.
    """
    from matplotlib import colormaps
    from matplotlib.cm import ScalarMappable
    from matplotlib.collections import LineCollection
    arms = list(arms or dict.fromkeys(c[0] for c in curves))
    values = [c[1] for c in curves]
    if not log_color and values and all(isinstance(v, (int, float)) and v > 0 for v in values):
        log_color = max(values) / min(values) >= 20
    norm = _norm(values, log_color)
    cmap = colormaps["viridis"]
    fig, axes = _figure(1, len(arms), width=4.5, height=3.5)
    for k, arm in enumerate(arms):
        ax = axes[0][k]
        segs = [np.column_stack([t, v]) for a, _, t, v in curves if a == arm]
        cols = [cmap(norm(x)) for a, x, _, _ in curves if a == arm]
        if segs:
            ax.add_collection(LineCollection(segs, colors=cols, linewidths=0.9, alpha=0.85))
            ax.autoscale()
        ax.set_xlabel("time [day]")
        ax.set_ylabel("tumor volume [mm^3]")
        ax.set_title(arm if len(arms) > 1 else f"{len(segs)} samples", fontsize=9)
    fig.colorbar(ScalarMappable(norm=norm, cmap=cmap), ax=list(axes[0]), label=_label(factor, unit))
    return fig


def _index_bars(results: Mapping[str, Mapping[str, dict]], series: Sequence[tuple[str, str | None, str]],
                title: str):
    cells = [(arm, metric, res) for arm, by_metric in results.items() for metric, res in by_metric.items()]
    fig, axes = _figure(1, max(len(cells), 1), width=4.6, height=3.6)
    for k, (arm, metric, res) in enumerate(cells):
        ax = axes[0][k]
        names = res["names"]
        x = np.arange(len(names))
        width = 0.8 / len(series)
        for s, (key, conf, label) in enumerate(series):
            err = np.abs(np.asarray(res[conf], dtype=float)) if conf else None
            ax.bar(x + (s - (len(series) - 1) / 2) * width, res[key], width, yerr=err, capsize=2,
                   label=label, color=f"C{s}")
        ax.set_xticks(x, names, rotation=45, ha="right", fontsize=7)
        ax.axhline(0, color="0.5", lw=0.6)
        ax.set_title(f"{metric}" + (f" ({arm})" if len(results) > 1 else ""), fontsize=9)
        if k == 0:
            ax.legend(fontsize=7)
    fig.suptitle(title, fontsize=10)
    return fig


def plot_sobol(results: Mapping[str, Mapping[str, dict]]):
    """First-order (S1) and total (ST) Sobol' indices with their bootstrap confidence
    intervals, one panel per arm and metric. ``results``: ``{arm: {metric: indices}}`` as
    returned by :func:`~simbev.sweeps.designs.analyze`."""
    return _index_bars(results, [("S1", "S1_conf", "S1 (first order)"), ("ST", "ST_conf", "ST (total)")],
                       "Sobol' indices (95 % CI)")


def plot_morris(results: Mapping[str, Mapping[str, dict]]):
    """Morris ``mu*`` (with its bootstrap confidence interval) and ``sigma``, per unit
    fraction of each factor's range, one panel per arm and metric."""
    return _index_bars(results, [("mu_star", "mu_star_conf", "mu* (95 % CI)"), ("sigma", None, "sigma")],
                       "Morris elementary effects")


def plot_progression_free(curves: Mapping[str, tuple[Any, Any]], horizon_label: str = "days since first dose"):
    """Kaplan–Meier progression-free curves, one per arm.

    ``curves``: ``{arm: (times, events)}`` with ``events`` False where the patient had not
    progressed by the end of the run (censored at the follow-up time, marked ``+``).
    """
    fig, axes = _figure(width=5.5, height=4.0)
    ax = axes[0][0]
    for k, (arm, (times, events)) in enumerate(curves.items()):
        times = np.asarray(times, dtype=float)
        events = np.asarray(events, dtype=bool)
        t, s = kaplan_meier(times, events)
        end = float(times.max()) if times.size else 0.0
        tt, ss = np.append(t, max(end, t[-1])), np.append(s, s[-1])
        below = np.nonzero(s <= 0.5)[0]
        median = f"median {t[below[0]]:.3g} d" if below.size else "median not reached"
        ax.step(tt, ss, where="post", color=f"C{k}", label=f"{arm} (n={times.size}, {median})")
        cens = times[~events]
        if cens.size:
            ax.plot(cens, [s[np.searchsorted(t, c, side="right") - 1] for c in cens], "+", color=f"C{k}", ms=6)
    ax.set_ylim(-0.02, 1.02)
    ax.set_xlabel(horizon_label)
    ax.set_ylabel("progression-free fraction")
    ax.legend(fontsize=7, loc="lower left")
    ax.set_title("Progression-free survival (Kaplan–Meier; + = censored at end of run)", fontsize=9)
    return fig
