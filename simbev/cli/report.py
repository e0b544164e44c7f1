"""What ``simbev run`` and ``simbev compare`` tell the user: the headline metrics with units,
the metrics table written as CSV with its schema, and warnings about doses past the end."""
from __future__ import annotations

import sys
from pathlib import Path
from typing import Sequence

from . import common

__all__ = ["HEADLINE", "headline_table", "metric_columns", "write_metrics_csv", "warn_dropped_doses"]

#: Metrics printed at the end of ``simbev run`` (a short table; summary.json holds them all).
HEADLINE = ("final_tumor_volume", "min_tumor_volume", "nadir_day", "treatment_start_day",
            "time_to_progression", "progression_day", "m2_m1_ratio_end")


def _unit(name: str) -> str:
    from ..analysis import metrics
    return metrics.METRICS[name].unit if name in metrics.METRICS else "day"


_SHORT = {"final_tumor_volume": "tumor volume at the end of the run",
          "min_tumor_volume": "on-treatment nadir (whole run if untreated)",
          "nadir_day": "day of the run of the nadir",
          "treatment_start_day": "day of the run of the first dose",
          "time_to_progression": "days since treatment start to +40 % over the running nadir",
          "progression_day": "day of the run of progression",
          "m2_m1_ratio_end": "M2:M1 macrophage ratio at the end"}


def _meaning(name: str, short: bool = False) -> str:
    from ..analysis import metrics
    if short and name in _SHORT:
        return _SHORT[name]
    if name == "treatment_start_day":
        return "day of the run of the first applied dose; empty if untreated"
    return metrics.METRICS[name].description


def headline_table(values: dict) -> str:
    """``metric  value  unit  meaning`` for the :data:`HEADLINE` metrics in ``values``."""
    rows = [[n, common.fmt(values.get(n)), _unit(n), _meaning(n, short=True)] for n in HEADLINE if n in values]
    return common.table(rows, ["metric", "value", "unit", "meaning (- : never, or untreated)"])


def metric_columns(names: Sequence[str]):
    """Table Schema columns of ``metrics.csv``: arm, scenario file, species, then each metric."""
    from ..formats.tables import Column
    return [Column("arm", "", "arm name (the scenario's name)", "string"),
            Column("scenario_file", "", "the scenario file of the arm", "string"),
            Column("species", "", "parameter set (mouse or human)", "string"),
            *(Column(n, _unit(n), _meaning(n)) for n in names)]


def write_metrics_csv(path: Path, labels, files, scenarios, table, names) -> Path:
    """``metrics.csv`` (one row per arm, header first) and ``metrics.schema.json``."""
    from ..formats.tables import write_table
    rows = [[label, str(f), s.species, *(m.get(n) for n in names)]
            for label, f, s, m in zip(labels, files, scenarios, table)]
    return write_table(path, metric_columns(names), rows, title="response metrics per arm",
                       description="empty: the event never happened (e.g. no progression) or needs a treatment")


def warn_dropped_doses(command: str, scenario, result) -> None:
    """One warning line on stderr for each regimen with doses after the end of the run."""
    by_regimen: dict[int, list] = {}
    for d in result.dropped_doses:
        by_regimen.setdefault(d.regimen, []).append(d)
    for idx, doses in sorted(by_regimen.items()):
        days = ", ".join(common.fmt(d.time) for d in doses)
        which = f"treatments[{idx}] ({doses[0].drug})" if idx >= 0 else doses[0].drug
        print(f"simbev {command}: warning: {scenario.name}: {which}: {len(doses)} dose(s) on day {days} "
              f"after the end of the run (day {common.fmt(scenario.duration_days)}) not given",
              file=sys.stderr)
