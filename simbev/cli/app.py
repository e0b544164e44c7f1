"""Command line: a thin argparse shell over the API (README, "Using it").

One module per subcommand (:mod:`.run`, :mod:`.compare`, :mod:`.validate`, :mod:`.params`,
:mod:`.export` for ``export-sbml``, :mod:`.sweep`, :mod:`.trial` for ``trial`` and
``population``), each with ``add_subcommand(subparsers)``;
this module builds the parser from them and maps errors to exit codes. Bad input
(:class:`InputError`), solver failures (:class:`SimulationError`) and every other
:class:`SimbevError` print one message on stderr and exit with status 2, without a traceback
and without leaving output behind (see :func:`simbev.cli.common.staged`).
"""
from __future__ import annotations

import argparse
import os
import sys
from typing import Sequence

from ..errors import SimbevError
from . import compare, export, params, run, sweep, trial, validate
from .common import EXIT_INPUT, EXIT_OK, Failure
from .run import summary, write_run

_Failure = Failure  # the name before the CLI was split into one module per subcommand

__all__ = ["EXIT_INPUT", "EXIT_OK", "build_parser", "main", "summary", "write_run"]

#: the subcommand modules, in the order ``simbev --help`` lists them
SUBCOMMANDS = (run, compare, validate, params, export, sweep, trial)


def build_parser() -> argparse.ArgumentParser:
    """The ``simbev`` argument parser with every subcommand (imports no solver or sweep code)."""
    from .. import __version__
    parser = argparse.ArgumentParser(
        prog="simbev", description="Simulate tumor escape from bevacizumab (see README.md and docs/).")
    parser.add_argument("--version", action="version", version=f"simbev {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for module in SUBCOMMANDS:
        module.add_subcommand(sub)
    return parser


def _terminate_cleanly() -> None:
    """Turn SIGTERM into SystemExit in the main thread, so that staged outputs are removed on the
    way out (SIGKILL cannot be caught: its staging leftovers are cleaned by the next write)."""
    import signal
    import threading

    def handler(signum, frame):
        raise SystemExit(128 + signum)

    if threading.current_thread() is threading.main_thread():
        try:
            signal.signal(signal.SIGTERM, handler)
        except (ValueError, OSError):  # pragma: no cover - not settable here
            pass


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line with ``argv`` (default ``sys.argv[1:]``); return the exit status."""
    parser = build_parser()
    _terminate_cleanly()
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
