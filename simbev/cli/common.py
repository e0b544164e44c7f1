"""Helpers shared by the subcommands: loading and simulating, staged output, table formatting.

Every output of a subcommand is written into a temporary directory next to the target and moved
into place only when all of it succeeded (:func:`staged`), so a failure leaves nothing behind.
Subcommand modules call :func:`load` and :func:`simulate` through this module (``common.simulate``),
so a test can replace them in one place.
"""
from __future__ import annotations

import math
import os
import shutil
import tempfile
from pathlib import Path
from typing import Callable, Sequence

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


class Staging:
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
            raise Failure(f"{self.out}: exists and is not a directory")
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


def staged(out: Path, write: Callable[[Path], object]):
    """Call ``write(directory)`` on a staging directory; move its files to ``out`` if it succeeds."""
    stage = Staging(out)
    try:
        value = write(stage.dir)
        stage.commit()
        return value
    except BaseException:
        stage.abort()
        raise


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
