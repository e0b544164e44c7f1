"""Each published finding of MODEL.md as a test that runs the model (STYLE.md layer 3).

The criteria (direction and minimum effect size) live in :mod:`simbev.analysis.findings`, one per
finding, with the reasoning in docs/findings.md; the experiment e01 reports the same checks.
Every finding is checked at the defaults of all three settings (two mouse schedules and the
human clinical one); the human setting is also checked against its calibration targets.
"""
import numpy as np
import pytest

from simbev import Scenario
from simbev.analysis import findings, metrics
from simbev.solvers import compiled as fast


@pytest.fixture(scope="module")
def mouse_default():
    return {c.id: c for c in findings.evaluate("mouse_10mgkg_twice_weekly")}


@pytest.fixture(scope="module")
def all_defaults():
    return {s: {c.id: c for c in findings.evaluate(s)} for s in findings.SETTINGS}


@pytest.mark.parametrize("setting", list(findings.SETTINGS))
@pytest.mark.parametrize("finding", list(findings.FINDINGS))
def test_finding_holds_at_the_defaults(all_defaults, setting, finding):
    check = all_defaults[setting][finding]
    assert check.holds, (f"{setting}: {finding} ({check.finding}) not reproduced: {check.criterion}; "
                         f"measured {check.measured}")


def test_human_tumour_escapes_after_a_response(all_defaults):
    """Kreisl 2009 / Castro 2017: patients respond, then progress within months on therapy."""
    a1 = all_defaults["human_10mgkg_q2w"]["A1"].measured
    assert a1["nadir_mm3"] < 0.5 * 20000.0          # a real response (volume more than halved)
    assert 8 * 7 <= a1["time_to_progression_days"] <= 30 * 7
    c1 = all_defaults["human_10mgkg_q2w"]["C1"].measured
    assert c1["escaped"] and c1["matched_on"].startswith("pre-treatment")


def test_human_escape_time_scale_comes_from_macrophage_turnover():
    """The months-long human escape is set by the slow human macrophage turnover (35-day
    half-life): with the mouse turnover the same patient progresses within weeks."""
    s = findings.SETTINGS["human_10mgkg_q2w"]
    scenario = Scenario("h", s.duration_days, species="human", treatments=(s.bevacizumab,))
    mouse_turnover = {"macrophage_death_rate": 0.2, "macrophage_recruitment_rate": 0.02,
                      "macrophage_m2_proliferation_rate": 0.45}
    fast_escape = metrics.time_to_progression(fast.simulate(scenario, parameters=mouse_turnover))
    human_escape = metrics.time_to_progression(fast.simulate(scenario))
    assert fast_escape is not None and fast_escape <= 28
    assert human_escape is not None and human_escape >= 2.5 * fast_escape


def test_human_cohort_median_time_to_progression_matches_kreisl():
    """A +-20 % virtual cohort (40 patients, seeded) on 10 mg/kg q2w: median time to progression
    in Kreisl 2009's 12-20 weeks (median PFS ~16 weeks); some responders progress, some do not."""
    s = findings.SETTINGS["human_10mgkg_q2w"]
    scenario = Scenario("h", s.duration_days, species="human", treatments=(s.bevacizumab,))
    rng = np.random.default_rng(20261121)
    ttp, responder = [], []
    for _ in range(40):
        r = fast.simulate(scenario, parameters=findings.perturbed_parameters("human", rng, 0.2))
        t = metrics.time_to_progression(r)
        ttp.append(np.inf if t is None else t)
        responder.append(metrics.min_tumor_volume(r) <= 0.35 * r["tumor_volume"][0])
    ttp, responder = np.array(ttp), np.array(responder)
    assert 12 * 7 <= np.median(ttp) <= 20 * 7
    progressing = np.isfinite(ttp[responder]).mean()
    assert 0.3 <= progressing <= 0.9


def test_regrowth_is_counted_from_the_nadir_after_the_response(all_defaults):
    a1 = all_defaults["human_10mgkg_q2w"]["A1"].measured
    assert a1["nadir_mm3"] <= a1["volume_at_max_response_mm3"]
    assert a1["regrowth_factor"] == pytest.approx(a1["regrown_to_mm3"] / a1["nadir_mm3"])


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
