"""Command line: a thin argparse shell over the API (README, "Using it").

Subcommands: ``run``, ``compare``, ``validate``, ``params``, ``export-sbml`` (``sweep`` in
:mod:`simbev.sweeps`). Bad input (:class:`InputError`) and
solver failures (:class:`SimulationError`) print one message on stderr and exit with status 2,
without a traceback and without leaving output behind: every output is written into a
temporary directory next to the target and moved into place only when all of it succeeded.
"""
from __future__ import annotations

import argparse
import csv
import dataclasses
import json
import math
import os
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Callable, Sequence

from ..errors import SimbevError

EXIT_OK = 0
EXIT_INPUT = 2


class _Failure(SimbevError):
    """An expected failure with a message for the user (exit status 2)."""


# --- helpers ----------------------------------------------------------------------------------

def _pyplot():
    """pyplot on the Agg backend: the CLI writes files and never opens windows."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    return plt


def _json_safe(obj):
    """Replace non-finite floats by ``None`` (JSON has no NaN/Infinity) and tuples by lists."""
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {str(k): _json_safe(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_json_safe(v) for v in obj]
    if hasattr(obj, "item") and callable(obj.item):  # numpy scalar
        return _json_safe(obj.item())
    return obj


def _load(path: str):
    from ..scenario.file import load_scenario
    return load_scenario(path)


def _simulate(scenario):
    from ..simulation import simulate
    return simulate(scenario)


class _Staging:
    """Write outputs into a temporary directory next to ``out``; :meth:`commit` moves them in.

    If ``out`` does not exist, the temporary directory is renamed to it (atomic). If it exists,
    each file is moved into it (each move atomic; other files in ``out`` are left alone). On
    failure (:meth:`abort`) the temporary directory and any parent directories created for it
    are removed, so nothing is left behind.
    """

    def __init__(self, out: Path):
        self.out = Path(out)
        parent = self.out.absolute().parent
        self._created = []
        p = parent
        while not p.exists():
            self._created.append(p)
            p = p.parent
        parent.mkdir(parents=True, exist_ok=True)
        self.dir = Path(tempfile.mkdtemp(prefix=f".{self.out.name}.simbev-tmp-", dir=parent))

    def path(self, name: str) -> Path:
        return self.dir / name

    def commit(self) -> None:
        if not self.out.exists():
            os.replace(self.dir, self.out)
            return
        if not self.out.is_dir():
            self.abort()
            raise _Failure(f"{self.out}: exists and is not a directory")
        for item in sorted(self.dir.iterdir()):
            os.replace(item, self.out / item.name)
        self.dir.rmdir()

    def abort(self) -> None:
        shutil.rmtree(self.dir, ignore_errors=True)
        for p in self._created:  # innermost first
            try:
                p.rmdir()
            except OSError:
                break


def _save(fig, path: Path) -> None:
    plt = _pyplot()
    try:
        fig.savefig(path, dpi=120)
    finally:
        plt.close(fig)


def _fmt(value, digits: int = 4) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        if not math.isfinite(value):
            return str(value)
        return f"{value:.{digits}g}"
    return str(value)


def _table(rows: Sequence[Sequence[str]], header: Sequence[str]) -> str:
    widths = [max(len(str(x)) for x in col) for col in zip(header, *rows)]
    lines = ["  ".join(str(h).ljust(w) for h, w in zip(header, widths)).rstrip(),
             "  ".join("-" * w for w in widths)]
    lines += ["  ".join(str(c).ljust(w) for c, w in zip(row, widths)).rstrip() for row in rows]
    return "\n".join(lines)


# --- run --------------------------------------------------------------------------------------

def summary(scenario, result, scenario_file: str | None = None) -> dict:
    """The content of ``summary.json`` for ``result`` of ``scenario``."""
    from ..analysis import metrics
    meta = result.metadata
    return _json_safe({
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
    plt = _pyplot()
    directory = Path(directory)
    result.to_csv(directory / "timeseries.csv")
    with open(directory / "summary.json", "w", encoding="utf-8") as fh:
        json.dump(summary(scenario, result, scenario_file), fh, indent=2, allow_nan=False)
        fh.write("\n")
    ax = plotting.plot_tumor_burden(result)
    _save(ax.figure, directory / "tumor_burden.png")
    _save(plotting.plot_compartments(result), directory / "compartments.png")
    plt.close("all")
    return ["timeseries.csv", "summary.json", "tumor_burden.png", "compartments.png"]


def _cmd_run(args) -> int:
    scenario = _load(args.scenario)
    result = _simulate(scenario)
    out = Path(args.out) if args.out else Path("results") / scenario.name
    _staged(out, lambda d: write_run(scenario, result, d, args.scenario))
    print(f"wrote {out}{os.sep} (timeseries.csv, summary.json, tumor_burden.png, compartments.png)")
    return EXIT_OK


def _staged(out: Path, write: Callable[[Path], object]):
    stage = _Staging(out)
    try:
        value = write(stage.dir)
        stage.commit()
        return value
    except BaseException:
        stage.abort()
        raise


# --- compare ----------------------------------------------------------------------------------

def _cmd_compare(args) -> int:
    from ..analysis import metrics
    from ..plotting import run as plotting
    plt = _pyplot()
    scenarios = [_load(p) for p in args.scenarios]  # all inputs checked before any run
    results = [_simulate(s) for s in scenarios]
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
        _save(fig, d / "comparison.png")
        plt.close("all")

    _staged(out, write)
    header = ["arm", *names]
    rows = [[label, *(_fmt(m[n]) for n in names)] for label, m in zip(labels, table)]
    print(_table(rows, header))
    print(f"\nwrote {out}{os.sep} (metrics.csv, comparison.png)")
    return EXIT_OK


# --- validate ---------------------------------------------------------------------------------

def _cmd_validate(args) -> int:
    from ..errors import InputError
    from ..scenario.file import validate_file
    status = EXIT_OK
    for path in args.files:
        try:
            validate_file(path)
        except InputError as err:
            print(str(err), file=sys.stderr)
            status = EXIT_INPUT
        except OSError as err:
            print(f"{path}: cannot read: {err.strerror or err}", file=sys.stderr)
            status = EXIT_INPUT
        else:
            print(f"OK {path}")
    return status


# --- params -----------------------------------------------------------------------------------

def _cmd_params(args) -> int:
    from ..parameters.parameter_set import load_parameter_set
    pset = load_parameter_set(args.species)
    rows = [[r.name, _fmt(r.value, 6), r.unit, f"[{_fmt(r.low, 4)}, {_fmt(r.high, 4)}]", r.source]
            for r in pset.records.values()]
    print(f"# parameter set: {pset.name} ({len(rows)} parameters)")
    print(_table(rows, ["name", "value", "unit", "range", "source"]))
    return EXIT_OK


# --- export-sbml ------------------------------------------------------------------------------

def _cmd_export_sbml(args) -> int:
    scenario = _load(args.scenario)
    try:
        from ..formats.sbml import SBMLExportError, to_sbml
    except ImportError as err:  # pragma: no cover - sbml.py imports libsbml lazily
        raise _Failure(f"SBML export needs python-libsbml: pip install 'simbev[sbml]' ({err})") from None
    try:
        text = to_sbml(scenario)
    except ImportError as err:
        raise _Failure(f"SBML export needs python-libsbml: pip install 'simbev[sbml]' ({err})") from None
    except SBMLExportError as err:
        raise _Failure(str(err)) from None
    out = Path(args.output)
    tmp = out.with_name(out.name + ".part")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(out)
    print(f"wrote {out}")
    return EXIT_OK


# --- entry point ------------------------------------------------------------------------------

def build_parser() -> argparse.ArgumentParser:
    from .. import __version__
    parser = argparse.ArgumentParser(
        prog="simbev", description="Simulate tumor escape from bevacizumab (see README.md and docs/).")
    parser.add_argument("--version", action="version", version=f"simbev {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    p = sub.add_parser("run", help="simulate one scenario",
                       description="Simulate one scenario; write timeseries.csv, summary.json and figures.")
    p.add_argument("scenario", metavar="SCENARIO.yaml")
    p.add_argument("--out", metavar="DIR", help="output directory (default results/<scenario name>/)")
    p.set_defaults(func=_cmd_run)

    p = sub.add_parser("compare", help="several arms, one resistance-curve figure",
                       description="Run several scenarios; write comparison.png and metrics.csv.")
    p.add_argument("scenarios", nargs="+", metavar="SCENARIO.yaml")
    p.add_argument("--out", metavar="DIR", help="output directory (default results/compare/)")
    p.set_defaults(func=_cmd_compare)

    p = sub.add_parser("validate", help="check files without running them")
    p.add_argument("files", nargs="+", metavar="FILE.yaml")
    p.set_defaults(func=_cmd_validate)

    p = sub.add_parser("params", help="list every parameter: value, unit, range, source")
    p.add_argument("--species", choices=("mouse", "human"), default="mouse")
    p.set_defaults(func=_cmd_params)

    p = sub.add_parser("export-sbml", help="the model and the scenario's dosing as SBML Level 3",
                       description="Write the model, the scenario's parameters and its doses as SBML L3V2.")
    p.add_argument("scenario", metavar="SCENARIO.yaml")
    p.add_argument("-o", "--output", required=True, metavar="FILE.xml")
    p.set_defaults(func=_cmd_export_sbml)

    from .sweep import add_sweep_subcommand
    add_sweep_subcommand(sub)
    from .trial import add_subcommands as add_trial_subcommands
    add_trial_subcommands(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line with ``argv`` (default ``sys.argv[1:]``); return the exit status."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # usage errors (2), --help and --version (0)
        return int(exc.code or 0) if not isinstance(exc.code, str) else EXIT_INPUT
    try:
        return args.func(args)
    except SimbevError as err:  # bad input, solver failure, locked store, ...: message, exit 2
        print(f"simbev {args.command}: error: {err}", file=sys.stderr)
        return EXIT_INPUT
    except BrokenPipeError:  # output piped into e.g. `head`, which closed early: not an error
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_OK
    except OSError as err:  # unreadable scenario, unwritable output
        where = f"{err.filename}: " if getattr(err, "filename", None) else ""
        print(f"simbev {args.command}: error: {where}{err.strerror or err}", file=sys.stderr)
        return EXIT_INPUT
    except KeyboardInterrupt:
        print("simbev: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
