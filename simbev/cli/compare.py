"""``simbev compare``: run several scenarios; write comparison.png and metrics.csv."""
from __future__ import annotations

import csv
import os
from pathlib import Path

from . import common
from .common import EXIT_OK

__all__ = ["add_subcommand", "cmd_compare"]


def add_subcommand(subparsers):
    """Add ``simbev compare`` to an argparse ``subparsers`` object; return its parser."""
    p = subparsers.add_parser("compare", help="several arms, one resistance-curve figure",
                              description="Run several scenarios; write comparison.png and metrics.csv.")
    p.add_argument("scenarios", nargs="+", metavar="SCENARIO.yaml")
    p.add_argument("--out", metavar="DIR", help="output directory (default results/compare/)")
    p.set_defaults(func=cmd_compare)
    return p


def cmd_compare(args) -> int:
    """Handler of ``simbev compare``."""
    from ..analysis import metrics
    from ..plotting import run as plotting
    plt = common.pyplot()
    scenarios = [common.load(p) for p in args.scenarios]  # all inputs checked before any run
    results = [common.simulate(s) for s in scenarios]
    table = [r.metrics() for r in results]  # computed once per result, shared with the figure
    labels = [s.name for s in scenarios]
    if len(set(labels)) < len(labels):  # disambiguate arms of the same name by their file
        labels = [f"{s.name} ({Path(p).name})" for s, p in zip(scenarios, args.scenarios)]
    names = list(table[0]) if table else list(metrics.RESPONSE_METRICS)
    out = Path(args.out) if args.out else Path("results") / "compare"

    def write(d: Path):
        with open(d / "metrics.csv", "w", newline="", encoding="utf-8") as fh:
            fh.write("# units: " + ", ".join(
                f"{n} [{metrics.METRICS[n].unit if n in metrics.METRICS else 'day'}]" for n in names)
                + f"; time_to_progression: +{metrics.PROGRESSION_MARGIN:.0%} over running nadir, "
                  "days since first dose, empty if never\n")
            w = csv.writer(fh)
            w.writerow(["arm", "scenario_file", "species", *names])
            for label, s, p, m in zip(labels, scenarios, args.scenarios, table):
                w.writerow([label, p, s.species, *("" if m[n] is None else repr(float(m[n])) for n in names)])
        fig = plotting.plot_comparison(results, table, labels=labels)
        common.save(fig, d / "comparison.png")
        plt.close("all")

    common.staged(out, write)
    header = ["arm", *names]
    rows = [[label, *(common.fmt(m[n]) for n in names)] for label, m in zip(labels, table)]
    print(common.table(rows, header))
    print(f"\nwrote {out}{os.sep} (metrics.csv, comparison.png)")
    return EXIT_OK
