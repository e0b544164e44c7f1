"""Helpers shared by the subcommands: loading and simulating, staged output, table formatting.

Every output of a subcommand is written into a temporary directory next to the target and moved
into place only when all of it succeeded (:func:`staged`), so a failure leaves nothing behind.
Subcommand modules call :func:`load` and :func:`simulate` through this module (``common.simulate``),
so a test can replace them in one place.
"""
from __future__ import annotations

import math
from pathlib import Path
from typing import Sequence

from ..atomic import Staged, staged as _staged
from ..errors import SimbevError

EXIT_OK = 0
EXIT_INPUT = 2


class Failure(SimbevError):
    """An expected failure with a message for the user (exit status 2)."""


def pyplot():
    """pyplot on the Agg backend: the CLI writes files and never opens windows."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    return plt


def json_safe(obj):
    """Replace non-finite floats by ``None`` (JSON has no NaN/Infinity) and tuples by lists."""
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {str(k): json_safe(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [json_safe(v) for v in obj]
    if hasattr(obj, "item") and callable(obj.item):  # numpy scalar
        return json_safe(obj.item())
    return obj


def load(path: str):
    """The scenario in the file at ``path`` (checked; :class:`InputError` if bad)."""
    from ..scenario.file import load_scenario
    return load_scenario(path)


def simulate(scenario):
    """The :class:`Result` of ``scenario`` on the reference solver."""
    from ..simulation import simulate as _simulate
    return _simulate(scenario)


# One stage-and-rename helper for every writer (simbev.atomic); the names stay for callers.
Staging = Staged
staged = _staged


def save(fig, path: Path) -> None:
    """Save ``fig`` to ``path`` and close it."""
    plt = pyplot()
    try:
        fig.savefig(path, dpi=120)
    finally:
        plt.close(fig)


def fmt(value, digits: int = 4) -> str:
    """``value`` for a text table: ``-`` for None, ``digits`` significant digits for floats."""
    if value is None:
        return "-"
    if isinstance(value, float):
        if not math.isfinite(value):
            return str(value)
        return f"{value:.{digits}g}"
    return str(value)


def table(rows: Sequence[Sequence[str]], header: Sequence[str]) -> str:
    """A plain-text table with left-aligned columns and a dashed rule under the header."""
    widths = [max(len(str(x)) for x in col) for col in zip(header, *rows)]
    lines = ["  ".join(str(h).ljust(w) for h, w in zip(header, widths)).rstrip(),
             "  ".join("-" * w for w in widths)]
    lines += ["  ".join(str(c).ljust(w) for c, w in zip(row, widths)).rstrip() for row in rows]
    return "\n".join(lines)
