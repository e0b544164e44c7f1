"""Figures from Results. Functions return matplotlib Figures or Axes and never call ``show()``.

The backend is left to the caller: this module imports pyplot only inside functions and
never calls ``matplotlib.use`` (the CLI selects Agg before it plots). Figures are created
through pyplot, so in a notebook they display as usual; scripts that make many figures should
``plt.close(fig)`` after saving.
"""
from __future__ import annotations

from typing import Mapping, Sequence

import numpy as np

from ..analysis import metrics as _metrics
from .labels import axis_label, unit_text

DRUG_STYLE = {
    "bevacizumab": {"color": "#d62728", "label": "bevacizumab dose"},
    "mtor_inhibitor": {"color": "#1f77b4", "label": "mTOR inhibitor dose"},
}
NORMOXIC_COLOR = "#f4a582"
HYPOXIC_COLOR = "#5e3c99"


def unit_label(unit: str) -> str:
    """A unit string as printed on an axis: ``mm^3`` -> mm³, ``1e6 cells`` -> 10⁶ cells,
    ``1`` -> dimensionless."""
    if unit in ("1", ""):
        return "dimensionless"
    out = unit.replace("1e6 ", "10$^{6}$ ")
    out = out.replace("^3", "$^{3}$").replace("^2", "$^{2}$")
    return out


def _axis_label(name: str, unit: str) -> str:
    """Label of an axis showing output ``name`` (a key of the registry in :mod:`.labels`)."""
    return axis_label(name, unit)


def _legend_outside(ax, **kw):
    """A legend to the right of ``ax``, outside the axes, so it never covers data."""
    kw.setdefault("fontsize", "small")
    return ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0.0, frameon=False, **kw)


def _pyplot():
    import matplotlib.pyplot as plt
    return plt


def mark_doses(ax, doses, drugs: Sequence[str] | None = None, legend: bool = True):
    """Mark dose times on ``ax`` as a row of ticks per drug along the top edge.

    Ticks sit in axes coordinates (they do not depend on the data scale), one row per drug,
    red for bevacizumab and blue for the mTOR inhibitor. Returns the artists added.
    """
    import matplotlib.transforms as mtransforms

    trans = mtransforms.blended_transform_factory(ax.transData, ax.transAxes)
    drugs = list(drugs) if drugs is not None else [d for d in DRUG_STYLE if any(e.drug == d for e in doses)]
    artists = []
    for row, drug in enumerate(drugs):
        times = [e.time for e in doses if e.drug == drug]
        if not times:
            continue
        style = DRUG_STYLE.get(drug, {"color": "k", "label": f"{drug} dose"})
        y = 0.97 - 0.05 * row
        n = len(times)
        (line,) = ax.plot(times, [y] * n, linestyle="none", marker="|", markersize=9, markeredgewidth=1.6,
                          color=style["color"], transform=trans, clip_on=False,
                          label=f"{style['label']} (n={n})" if legend else None)
        artists.append(line)
    return artists


def plot_tumor_burden(result, ax=None, logy: bool = False, metrics: Mapping | None = None):
    """Tumour volume (mm³) against days: normoxic and hypoxic cells stacked, the total as a
    line, doses as tick marks per drug along the top, the on-treatment nadir and (if any) the
    progression time marked. ``metrics``: the response metrics to mark (default
    ``result.metrics``; pass those of the table's output grid when ``result`` is a denser
    re-run for drawing, so figure and table agree). Returns the Axes."""
    plt = _pyplot()
    if ax is None:
        _, ax = plt.subplots(figsize=(10, 4.8), layout="constrained")
    units = result.units
    t = result.time
    n, h = result["tumor_normoxic"], result["tumor_hypoxic"]
    ax.stackplot(t, n, h, colors=[NORMOXIC_COLOR, HYPOXIC_COLOR], alpha=0.8,
                 labels=["normoxic cells", "hypoxic cells"])
    ax.plot(t, result["tumor_volume"], color="k", lw=1.5, label="total tumor volume")

    m = result.metrics if metrics is None else metrics
    start = m.get("treatment_start_day")
    if start is not None:
        nadir_day, nadir = m["nadir_day"], m["min_tumor_volume"]
        ax.plot([nadir_day], [nadir], marker="o", ms=7, mfc="white", mec="k", linestyle="none",
                label=f"on-treatment nadir: day {nadir_day:g} of the run")
    ttp = m.get("time_to_progression")
    if ttp is not None:
        t_prog = start + ttp
        ax.plot([t_prog], [_metrics.value_at(result, "tumor_volume", t_prog)], marker="X", ms=10,
                color="k", linestyle="none",
                label=f"progression (+{_metrics.PROGRESSION_MARGIN:.0%} over nadir):\n"
                      f"day {t_prog:g} of the run = {ttp:g} days after the first dose")
    mark_doses(ax, result.doses)

    ax.set_xlabel(_axis_label("time_days", units["time_days"]))
    ax.set_ylabel(_axis_label("tumor_volume", units["tumor_volume"]))
    ax.set_xlim(t[0], t[-1])
    if logy:
        ax.set_yscale("log")
    else:
        ax.set_ylim(bottom=0, top=float(np.nanmax(result["tumor_volume"])) * 1.15)
    ax.set_title(f"{result.scenario_name}: tumor burden (ticks on top: dose times)", pad=14)
    _legend_outside(ax)
    ax.grid(alpha=0.3)
    return ax


