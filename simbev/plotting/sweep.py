"""Figures of sweeps (matplotlib Figures; never shown): metrics against varied values, heat maps of
two-dimensional grids, tumor curves coloured by a varied value, Sobol' and Morris bar charts and
progression-free curves per arm.
"""
from __future__ import annotations

from typing import Any, Mapping, Sequence

import numpy as np

from ..analysis.survival import kaplan_meier, metric_matrix
from .labels import axis_label, display_name, number_format

__all__ = ["plot_metric_vs_values", "plot_heatmap", "plot_tumor_curves", "plot_sobol", "plot_morris",
           "plot_progression_free", "dominant_factor"]


# --- figures (matplotlib Figures; never shown) ---------------------------------------------------

def _figure(nrows=1, ncols=1, width=4.2, height=3.3, **kw):
    from matplotlib.figure import Figure
    fig = Figure(figsize=(width * ncols, height * nrows), layout="constrained")
    axes = fig.subplots(nrows, ncols, squeeze=False, **kw)
    return fig, axes


def _drugs(sweep) -> list[str] | None:
    """The drug of each ``treatments`` entry of the sweep's first arm (to name ``treatments.0.dose``)."""
    try:
        return [r.drug for r in sweep.arms[0].scenario.treatments]
    except (AttributeError, IndexError):
        return None


def _cmap():
    """viridis without its palest yellow end, so every line stays readable on white."""
    from matplotlib import colormaps
    from matplotlib.colors import ListedColormap
    return ListedColormap(colormaps["viridis"](np.linspace(0.0, 0.82, 256)), name="viridis_dark")


def _legend_outside(ax, **kw):
    kw.setdefault("fontsize", 7)
    return ax.legend(loc="upper left", bbox_to_anchor=(1.02, 1.0), borderaxespad=0.0, frameon=False, **kw)


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
    factors = sweep.factors[:8]
    arms = sweep.arms
    drugs = _drugs(sweep)
    fig, axes = _figure(len(arms), len(factors), width=5.2)
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
                    cmap = _cmap()
                    for gv in g.values:
                        sel = np.array([values.get(i, {}).get(g.name) == gv for i in range(sweep.size)])
                        sel_ok = sel & ~cens  # censored values are drawn open, never joined
                        order = np.argsort(x[sel_ok])
                        ax.plot(x[sel_ok][order], y[sel_ok][order], "-o", ms=3, color=cmap(norm(gv)),
                                label=f"{display_name(g.name, drugs)} = {gv:g}")
                        ax.scatter(x[sel & cens], y[sel & cens], s=18, facecolors="white",
                                   edgecolors=cmap(norm(gv)), zorder=3)
                    _legend_outside(ax, title=axis_label(g.name, g.unit, drugs), title_fontsize=7)
                else:
                    order = np.argsort(x[~cens])
                    ax.plot(x[~cens][order], y[~cens][order], "-o", ms=4, color="C0")
            else:
                ax.scatter(x[~cens], y[~cens], s=9, color="C0", alpha=0.7, linewidths=0)
            if cens.any():
                ax.scatter(x[cens], y[cens], s=18, facecolors="white", edgecolors="0.2", zorder=2,
                           label="open: no progression by the end\n(drawn at the follow-up time)")
            if f.scale == "log" or (f.values and min(f.values) > 0 and max(f.values) / min(f.values) >= 20):
                from matplotlib.ticker import NullFormatter
                ax.set_xscale("log")
                ax.xaxis.set_minor_formatter(NullFormatter())
                if f.values:
                    ax.set_xticks(list(f.values), [f"{v:g}" for v in f.values])
            ax.set_xlabel(axis_label(f.name, f.unit, drugs))
            if j == 0:
                ax.set_ylabel(axis_label(metric, unit))
            if len(arms) > 1:
                ax.set_title(arm.name, fontsize=9)
            last = j == len(factors) - 1
            if cens.any() and last and not ax.get_legend():
                _legend_outside(ax)
            elif cens.any() and last:  # the grid legend is there already: note the open markers below it
                ax.text(1.02, 0.0, "open: no progression by the end", transform=ax.transAxes, fontsize=7,
                        va="bottom")
    fig.suptitle(f"{sweep.name}: {display_name(metric)}", fontsize=10)
    return fig


