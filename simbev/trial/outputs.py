"""Files of a virtual trial: ``patients.csv``, ``summary.json`` and figures.

Figures use :class:`matplotlib.figure.Figure` directly (no pyplot state, nothing shown).
"""
from __future__ import annotations

import csv
import json
import math
import os
import shutil
import tempfile
from pathlib import Path

import numpy as np

from ..analysis import survival as sv
from .statistics import STATISTICS

__all__ = ["write_trial", "summary_record", "plot_km", "plot_waterfall", "plot_spider"]

COLORS = ("tab:blue", "tab:red", "tab:green", "tab:purple", "tab:orange", "tab:brown")
RESPONSE_COLORS = {"CR": "tab:green", "PR": "tab:blue", "SD": "0.6", "PD": "tab:red", "NE": "0.85"}
OUTCOME_COLUMNS = ("baseline_volume", "best_response", "best_change", "pfs_days", "pfs_event", "os_days", "os_event",
                   "progression_day", "death_day", "doubling_days", "tam_share")


def _clean(obj):
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, (np.floating, np.integer)):
        return _clean(obj.item())
    if isinstance(obj, dict):
        return {str(k): _clean(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_clean(v) for v in obj]
    return obj


def _regimen(scenario) -> list[dict]:
    out = []
    for r in scenario.treatments:
        out.append({"drug": r.drug, "dose": f"{r.dose[0]:g} {r.dose[1]}", "route": r.route, "start_day": r.start_day,
                    "every_days": r.every_days, "doses": r.doses, "stop_day": r.stop_day,
                    "infusion_hours": r.infusion_hours})
    return out


def summary_record(arms, population: dict) -> dict:
    """The content of ``summary.json``."""
    from .. import __version__
    from .population import model_fingerprint

    d = population["design"]
    arm_records = []
    for arm in arms:
        rec = {"arm": arm.name, "scenario_file": arm.source, "regimen": _regimen(arm.scenario),
               "n_patients": arm.stats["n_patients"], "n_failed": len(arm.failed)}
        for name in STATISTICS:
            rec[name] = arm.stats[name]
        arm_records.append(rec)
    record = {
        "population": population["name"], "population_file": population.get("path"),
        "model_version": {"simbev": __version__, "model_fingerprint": model_fingerprint()},
        "readout": arm_records and arms[0].patients[0]["outcome"]["readout"],
        "design": {"run_in_days": d["run_in_days"], "follow_up_days": d["follow_up_days"],
                   "assess_every_days": d["assess_every_days"], "lethal_volume_mm3": d["lethal_volume_mm3"],
                   "lethal_volume_source": d.get("lethal_volume_source"), "criteria": d["criteria"]},
        "intervals": "95 %: Clopper-Pearson for proportions; Kaplan-Meier with Greenwood variance (log-log) "
                     "for survival at 6 months; Brookmeyer-Crowley for medians (null = not reached)",
        "arms": arm_records,
    }
    if len(arms) == 1:
        record.update({k: v for k, v in arm_records[0].items() if k != "arm"})
    return _clean(record)


def _write_csv(path: Path, arms) -> None:
    several = len(arms) > 1
    pnames = list(dict.fromkeys(k for arm in arms for p in arm.patients for k in p["parameters"]))
    cnames = list(dict.fromkeys(k for arm in arms for p in arm.patients for k in p["covariates"]))
    header = (["arm"] if several else []) + ["id"] + pnames + cnames + list(OUTCOME_COLUMNS)
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        for arm in arms:
            for p in arm.patients:
                o = p["outcome"]
                row = ([arm.name] if several else []) + [p["id"]]
                row += [_cell(p["parameters"].get(k)) for k in pnames]
                row += [_cell(p["covariates"].get(k)) for k in cnames]
                row += [_cell(o.get(k)) for k in OUTCOME_COLUMNS]
                w.writerow(row)


def _cell(v):
    if v is None:
        return ""
    if isinstance(v, bool):
        return int(v)
    if isinstance(v, float):
        return "" if not math.isfinite(v) else repr(v)
    return v


# --- figures ---------------------------------------------------------------------------------------

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


def _save(fig, path: Path) -> None:
    fig.savefig(path, dpi=110)


def write_trial(out: Path, arms, population: dict) -> list[str]:
    """Write every file into a temporary directory next to ``out``, then move them in (so a
    failure leaves nothing half-written). Returns the file names."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        _write_csv(tmp / "patients.csv", arms)
        summary = summary_record(arms, population)
        (tmp / "summary.json").write_text(json.dumps(summary, indent=1, allow_nan=False) + "\n", encoding="utf-8")
        readout = summary["readout"]
        _save(plot_km(arms, "pfs"), tmp / "km_pfs.png")
        _save(plot_km(arms, "os"), tmp / "km_os.png")
        _save(plot_waterfall(arms, population["design"]["criteria"]), tmp / "waterfall.png")
        _save(plot_spider(arms, readout), tmp / "spider.png")
        names = sorted(p.name for p in tmp.iterdir())
        out.mkdir(parents=True, exist_ok=True)
        for name in names:
            os.replace(tmp / name, out / name)
        return names
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
