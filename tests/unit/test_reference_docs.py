"""The user documents stand alone and agree with the code: docs/reference.md names every
scenario key, sweep key, output column and metric; nothing points outside the repository; the
default solver the docs name is the code's."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
REFERENCE = (ROOT / "docs" / "reference.md").read_text(encoding="utf-8")
OUTSIDE = re.compile(r"\.\./shared|shared/design|INTERFACE\.md|MODEL\.md|STYLE\.md|LITERATURE\.md|shared/seeds")


def _user_texts():
    files = [ROOT / "README.md", *(ROOT / "docs").glob("*.md")]
    for sub in ("cli", "scenario", "sweeps", "plotting", "formats", "protocol", "parameters", "model", "analysis",
                "trial", "solvers"):
        files += sorted((ROOT / "simbev" / sub).rglob("*.py"))
    # parameter notes are shown by `simbev params` and in docs/model.md
    files += sorted((ROOT / "simbev" / "parameters" / "sets").glob("*.yaml"))
    files += [ROOT / "simbev" / "result.py", ROOT / "simbev" / "errors.py", *sorted((ROOT / "configs").rglob("*.yaml"))]
    return files


def test_nothing_points_outside_the_repository():
    """Guards against: README and help texts sending users to ../shared/design/INTERFACE.md,
    files that do not exist in a clone."""
    bad = [f"{p.relative_to(ROOT)}:{i}: {line.strip()}" for p in _user_texts()
           for i, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1) if OUTSIDE.search(line)]
    assert bad == []


def test_help_texts_point_inside_the_repository():
    from simbev.cli import build_parser
    text = build_parser().format_help()
    assert not OUTSIDE.search(text)


def test_docs_name_the_default_solver_of_the_code():
    """Guards against: docs saying 'scipy BDF by default' while the code defaults to LSODA."""
    from simbev.solvers.reference import SolverSettings
    default = SolverSettings().method
    assert f"default solver is **{default}**" in REFERENCE
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert default in readme
    for doc in ["README.md", *(f"docs/{p.name}" for p in (ROOT / "docs").glob("*.md"))]:
        text = (ROOT / doc).read_text(encoding="utf-8")
        for other in ("BDF", "Radau"):
            if other != default:
                assert not re.search(rf"{other}[^.\n]{{0,20}}by default", text), doc


def test_reference_lists_every_scenario_and_sweep_key():
    from simbev.scenario.file import TOP_LEVEL_KEYS, TREATMENT_KEYS
    from simbev.sweeps.file import TOP_LEVEL_KEYS as SWEEP_KEYS
    for key in (*TOP_LEVEL_KEYS, *TREATMENT_KEYS, *SWEEP_KEYS):
        assert f"| `{key}` |" in REFERENCE, key


@pytest.mark.parametrize("kind", ["columns", "metrics"])
def test_reference_lists_every_output_column_and_metric_with_its_unit(kind):
    from simbev.analysis.metrics import METRICS
    from simbev.model.states import DERIVED, STATES
    items = ([(s.name, s.unit) for s in (*STATES, *DERIVED)] if kind == "columns"
             else [(n, m.unit) for n, m in METRICS.items()])
    for name, unit in items:
        assert re.search(rf"\| `{re.escape(name)}` \| {re.escape(unit)} \|", REFERENCE), name
