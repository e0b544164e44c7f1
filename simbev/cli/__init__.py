"""Command line: argument wiring over the Python API, one module per subcommand.
``main`` is the entry point (``simbev`` script and ``python -m simbev``).

May import: everything; nothing imports it.
"""
from __future__ import annotations

from .app import EXIT_INPUT, EXIT_OK, build_parser, main, summary, write_run

__all__ = ["EXIT_INPUT", "EXIT_OK", "build_parser", "main", "summary", "write_run"]
