"""``simbev params``: list every parameter of a set with value, unit, range and source."""
from __future__ import annotations

from . import common
from .common import EXIT_OK

__all__ = ["add_subcommand", "cmd_params"]


def add_subcommand(subparsers):
    """Add ``simbev params`` to an argparse ``subparsers`` object; return its parser."""
    p = subparsers.add_parser("params", help="list every parameter: value, unit, range, source")
    p.add_argument("--species", choices=("mouse", "human"), default="mouse")
    p.set_defaults(func=cmd_params)
    return p


def cmd_params(args) -> int:
    """Handler of ``simbev params``."""
    from ..parameters.parameter_set import load_parameter_set
    pset = load_parameter_set(args.species)
    rows = [[r.name, common.fmt(r.value, 6), r.unit, f"[{common.fmt(r.low, 4)}, {common.fmt(r.high, 4)}]", r.source]
            for r in pset.records.values()]
    print(f"# parameter set: {pset.name} ({len(rows)} parameters)")
    print(common.table(rows, ["name", "value", "unit", "range", "source"]))
    return EXIT_OK
