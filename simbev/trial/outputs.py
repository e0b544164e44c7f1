"""Files of a virtual trial: ``patients.csv``, ``summary.json`` and figures
(:mod:`simbev.plotting.trial`)."""
from __future__ import annotations

import csv
import json
import math
import os
import shutil
import tempfile
from pathlib import Path

import numpy as np

from ..plotting.trial import plot_km, plot_spider, plot_waterfall
from .statistics import STATISTICS

__all__ = ["write_trial", "summary_record"]
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
