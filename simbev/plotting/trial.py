"""Figures of a virtual trial: Kaplan–Meier curves with confidence bands and numbers at risk,
waterfall of best response, spider plot of the read-out volume.

Each function takes trial arms (objects with ``name`` and ``patients``: dicts with an
``outcome`` as :func:`simbev.trial.outcomes.patient_outcome` returns it) and returns a
:class:`matplotlib.figure.Figure` (no pyplot state, nothing shown).
"""
from __future__ import annotations

import math

import numpy as np

from ..analysis import survival as sv

__all__ = ["plot_km", "plot_waterfall", "plot_spider", "COLORS", "RESPONSE_COLORS"]

COLORS = ("tab:blue", "tab:red", "tab:green", "tab:purple", "tab:orange", "tab:brown")
RESPONSE_COLORS = {"CR": "tab:green", "PR": "tab:blue", "SD": "0.6", "PD": "tab:red", "NE": "0.85"}


def _figure(width, height, nrows=1, ncols=1, **kw):
    from matplotlib.figure import Figure
    fig = Figure(figsize=(width, height), layout="constrained")
    axes = fig.subplots(nrows, ncols, squeeze=False, **kw)
    return fig, axes


def plot_km(arms, kind: str):
    """Kaplan–Meier curves of ``kind`` (``pfs`` or ``os``) per arm, 95 % bands, censor marks and a
    numbers-at-risk table."""
    title = {"pfs": "Progression-free survival", "os": "Overall survival"}[kind]
    follow = max(max(p["outcome"][f"{kind}_days"] for p in arm.patients) for arm in arms)
    weeks_max = follow / 7.0
    step = 8 if weeks_max <= 60 else 13 if weeks_max <= 110 else 26
    grid_w = np.arange(0, weeks_max + 1e-9, step)
    fig, axes = _figure(7.0, 4.6 + 0.25 * len(arms), nrows=2, ncols=1,
                        gridspec_kw={"height_ratios": [4, 0.45 + 0.3 * len(arms)]})
    ax, table = axes[0, 0], axes[1, 0]
    for k, arm in enumerate(arms):
        color = COLORS[k % len(COLORS)]
        t = np.array([p["outcome"][f"{kind}_days"] for p in arm.patients]) / 7.0
        e = np.array([p["outcome"][f"{kind}_event"] for p in arm.patients], dtype=bool)
        km = sv.kaplan_meier(t, e)
        x, y = km.step("survival")
        _, lo = km.step("lower")
        _, hi = km.step("upper")
        x = np.append(x, t.max())
        y, lo, hi = (np.append(a, a[-1]) for a in (y, lo, hi))
        med = sv.median(km)[0]
        label = f"{arm.name} (n = {len(t)}; median {med:.0f} wk)" if med is not None else \
            f"{arm.name} (n = {len(t)}; median not reached)"
        ax.step(x, y, where="post", color=color, label=label)
        ax.fill_between(x, lo, hi, step="post", color=color, alpha=0.18, linewidth=0)
        cens = t[~e]
        if cens.size:
            ax.plot(cens, [sv.survival_at(km, c)[0] for c in cens], "|", color=color, markersize=7)
        at_risk = sv.numbers_at_risk(t, grid_w)
        for g, n in zip(grid_w, at_risk):
            table.text(g, len(arms) - 1 - k, str(n), ha="center", va="center", color=color, fontsize=8)
    ax.set_xlim(-0.04 * weeks_max, 1.02 * weeks_max)
    ax.set_ylim(0, 1.02)
    ax.axvline(26, color="0.7", linestyle=":", linewidth=1)
    ax.set_xticks(grid_w)
    ax.set_ylabel(f"{title.lower()} (fraction)")
    ax.set_xlabel("weeks since the first dose")
    ax.set_title(f"{title} (Kaplan–Meier)\nshaded: 95 % interval (Greenwood, log-log); | censored; "
                 "dotted line: 26 weeks", fontsize=9)
    ax.legend(fontsize=8, loc="upper right")
    table.set_xlim(-0.04 * weeks_max, 1.02 * weeks_max)
    table.set_ylim(-0.5, len(arms) - 0.5)
    table.set_yticks(range(len(arms)))
    table.set_yticklabels([a.name for a in reversed(arms)], fontsize=8)
    table.set_xticks([])
    for side in ("top", "right", "bottom"):
        table.spines[side].set_visible(False)
    table.set_title("number at risk", fontsize=8, loc="left")
    return fig


