"""A small population (built once per session) for the trial tests."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

REGIMEN = Path(__file__).resolve().parents[2] / "simbev" / "trial" / "populations" / "kreisl2009_regimen.yaml"

SMALL_SPEC = """\
name: small
seed: 7
plausible: {plausible}
scenario: regimen.yaml
run_in_days: 28
follow_up_weeks: {weeks}
assess_every_days: 28
selection:
  min_selected: 5
  scales: [1, 2, 4, 8]
targets:
  objective_response_rate: {{value: 0.35, low: 0.22, high: 0.51}}
  progression_free_6mo: {{value: 0.29, low: 0.18, high: 0.48}}
  median_pfs_weeks: {{value: 16, low: 12, high: 26}}
  overall_survival_6mo: {{value: 0.57, low: 0.44, high: 0.75}}
  median_os_weeks: {{value: 31, low: 21, high: 54}}
"""


def write_spec(directory: Path, plausible: int = 150, weeks: int = 52) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    shutil.copy(REGIMEN, directory / "regimen.yaml")
    path = directory / "small.yaml"
    path.write_text(SMALL_SPEC.format(plausible=plausible, weeks=weeks), encoding="utf-8")
    return path


@pytest.fixture(scope="session")
def small_population(tmp_path_factory):
    from simbev.trial.population import build

    d = tmp_path_factory.mktemp("population")
    spec = write_spec(d)
    out = d / "small.json"
    build(spec, out, workers=1)
    return out
