"""``simbev export-sbml``: the model, a scenario's parameters and its doses as SBML L3V2."""
from __future__ import annotations

from pathlib import Path

from ..atomic import write_text
from . import common
from .common import EXIT_OK, Failure

__all__ = ["add_subcommand", "cmd_export_sbml"]


def add_subcommand(subparsers):
    """Add ``simbev export-sbml`` to an argparse ``subparsers`` object; return its parser."""
    p = subparsers.add_parser("export-sbml", help="the model and the scenario's dosing as SBML Level 3",
                              description="Write the model, the scenario's parameters and its doses as SBML L3V2.")
    p.add_argument("scenario", metavar="SCENARIO.yaml")
    p.add_argument("-o", "--output", required=True, metavar="FILE.xml")
    p.set_defaults(func=cmd_export_sbml)
    return p


def cmd_export_sbml(args) -> int:
    """Handler of ``simbev export-sbml``; the file appears only when it is complete."""
    scenario = common.load(args.scenario)
    try:
        from ..formats.sbml import SBMLExportError, to_sbml
    except ImportError as err:  # pragma: no cover - sbml.py imports libsbml lazily
        raise Failure(f"SBML export needs python-libsbml: pip install 'simbev[sbml]' ({err})") from None
    try:
        text = to_sbml(scenario)
    except ImportError as err:
        raise Failure(f"SBML export needs python-libsbml: pip install 'simbev[sbml]' ({err})") from None
    except SBMLExportError as err:
        raise Failure(str(err)) from None
    out = Path(args.output)
    write_text(out, text)  # stage and rename; refuses a directory
    print(f"wrote {out}")
    return EXIT_OK
