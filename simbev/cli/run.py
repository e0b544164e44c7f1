"""``simbev run``: simulate one scenario; write timeseries.csv, summary.json and figures."""
from __future__ import annotations

import dataclasses
import json
import os
from pathlib import Path

from . import common
from .common import EXIT_OK

__all__ = ["add_subcommand", "cmd_run", "summary", "write_run"]


def add_subcommand(subparsers):
    """Add ``simbev run`` to an argparse ``subparsers`` object; return its parser."""
    p = subparsers.add_parser("run", help="simulate one scenario",
                              description="Simulate one scenario; write timeseries.csv, summary.json and figures.")
    p.add_argument("scenario", metavar="SCENARIO.yaml")
    p.add_argument("--out", metavar="DIR", help="output directory (default results/<scenario name>/)")
    p.set_defaults(func=cmd_run)
    return p


def summary(scenario, result, scenario_file: str | None = None) -> dict:
    """The content of ``summary.json`` for ``result`` of ``scenario``."""
    from ..analysis import metrics
    meta = result.metadata
    return common.json_safe({
        "scenario": scenario.name,
        "description": scenario.description,
        "species": scenario.species,
        "scenario_file": str(scenario_file) if scenario_file else scenario.source,
        "simbev_version": meta["simbev_version"],
        "duration_days": scenario.duration_days,
        "output_every_days": scenario.output_every_days,
        "parameter_overrides": dict(scenario.parameters),
        "initial_condition_overrides": dict(scenario.initial_conditions),
        "treatments": [{k: v for k, v in dataclasses.asdict(r).items() if k != "index"}
                       for r in scenario.treatments],
        "response_metrics": result.metrics(),
        "response_metric_units": {**{k: metrics.METRICS[k].unit for k in metrics.RESPONSE_METRICS},
                                  "treatment_start_day": "day"},
        "progression_margin": metrics.PROGRESSION_MARGIN,
        "progression_definition": metrics.METRICS["time_to_progression"].description,
        "bev_mass_balance_residual": result.bev_mass_balance_residual(),
        "doses": meta["doses"],
        "dropped_doses": meta["dropped_doses"],
        "solver": meta["solver"],
        "solver_statistics": meta["solver_statistics"],
        "parameters": meta["parameters"],
        "units": meta["units"],
    })


def write_run(scenario, result, directory: Path, scenario_file: str | None = None) -> list[str]:
    """Write the outputs of one run into ``directory`` (which must exist); return file names."""
    from ..plotting import run as plotting
    plt = common.pyplot()
    directory = Path(directory)
    result.to_csv(directory / "timeseries.csv")
    with open(directory / "summary.json", "w", encoding="utf-8") as fh:
        json.dump(summary(scenario, result, scenario_file), fh, indent=2, allow_nan=False)
        fh.write("\n")
    ax = plotting.plot_tumor_burden(result)
    common.save(ax.figure, directory / "tumor_burden.png")
    common.save(plotting.plot_compartments(result), directory / "compartments.png")
    plt.close("all")
    return ["timeseries.csv", "summary.json", "tumor_burden.png", "compartments.png"]


def cmd_run(args) -> int:
    """Handler of ``simbev run``."""
    scenario = common.load(args.scenario)
    result = common.simulate(scenario)
    out = Path(args.out) if args.out else Path("results") / scenario.name
    common.staged(out, lambda d: write_run(scenario, result, d, args.scenario))
    print(f"wrote {out}{os.sep} (timeseries.csv, summary.json, tumor_burden.png, compartments.png)")
    return EXIT_OK
