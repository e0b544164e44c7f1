"""Command-line subcommands ``simbev trial`` and ``simbev population build``.

``simbev trial A.yaml [B.yaml ...] [--population NAME|FILE] [--out DIR] [--workers N]`` runs a
virtual population (default: the shipped ``kreisl2009``) on each scenario's regimen (several
scenarios are the arms of one trial) and writes ``patients.csv``, ``summary.json``,
``km_pfs.png``, ``km_os.png``, ``waterfall.png`` and ``spider.png``.

``simbev population build POPULATION.yaml --out FILE [--workers N]`` screens plausible patients
(resumable: run it again after a kill), filters and selects them, and writes the population.
"""
from __future__ import annotations

import sys
from pathlib import Path

__all__ = ["add_subcommand", "cmd_trial", "cmd_population_build"]

DEFAULT_POPULATION = "kreisl2009"


def _workers(text: str) -> int:
    import argparse
    try:
        n = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"found {text!r}; expected a whole number >= 1") from None
    if n < 1:
        raise argparse.ArgumentTypeError(f"found {n}; expected a whole number >= 1")
    return n


def add_subcommand(sub) -> None:
    """Register ``trial`` and ``population`` on an argparse subparsers object."""
    p = sub.add_parser("trial", help="run a virtual population on one or more regimens (arms)",
                       description="Run a calibrated virtual population on each scenario's regimen (several "
                                   "scenarios = arms of one trial); write patients.csv, summary.json and figures "
                                   "(Kaplan-Meier PFS and OS with numbers at risk, waterfall, spider).")
    p.add_argument("scenarios", nargs="+", metavar="SCENARIO.yaml")
    p.add_argument("--population", default=DEFAULT_POPULATION, metavar="NAME|FILE",
                   help=f"shipped population name or population file (default {DEFAULT_POPULATION})")
    p.add_argument("--out", metavar="DIR", help="output directory (default results/trial/)")
    p.add_argument("--workers", type=_workers, default=1, metavar="N", help="worker processes (default 1)")
    p.set_defaults(func=cmd_trial)

    p = sub.add_parser("population", help="build a virtual population (see 'simbev population build -h')",
                       description="Virtual populations.")
    psub = p.add_subparsers(dest="population_command", metavar="ACTION", required=True)
    b = psub.add_parser("build", help="screen, filter and select a virtual population",
                        description="Screen the plausible patients of POPULATION.yaml (resumable after a kill: "
                                    "run the same command again), apply the physiological filters, select to "
                                    "the clinical targets, and write the population file.")
    b.add_argument("spec", metavar="POPULATION.yaml")
    b.add_argument("--out", required=True, metavar="FILE", help="population file to write (JSON)")
    b.add_argument("--workers", type=_workers, default=1, metavar="N", help="worker processes (default 1)")
    b.set_defaults(func=cmd_population_build)


def cmd_trial(args) -> int:
    from ..scenario.file import load_scenario
    from ..trial.outputs import write_trial
    from ..trial.population import load_population
    from ..trial.run import run_trial

    population = load_population(args.population)
    scenarios = [load_scenario(path) for path in args.scenarios]
    arms = run_trial(population, scenarios, workers=args.workers, sources=list(args.scenarios))
    out = Path(args.out) if args.out else Path("results") / "trial"
    names = write_trial(out, arms, population)
    print(f"population {population['name']} ({len(population['patients'])} patients), "
          f"{len(arms)} arm(s); wrote {', '.join(names)} in {out}/")
    for arm in arms:
        s = arm.stats

        def fmt(key, scale=1.0, unit=""):
            v = s[key]
            if v["value"] is None:
                return "not reached"
            lo = "-" if v["low"] is None else f"{scale * v['low']:.0f}"
            hi = "-" if v["high"] is None else f"{scale * v['high']:.0f}"
            return f"{scale * v['value']:.0f}{unit} ({lo}-{hi})"
        print(f"  {arm.name}: ORR {fmt('objective_response_rate', 100, ' %')}, "
              f"PFS-6mo {fmt('progression_free_6mo', 100, ' %')}, median PFS {fmt('median_pfs_weeks', 1, ' wk')}, "
              f"median OS {fmt('median_os_weeks', 1, ' wk')}" + (f"; {len(arm.failed)} failed" if arm.failed else ""))
    return 0


class _Progress:
    """Progress on stderr: a tqdm bar on a terminal, else a line every 10 %."""

    def __init__(self):
        self.bar = None
        self.next = 0.0

    def __call__(self, done: int, total: int) -> None:
        if sys.stderr.isatty():
            try:
                from tqdm import tqdm
            except ImportError:
                tqdm = None
            if tqdm is not None:
                if self.bar is None:
                    self.bar = tqdm(total=total, initial=done, desc="screening", unit="patient", file=sys.stderr)
                else:
                    self.bar.update(done - self.bar.n)
                return
        frac = done / total if total else 1.0
        if frac >= self.next or done == total:
            print(f"screening: {done}/{total} patients ({frac:.0%})", file=sys.stderr, flush=True)
            self.next = frac + 0.1

    def close(self):
        if self.bar is not None:
            self.bar.close()


def cmd_population_build(args) -> int:
    from ..trial.population import build

    progress = _Progress()
    try:
        record = build(args.spec, args.out, workers=args.workers, progress=progress)
    finally:
        progress.close()
    s = record["screening"]
    print(f"population {record['name']}: {s['plausible']} plausible patients screened, {s['passed_filters']} passed "
          f"the physiological filters, {s['selected']} selected (scale {s['scale']:g}); wrote {args.out}")
    for name, t in record["targets"].items():
        got = record["calibration"].get(name, {})
        v = got.get("value")
        print(f"  {name}: target {t['value']:g}, achieved " + ("not reached" if v is None else f"{v:.3g}"))
    return 0
