"""``simbev validate``: check scenario and sweep files without running them."""
from __future__ import annotations

import sys

from .common import EXIT_INPUT, EXIT_OK

__all__ = ["add_subcommand", "cmd_validate"]


def add_subcommand(subparsers):
    """Add ``simbev validate`` to an argparse ``subparsers`` object; return its parser."""
    p = subparsers.add_parser("validate", help="check files without running them")
    p.add_argument("files", nargs="+", metavar="FILE.yaml")
    p.set_defaults(func=cmd_validate)
    return p


def cmd_validate(args) -> int:
    """Handler of ``simbev validate``: one line per file; exit 2 if any file is bad."""
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
