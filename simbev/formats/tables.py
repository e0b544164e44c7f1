"""CSV tables with a Frictionless Table Schema sidecar: the one writer of every CSV simbev writes.

A table ``<name>.csv`` has its header in the first line (plain ``pandas.read_csv`` and
``csv.DictReader`` read it); units and meanings of its columns go into ``<name>.schema.json``
beside it, a `Table Schema <https://specs.frictionlessdata.io/table-schema/>`_ with one entry
per column: ``name``, ``type`` (``number``, ``integer``, ``string``, ``boolean``), ``unit``
(a simbev unit string; ``"1"`` for dimensionless, ``""`` for labels) and ``description``.
Empty cells are missing values (``missingValues: [""]``), e.g. a time to progression of an arm
that never progressed.

Run outputs (``timeseries.csv``, ``metrics.csv``), sweep results (``results.csv``,
``sensitivity.csv``) and virtual-trial tables all go through :func:`write_table`.
"""
from __future__ import annotations

import csv
import json
import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Sequence

__all__ = ["Column", "write_table", "schema_path", "read_schema", "cell"]


@dataclass(frozen=True)
class Column:
    """One column of a table: its name, unit (``"1"`` dimensionless, ``""`` none), meaning and
    Table Schema type."""

    name: str
    unit: str = ""
    description: str = ""
    type: str = "number"

    def as_field(self) -> dict:
        return {"name": self.name, "type": self.type, "unit": self.unit, "description": self.description}


def schema_path(path) -> Path:
    """The sidecar of ``path``: ``results/x/timeseries.csv`` -> ``results/x/timeseries.schema.json``."""
    path = Path(path)
    return path.with_name(path.stem + ".schema.json")


def cell(value: Any) -> str:
    """One CSV cell: ``""`` for ``None`` and NaN (missing), ``inf``/``-inf`` kept (pandas reads
    them), floats exactly (``repr`` round-trips), booleans ``true``/``false``."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float) or hasattr(value, "dtype"):
        x = float(value)
        return "" if math.isnan(x) else repr(x)
    return str(value)


def _atomic(path: Path, write) -> None:
    from ..atomic import atomic_file
    with atomic_file(path, "w", newline="") as fh:  # stage and rename
        write(fh)
        fh.flush()
        os.fsync(fh.fileno())


def write_table(path, columns: Sequence[Column], rows: Iterable[Sequence[Any]], *,
                title: str = "", description: str = "") -> Path:
    """Write ``rows`` as ``path`` (header first, then one line per row) and its Table Schema
    sidecar :func:`schema_path`; both staged and renamed into place (:mod:`simbev.atomic`). Cells are formatted by
    :func:`cell`. Returns ``path``."""
    path = Path(path)
    names = [c.name for c in columns]
    if len(set(names)) != len(names):
        raise ValueError(f"duplicate column names in {path.name}: {names}")

    def write_csv(fh):
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(names)
        for row in rows:
            if len(row) != len(names):
                raise ValueError(f"{path.name}: a row has {len(row)} cells, the header {len(names)}")
            w.writerow([cell(v) for v in row])

    schema = {"title": title or path.stem, "description": description, "path": path.name,
              "missingValues": [""], "fields": [c.as_field() for c in columns]}
    _atomic(path, write_csv)
    _atomic(schema_path(path), lambda fh: fh.write(json.dumps(schema, indent=2) + "\n"))
    return path


def read_schema(path) -> dict:
    """The Table Schema written beside the CSV ``path`` (a dict)."""
    return json.loads(schema_path(path).read_text(encoding="utf-8"))
