"""``simbev compare``: run several scenarios; write comparison.png and metrics.csv."""
from __future__ import annotations

import os
from pathlib import Path

from . import common, report
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
    table = [r.metrics for r in results]  # computed once per result, shared with the figure
    labels = [s.name for s in scenarios]
    if len(set(labels)) < len(labels):  # disambiguate arms of the same name by their file
        labels = [f"{s.name} ({Path(p).name})" for s, p in zip(scenarios, args.scenarios)]
    names = list(table[0]) if table else list(metrics.RESPONSE_METRICS)
    out = Path(args.out) if args.out else Path("results") / "compare"

    def write(d: Path):
        report.write_metrics_csv(d / "metrics.csv", labels, args.scenarios, scenarios, table, names)
        from ..simulation import dense
        fig = plotting.plot_comparison([dense(r) for r in results], table, labels=labels)
        common.save(fig, d / "comparison.png")
        plt.close("all")

    for s, r in zip(scenarios, results):
        report.warn_dropped_doses("compare", s, r)
    common.staged(out, write)
    header = ["arm", *(f"{n} [{report._unit(n)}]" if report._unit(n) != "1" else n for n in names)]
    rows = [[label, *(common.fmt(m[n]) for n in names)] for label, m in zip(labels, table)]
    print(common.table(rows, header))
    print("(_day: day of the run; time_to_progression: days since the first dose; - : never, or untreated)")
    print(f"\nwrote {out}{os.sep} (metrics.csv, metrics.schema.json, comparison.png)")
    return EXIT_OK