# Panels of plot_compartments: (title, [(output, label), ...], log scale?)
_PANELS = (
    ("Tumor cells", [("tumor_normoxic", "normoxic"), ("tumor_hypoxic", "hypoxic"),
                      ("tumor_volume", "total")], False),
    ("Vasculature", [("vessel_capacity", "vessel capacity"), ("tumor_volume", "tumor volume")], False),
    ("VEGF and MIF (free)", [("vegf", "VEGF"), ("mif", "MIF")], True),
    ("Macrophages", [("macrophage_m1", "M1"), ("macrophage_m2", "M2")], False),
    ("Glucose and lactate", [("glucose", "glucose"), ("lactate", "lactate")], False),
    ("mTOR and GLUT2 (normoxic cells)", [("mtor_activity", "mTOR activity"), ("glut2", "GLUT2")], False),
    ("Bevacizumab (free)", [("bev_central", "central (plasma)"), ("bev_peripheral", "peripheral")], False),
    ("Bevacizumab complexes (tumor)", [("bev_vegf", "bev-VEGF"), ("bev_mif", "bev-MIF")], False),
    ("mTOR inhibitor", [("mtori_central", "plasma"), ("mtori_depot", "gut depot")], False),
)


_QUANTITY = {"mm^3": "volume", "nM": "concentration", "mM": "concentration", "1": "level",
             "1e6 cells": "count", "nmol": "amount"}


def compartment_panels(result) -> list[tuple[str, list[tuple[str, str]], bool]]:
    """The panels :func:`plot_compartments` draws for ``result``: those of a drug that was not
    given are left out."""
    given = {d.drug for d in result.doses}
    keep = []
    for title, series, log in _PANELS:
        drug = ("mtor_inhibitor" if title.lower().startswith("mtor inhibitor")
                else "bevacizumab" if title.lower().startswith("bevacizumab") else None)
        if drug is None or drug in given:
            keep.append((title, series, log))
    return keep