def plot_waterfall(arms, criteria):
    """Best change of the read-out volume from baseline, one bar per patient, per arm."""
    fig, axes = _figure(7.0, 2.8 * len(arms), nrows=len(arms), ncols=1)
    pr = -100 * criteria["partial_response_decrease"]
    pd = 100 * criteria["progression_increase"]
    for ax, arm in zip(axes[:, 0], arms):
        rows = sorted(((100 * p["outcome"]["best_change"], p["outcome"]["best_response"]) for p in arm.patients
                       if p["outcome"]["best_change"] is not None and math.isfinite(p["outcome"]["best_change"])),
                      reverse=True)
        vals = [min(v, 150.0) for v, _ in rows]
        ax.bar(range(len(rows)), vals, color=[RESPONSE_COLORS[c] for _, c in rows], width=1.0)
        ax.axhline(pr, color="tab:blue", linestyle="--", linewidth=0.8)
        ax.axhline(pd, color="tab:red", linestyle="--", linewidth=0.8)
        ax.axhline(0, color="k", linewidth=0.5)
        counts = {c: sum(1 for _, r in rows if r == c) for c in ("CR", "PR", "SD", "PD")}
        ax.set_title(f"{arm.name}: best change from baseline (n = {len(rows)}; "
                     + ", ".join(f"{c} {n}" for c, n in counts.items()) + ")", fontsize=9)
        ax.set_ylabel("best change [%]")
        ax.set_xticks([])
        ax.set_xlim(-0.5, max(len(rows), 1) - 0.5)
        ax.set_ylim(-105, 155)
        from matplotlib.patches import Patch
        handles = [Patch(color=RESPONSE_COLORS[c], label=f"best response {c} (confirmed)" if c in ("CR", "PR")
                         else f"best response {c}") for c in ("CR", "PR", "SD", "PD")]
        handles += [ax.plot([], [], "--", color="tab:blue", label=f"partial response ({pr:.0f} %)")[0],
                    ax.plot([], [], "--", color="tab:red", label=f"+{pd:.0f} % (progression is measured from "
                                                                    "the nadir)")[0]]
        ax.legend(handles=handles, fontsize=7, loc="upper right", ncol=2)
    axes[-1, 0].set_xlabel("patients, ordered by best change (bars above 150 % are cut)")
    return fig


def plot_spider(arms, readout: str, max_patients: int = 120):
    """Change of the read-out volume from baseline at each scan, one line per patient, until
    progression (the last point is the progression scan)."""
    fig, axes = _figure(7.0, 3.0 * len(arms), nrows=len(arms), ncols=1, sharex=True)
    for ax, arm in zip(axes[:, 0], arms):
        shown = arm.patients[:max_patients]
        for p in shown:
            o = p["outcome"]
            days = np.array(o["scan_days"])
            change = 100 * np.array(o["scan_change"], dtype=float)
            if o["progression_day"] is not None:
                keep = days <= o["progression_day"] + 1e-9
                days, change = days[keep], change[keep]
            ax.plot(days / 7.0, np.minimum(change, 200), color=RESPONSE_COLORS[o["best_response"]], linewidth=0.7,
                    alpha=0.7)
        ax.axhline(0, color="k", linewidth=0.5)
        ax.axhline(-65, color="tab:blue", linestyle="--", linewidth=0.8)
        ax.set_ylim(-105, 205)
        ax.set_ylabel("change from baseline [%]")
        ax.set_title(f"{arm.name}: {readout.replace('_', ' ')} at each scan until progression "
                     f"({len(shown)} of {len(arm.patients)} patients)\ncolour = best response: green CR, blue PR, "
                     "grey SD, red PD; dashed: partial response (-65 %)", fontsize=8)
    axes[-1, 0].set_xlabel("weeks since the first dose")
    return fig
