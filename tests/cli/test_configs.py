"""Every shipped scenario file validates and runs to completion with a sensible tumour."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import simbev
from simbev import cli
from simbev.scenario.file import validate_file

SCENARIOS = Path(__file__).resolve().parents[2] / "configs" / "scenarios"
FILES = sorted(SCENARIOS.glob("*.yaml"))

EXPECTED = {  # the arms the project ships; a missing file is a failure, not a skipped test
    "untreated", "bevacizumab_mouse", "bevacizumab_human", "mtor_inhibitor_mouse", "combination_mouse",
    "mif_knockdown", "mif_overexpression_bev", "ablate_vegf_mif_induction", "ablate_bev_mif_binding",
    "ablate_lactate_mtor_coupling", "ablate_glut2_induction",
}


def test_expected_scenarios_are_shipped():
    assert EXPECTED <= {f.stem for f in FILES}


@pytest.mark.parametrize("path", FILES, ids=[f.stem for f in FILES])
def test_config_validates_and_runs(path, capsys):
    assert cli.main(["validate", str(path)]) == 0, capsys.readouterr().err
    scenario = validate_file(path)
    assert scenario.name == path.stem  # outputs go to results/<name>/: keep names and files aligned
    assert scenario.description.strip()
    result = simbev.simulate(scenario)
    assert result.time[-1] == pytest.approx(scenario.duration_days)
    v = result["tumor_volume"]
    assert np.all(np.isfinite(v)) and np.all(v > 0)
    assert np.all(np.isfinite(result.states))
    if any(r.drug == "bevacizumab" for r in scenario.treatments):
        assert len(result.doses) > 0
        assert result.bev_mass_balance_residual() < 1e-6
