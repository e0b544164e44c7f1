"""Files of a virtual trial: ``patients.csv``, ``summary.json`` and figures
(:mod:`simbev.plotting.trial`)."""
from __future__ import annotations

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


#: unit, meaning and Table Schema type of the per-patient outcome columns of ``patients.csv``
OUTCOME_FIELDS = {
    "baseline_volume": ("mm^3", "read-out volume at the start of treatment (the response baseline)", "number"),
    "best_response": ("", "best confirmed response: CR, PR, SD or PD (volumetric Macdonald/RANO analogue)", "string"),
    "best_change": ("1", "relative change of the read-out volume from baseline at the best response", "number"),
    "pfs_days": ("day", "progression-free survival: days since the first dose to progression, death or censoring",
                 "number"),
    "pfs_event": ("", "1 = progression or death observed, 0 = censored at the end of follow-up", "integer"),
    "os_days": ("day", "overall survival: days since the first dose to death or censoring", "number"),
    "os_event": ("", "1 = death (lethal tumor burden) observed, 0 = censored", "integer"),
    "progression_day": ("day", "days since the first dose at progression (empty if none)", "number"),
    "death_day": ("day", "days since the first dose at death (empty if none)", "number"),
    "doubling_days": ("day", "untreated volume doubling time in the run-in", "number"),
    "tam_share": ("1", "tumor-associated macrophages as a share of cells before treatment", "number"),
}
assert tuple(OUTCOME_FIELDS) == OUTCOME_COLUMNS
#: unit, meaning and type of the sampled covariates (Han 2016's pharmacokinetic covariates, VEGFA status)
COVARIATE_FIELDS = {
    "weight_kg": ("kg", "body weight", "number"),
    "sex": ("", "sex (F or M)", "string"),
    "vegf_negative": ("", "1 = tumor without VEGFA expression (Garcia-Romero 2020 share), 0 = with", "integer"),
}


def _write_csv(path: Path, arms) -> None:
    from ..formats.tables import Column, write_table
    from ..parameters import load_parameter_set
    records = load_parameter_set("human").records
    several = len(arms) > 1
    pnames = list(dict.fromkeys(k for arm in arms for p in arm.patients for k in p["parameters"]))
    cnames = list(dict.fromkeys(k for arm in arms for p in arm.patients for k in p["covariates"]))
    columns = ([Column("arm", "", "trial arm (scenario name)", "string")] if several else [])
    columns += [Column("id", "", "patient identifier in the population", "string")]
    columns += [Column(k, records[k].unit if k in records else "", "sampled patient parameter") for k in pnames]
    columns += [Column(k, *COVARIATE_FIELDS.get(k, ("", "patient covariate", "number"))) for k in cnames]
    columns += [Column(k, *OUTCOME_FIELDS[k]) for k in OUTCOME_COLUMNS]
    rows = []
    for arm in arms:
        for p in arm.patients:
            o = p["outcome"]
            row = ([arm.name] if several else []) + [p["id"]]
            row += [_cell(p["parameters"].get(k)) for k in pnames]
            row += [_cell(p["covariates"].get(k)) for k in cnames]
            row += [_cell(o.get(k)) for k in OUTCOME_COLUMNS]
            rows.append(row)
    write_table(path, columns, rows, title="patients", description="one row per virtual patient and arm")


def _cell(v):
    if v is None:
        return None
    if isinstance(v, bool):
        return int(v)
    if isinstance(v, float) and not math.isfinite(v):
        return None
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