def plot_compartments(result, figsize=None):
    """One panel per process: tumor cells, vasculature, VEGF and MIF, macrophages, glucose and
    lactate, mTOR and GLUT2, free bevacizumab, bevacizumab complexes, mTOR inhibitor (panels of
    drugs not given are left out). Every axis is labelled with its unit (from ``result.units``);
    series of different units in one panel get a second y axis; each panel's legend sits above
    it (outside the data); every panel has the dose times as ticks along its top edge.

    Pass a result sampled finer than the dosing interval (:func:`simbev.simulation.dense`; the
    command line does), or oral daily doses alias. Returns the Figure."""
    plt = _pyplot()
    units = result.units
    panels = compartment_panels(result)
    ncols = 3
    nrows = -(-len(panels) // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=figsize or (14, 3.9 * nrows), sharex=True,
                             layout="constrained", squeeze=False)
    colors = ["#1f77b4", "#d95f02", "0.3"]  # dark enough on white; a dashed grey for totals
    t = result.time
    for ax, (title, series, log) in zip(axes.flat, panels):
        first_unit = units[series[0][0]]
        twin = None
        handles = []
        for k, (name, label) in enumerate(series):
            y = np.asarray(result[name], dtype=float)
            style = {"color": colors[k % len(colors)], "lw": 1.5}
            if name == "tumor_volume" and len(series) > 1:
                style.update(color="0.3", ls="--", lw=1.2)
            target = ax
            if units[name] != first_unit:
                if twin is None:
                    twin = ax.twinx()
                    twin.set_ylabel(axis_label(name, units[name]), color=style["color"])
                    twin.tick_params(axis="y", colors=style["color"])
                target = twin
            handles += target.plot(t, y, label=label, **style)
        if twin is not None:  # two units: each axis names its own series, in its colour
            ax.set_ylabel(axis_label(series[0][0], first_unit), color=handles[0].get_color())
            ax.tick_params(axis="y", colors=handles[0].get_color())
        else:
            quantity, u = _QUANTITY.get(first_unit, "value"), unit_text(first_unit)
            ax.set_ylabel(f"{quantity} ({u})" if u else quantity)
        if log:
            positive = [result[name][result[name] > 0] for name, _ in series]
            ymin = min((float(np.min(p)) for p in positive if p.size), default=1.0)
            ax.set_yscale("log")
            ax.set_ylim(bottom=ymin / 2, top=ax.get_ylim()[1] * 3)  # headroom for the dose ticks
        else:
            for a in (ax, twin):
                if a is not None:  # a line at 0 stays visible; headroom for the dose ticks
                    top = a.get_ylim()[1]
                    top = top if top > 0 else 1.0
                    a.set_ylim(-0.03 * top, top * 1.15)
        mark_doses(ax, result.doses, legend=False)
        ax.legend(handles=handles, title=title, fontsize="small", title_fontsize="medium",
                  loc="lower center", bbox_to_anchor=(0.5, 1.0), ncols=len(handles), frameon=False,
                  borderaxespad=0.2)
        ax.grid(alpha=0.3)
        ax.set_xlim(t[0], t[-1])
    for ax in axes.flat[len(panels):]:
        fig.delaxes(ax)
    for k, ax in enumerate(axes.flat[:len(panels)]):
        if k + ncols >= len(panels):  # the lowest panel of each column
            ax.set_xlabel(_axis_label("time_days", units["time_days"]))
            ax.tick_params(labelbottom=True)
    given = [DRUG_STYLE[d]["label"].replace(" dose", "") + (" red" if d == "bevacizumab" else " blue")
             for d in DRUG_STYLE if any(e.drug == d for e in result.doses)]
    note = f" (ticks along the top of each panel: dose times, {', '.join(given)})" if given else " (no doses given)"
    fig.suptitle(f"{result.scenario_name}: model compartments{note}")
    return fig


def treatment_windows(result) -> list[tuple[str, float, float]]:
    """``(drug, first dose, end of last dose)`` for each drug given, for shading."""
    out = []
    for drug in DRUG_STYLE:
        ds = [d for d in result.doses if d.drug == drug]
        if ds:
            out.append((drug, min(d.time for d in ds), max(d.end for d in ds)))
    return out