def plot_heatmap(rows: list[dict], sweep, metric: str, arm: int = 0):
    """A metric over a two-dimensional grid, as a heat map with the values written in the
    cells (a time to progression that never happened is shown as ``>follow-up``)."""
    f1, f2 = sweep.factors
    y, cens = metric_matrix(rows, sweep, metric, arm)
    grid = y.reshape(len(f1.values), len(f2.values))
    cgrid = cens.reshape(grid.shape)
    drugs = _drugs(sweep)
    fig, axes = _figure(width=5.8, height=4.2)
    ax = axes[0][0]
    finite = grid[np.isfinite(grid)]
    # an honest scale: a quantity that cannot be negative starts at 0, so that a spread of
    # 0.47-0.55 does not look like the whole range of colours
    lo = 0.0 if finite.size and finite.min() >= 0 else (float(finite.min()) if finite.size else 0.0)
    hi = float(finite.max()) if finite.size else 1.0
    image = ax.imshow(np.ma.masked_invalid(grid), origin="lower", aspect="auto", cmap=_cmap(),
                      vmin=lo, vmax=hi if hi > lo else lo + 1.0)
    ax.set_xticks(range(len(f2.values)), [f"{v:g}" for v in f2.values])
    ax.set_yticks(range(len(f1.values)), [f"{v:g}" for v in f1.values])
    ax.set_xlabel(axis_label(f2.name, f2.unit, drugs))
    ax.set_ylabel(axis_label(f1.name, f1.unit, drugs))
    fmt = number_format(finite)  # one number format for every cell
    mid = (lo + hi) / 2
    for i in range(grid.shape[0]):
        for j in range(grid.shape[1]):
            v = grid[i, j]
            text = "failed" if not np.isfinite(v) else (">" if cgrid[i, j] else "") + fmt.format(v)
            ax.text(j, i, text, ha="center", va="center", fontsize=7,
                    color="white" if np.isfinite(v) and v < mid else "black")
    fig.colorbar(image, ax=ax, label=axis_label(metric, sweep.metric_units.get(metric, "")))
    note = " ('>': no progression by the end)" if cgrid.any() else ""
    ax.set_title(f"{sweep.name} ({sweep.arms[arm].name}){note}", fontsize=9)
    return fig


def plot_tumor_curves(curves: Sequence[tuple[str, Any, Any, Any]], factor: str, unit: str = "",
                      arms: Sequence[str] | None = None, log_color: bool = False,
                      drugs: Sequence[str] | None = None, note: str = ""):
    """Tumor-volume curves coloured by the value of ``factor`` (choose the varied parameter
    that explains most of the spread: :func:`dominant_factor`).

    ``curves``: ``(arm name, factor value, time, tumor volume)``; one panel per arm.
    """
    from matplotlib.cm import ScalarMappable
    from matplotlib.collections import LineCollection
    arms = list(arms or dict.fromkeys(c[0] for c in curves))
    values = [c[1] for c in curves]
    if not log_color and values and all(isinstance(v, (int, float)) and v > 0 for v in values):
        log_color = max(values) / min(values) >= 20
    norm = _norm(values, log_color)
    cmap = _cmap()
    fig, axes = _figure(1, len(arms), width=4.5, height=3.5)
    for k, arm in enumerate(arms):
        ax = axes[0][k]
        segs = [np.column_stack([t, v]) for a, _, t, v in curves if a == arm]
        cols = [cmap(norm(x)) for a, x, _, _ in curves if a == arm]
        if segs:
            ax.add_collection(LineCollection(segs, colors=cols, linewidths=0.9, alpha=0.85))
            ax.autoscale()
        ax.set_xlabel(axis_label("time_days", "day"))
        ax.set_ylabel(axis_label("tumor_volume", "mm^3"))
        ax.set_title(arm if len(arms) > 1 else f"{len(segs)} samples", fontsize=9)
    from matplotlib.ticker import FuncFormatter
    bar = fig.colorbar(ScalarMappable(norm=norm, cmap=cmap), ax=list(axes[0]), label=axis_label(factor, unit, drugs))
    bar.ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    bar.ax.yaxis.set_minor_formatter(FuncFormatter(lambda v, _: ""))
    if note:
        fig.suptitle(note, fontsize=8)
    return fig


def dominant_factor(factors, values: Sequence[Mapping[str, Any]], finals: Sequence[float]):
    """The factor whose value explains most of the spread of ``finals`` (final tumor volumes,
    one per curve; ``values``: each curve's varied values), by the share of the variance of
    log volume explained by a straight line in the factor (in log for log-scaled factors).
    Returns ``(factor, share)``."""
    y = np.log(np.maximum(np.asarray(finals, dtype=float), 1e-12))
    best, share = factors[0], -1.0
    for f in factors:
        x = np.asarray([float(v.get(f.name, np.nan)) if isinstance(v.get(f.name), (int, float)) else np.nan
                        for v in values])
        if getattr(f, "scale", "") == "log" and np.all(x[np.isfinite(x)] > 0):
            x = np.log(x)
        ok = np.isfinite(x) & np.isfinite(y)
        if ok.sum() < 3 or np.ptp(x[ok]) == 0 or np.ptp(y[ok]) == 0:
            continue
        r2 = float(np.corrcoef(x[ok], y[ok])[0, 1] ** 2)
        if r2 > share:
            best, share = f, r2
    return best, max(share, 0.0)


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
        ax.set_xticks(x, [display_name(n) for n in names], rotation=45, ha="right", fontsize=7)
        ax.axhline(0, color="0.5", lw=0.6)
        ax.set_title(display_name(metric) + (f" ({arm})" if len(results) > 1 else ""), fontsize=9)
        if k == len(cells) - 1:
            _legend_outside(ax)
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


def plot_progression_free(curves: Mapping[str, tuple[Any, Any]],
                          horizon_label: str = "time since first dose (day)"):
    """Kaplan–Meier progression-free curves, one per arm.

    ``curves``: ``{arm: (times, events)}`` with ``events`` False where the patient had not
    progressed by the end of the run (censored at the follow-up time, marked ``+``).
    """
    fig, axes = _figure(width=8.0, height=4.0)
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
    _legend_outside(ax)
    ax.set_title("Progression-free survival (Kaplan–Meier; + = censored at end of run)", fontsize=9)
    return fig
