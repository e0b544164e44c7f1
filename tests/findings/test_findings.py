"""Each published finding of MODEL.md as a test that runs the model (STYLE.md layer 3).

The criteria (direction and minimum effect size) live in :mod:`simbev.findings`, one per
finding, with the reasoning in docs/findings.md; the experiment e01 reports the same checks.
The default setting is the mouse xenograft on bevacizumab 10 mg/kg twice weekly.
"""
import pytest

from simbev import findings


@pytest.fixture(scope="module")
def mouse_default():
    return {c.id: c for c in findings.evaluate("mouse_10mgkg_twice_weekly")}


@pytest.mark.parametrize("finding", list(findings.FINDINGS))
def test_finding_holds_at_the_defaults(mouse_default, finding):
    check = mouse_default[finding]
    assert check.holds, f"{finding} ({check.finding}) not reproduced: {check.criterion}; measured {check.measured}"


def test_resistant_tumour_is_sampled_after_escape(mouse_default):
    c1 = mouse_default["C1"].measured
    assert c1["escaped"] and c1["matched_on"] == "same volume"
    assert c1["resistant_day"] > findings.SETTINGS["mouse_10mgkg_twice_weekly"].start


def test_checks_can_fail():
    """A check is not typed in: removing a mechanism makes its finding fail."""
    got = {c.id: c for c in findings.evaluate("mouse_10mgkg_twice_weekly",
                                              {"macrophage_m2_proliferation_rate": 0.0,
                                               "mif_repolarization_rate": 0.0,
                                               "macrophage_m2_fraction_mif": 0.75})}
    assert not got["C6"].holds  # MIF no longer changes polarisation
    got = {c.id: c for c in findings.evaluate("mouse_10mgkg_twice_weekly", {"glut2_induction_rate": 1e-6})}
    assert not got["A7"].holds