def plot_comparison(results: Sequence, metrics: Sequence[Mapping] | None = None,
                    logy: bool = True, labels: Sequence[str] | None = None):
    """Resistance curves: tumor volume against days for several arms.

    The main panel has one line per arm; the union of all treatment windows (first to last
    dose of any drug in any arm) is shaded; each arm's on-treatment nadir is an open circle
    and its progression (``time_to_progression`` in ``metrics``, days since its first dose,
    +40 % over the running nadir) an ``X`` on its curve. A strip below shows each arm's
    schedule, one row per arm, a tick per dose (red bevacizumab, blue mTOR inhibitor).

    Parameters
    ----------
    results : sequence of Result
    metrics : sequence of mappings, optional
        Per arm, as returned by :meth:`simbev.Result.metrics` (taken from the results if omitted).
    logy : bool
        Logarithmic volume axis (default), so that shrinkage and regrowth of arms of very
        different sizes are all visible.
    labels : sequence of str, optional
        Legend labels (default: the scenario names).

    Returns the Figure.
    """
    plt = _pyplot()
    results = list(results)
    if not results:
        raise ValueError("plot_comparison needs at least one result")
    if metrics is None:
        metrics = [r.metrics for r in results]
    labels = list(labels) if labels is not None else [r.scenario_name for r in results]
    n = len(results)
    fig, (ax, strip) = plt.subplots(
        2, 1, sharex=True, figsize=(12, 5.5 + 0.28 * n), layout="constrained",
        gridspec_kw={"height_ratios": [5.0, 0.45 + 0.28 * n]})
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    units = results[0].units

    spans = sorted((s, e) for r in results for _, s, e in treatment_windows(r))
    merged: list[list[float]] = []
    for s, e in spans:
        if merged and s <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], e)
        else:
            merged.append([s, e])
    for k, (s, e) in enumerate(merged):
        for a in (ax, strip):
            a.axvspan(s, e, color="0.9", lw=0, zorder=0,
                      label="on treatment (any arm)" if k == 0 and a is ax else None)

    marker_handles = {}
    for i, (r, m, label) in enumerate(zip(results, metrics, labels)):
        c = colors[i % len(colors)]
        ax.plot(r.time, r["tumor_volume"], color=c, lw=1.8, label=label)
        if m.get("treatment_start_day") is not None and m.get("min_tumor_volume") is not None:
            (h,) = ax.plot([m["nadir_day"]], [m["min_tumor_volume"]], marker="o", ms=7, mfc="white",
                           mec=c, mew=1.5, linestyle="none", zorder=4)
            marker_handles.setdefault("nadir", h)
        ttp = m.get("time_to_progression")
        if ttp is not None:
            t0 = m.get("treatment_start_day")
            t_prog = (float(r.time[0]) if t0 is None else t0) + ttp
            (h,) = ax.plot([t_prog], [_metrics.value_at(r, "tumor_volume", t_prog)], marker="X", ms=10,
                           color=c, mec="k", mew=0.7, linestyle="none", zorder=5)
            marker_handles.setdefault("progression", h)
        y = n - 1 - i
        for drug, style in DRUG_STYLE.items():
            times = [d.time for d in r.doses if d.drug == drug]
            if times:
                off = -0.18 if drug == "bevacizumab" else 0.18
                strip.plot(times, [y + off] * len(times), linestyle="none", marker="|", ms=7, mew=1.4,
                           color=style["color"])
        if not r.doses:
            strip.text(0.005, y, "(no doses)", transform=strip.get_yaxis_transform(), va="center",
                       fontsize="x-small", color="0.4")

    # legend: arms first, then the markers (in neutral colours)
    handles, texts = ax.get_legend_handles_labels()
    from matplotlib.lines import Line2D
    if "nadir" in marker_handles:
        handles.append(Line2D([], [], marker="o", mfc="white", mec="k", linestyle="none"))
        texts.append("on-treatment nadir")
    if "progression" in marker_handles:
        handles.append(Line2D([], [], marker="X", color="0.5", mec="k", ms=9, linestyle="none"))
        texts.append(f"progression (+{_metrics.PROGRESSION_MARGIN:.0%} over running nadir)")
    _legend_outside(ax, handles=handles, labels=texts)

    ax.set_ylabel(_axis_label("tumor_volume", units["tumor_volume"]))
    if logy:
        ax.set_yscale("log")
    else:
        ax.set_ylim(bottom=0)
    ax.set_xlim(min(r.time[0] for r in results), max(r.time[-1] for r in results))
    ax.set_title("Resistance curves: tumor volume per arm", fontsize="medium")
    ax.grid(alpha=0.3, which="both" if not logy else "major")

    strip.set_yticks(range(n), labels[::-1], fontsize="x-small")
    for tick, i in zip(strip.get_yticklabels(), range(n - 1, -1, -1)):
        tick.set_color(colors[i % len(colors)])
    strip.set_ylim(-0.6, n - 0.4)
    strip.set_xlabel(_axis_label("time_days", units["time_days"]))
    strip.set_title("doses (red: bevacizumab, blue: mTOR inhibitor)", fontsize="x-small", loc="left")
    strip.grid(axis="x", alpha=0.3)
    return fig
