"""Helpers for the sweep tests: tiny scenarios (a 10-day run, daily output) and sweep files."""
from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

TINY_SCENARIO = """\
name: tiny
duration_days: 10
output_every_days: 1
treatments:
  - drug: bevacizumab
    dose: 10 mg/kg
    route: iv_bolus
    start_day: 2
    every_days: 3
    doses: 3
"""

TINY_COMBO = """\
name: tiny_combo
extends: tiny.yaml
treatments:
  - drug: bevacizumab
    dose: 10 mg/kg
    route: iv_bolus
    start_day: 2
    every_days: 3
    doses: 3
  - drug: mtor_inhibitor
    dose: 2 mg/kg
    route: oral
    start_day: 2
    every_days: 1
    doses: 8
"""

TINY_GRID = """\
name: tinygrid
scenario: tiny.yaml
design: grid
vary:
  treatments.0.dose: {values: [2.5 mg/kg, 10 mg/kg]}
  mif_expression: {values: [0.5, 2]}
metrics: [final_tumor_volume, time_to_progression, tumor_volume@5]
"""


def write(path: Path, text: str) -> Path:
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


@pytest.fixture
def folder(tmp_path) -> Path:
    """A folder holding tiny.yaml and tiny_combo.yaml, for sweep files to refer to."""
    write(tmp_path / "tiny.yaml", TINY_SCENARIO)
    write(tmp_path / "tiny_combo.yaml", TINY_COMBO)
    return tmp_path


@pytest.fixture
def sweep_file(folder):
    """``sweep_file(text, name="s.yaml")`` writes a sweep file next to the tiny scenarios."""
    def make(text: str, name: str = "sweep.yaml") -> Path:
        return write(folder / name, text)
    return make


def _read_rows(path: Path) -> list[dict]:
    import csv
    with open(path, encoding="utf-8") as fh:  # header in the first line, units in the sidecar
        return list(csv.DictReader(fh))


@pytest.fixture
def read_rows():
    """``read_rows(path)``: the rows of a results.csv as dicts."""
    return _read_rows
