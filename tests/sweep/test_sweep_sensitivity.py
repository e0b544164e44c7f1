"""The sensitivity pipeline (design -> run -> store -> SALib analysis) against known indices.

The evaluation function is injected in place of the model, so that the whole code path of
``run_sweep`` (sampling, the unit-hypercube map, the store, the export, the analysis) is checked
against analytic values.
"""
from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest

from simbev.analysis.survival import kaplan_meier
from simbev.sweeps import Arm, Sweep, run_sweep
from simbev.sweeps.designs import Factor, analyze, sample_design

pytest.importorskip("SALib")

# Ishigami & Homma (1990) with a = 7, b = 0.1 on [-pi, pi]^3; indices from Saltelli et al.
# (2008), Global Sensitivity Analysis: The Primer, and SALib's own tests.
ISHIGAMI_S1 = (0.3139, 0.4424, 0.0)
ISHIGAMI_ST = (0.5576, 0.4424, 0.2437)


def ishigami(values, scenario):
    x1, x2, x3 = values["x1"], values["x2"], values["x3"]
    return {"y": math.sin(x1) + 7.0 * math.sin(x2) ** 2 + 0.1 * x3 ** 4 * math.sin(x1)}


def test_ishigami_sobol_indices_through_run_sweep(tmp_path):
    factors = tuple(Factor(f"x{i}", low=-math.pi, high=math.pi) for i in (1, 2, 3))
    sweep = Sweep("ishigami", "sobol", factors, ("y",), (Arm("ishigami", None),), samples=1024, seed=11,
                  options={"second_order": False, "resamples": 200, "conf_level": 0.95})
    outcome = run_sweep(sweep, tmp_path / "ishigami", evaluate=ishigami)
    assert (outcome.total, outcome.ok) == (1024 * 5, 1024 * 5)
    res = outcome.sensitivity["ishigami"]["y"]
    assert res["names"] == ["x1", "x2", "x3"]
    np.testing.assert_allclose(res["S1"], ISHIGAMI_S1, atol=0.04)
    np.testing.assert_allclose(res["ST"], ISHIGAMI_ST, atol=0.04)
    assert all(0 < c < 0.1 for c in res["S1_conf"] + res["ST_conf"])
    assert (tmp_path / "ishigami" / "sobol_indices.png").exists()
    table = (tmp_path / "ishigami" / "sensitivity.csv").read_text().splitlines()
    assert table[0] == "arm,metric,parameter,S1,S1_conf,ST,ST_conf" and len(table) == 4
    # the analysis options may change on resume: nothing is run again, the indices are redone
    wider = dataclasses.replace(sweep, options={**sweep.options, "conf_level": 0.99})
    again = run_sweep(wider, tmp_path / "ishigami", evaluate=ishigami)
    assert again.ran == 0
    assert again.sensitivity["ishigami"]["y"]["S1"] == res["S1"]
    assert all(w > c for w, c in zip(again.sensitivity["ishigami"]["y"]["ST_conf"], res["ST_conf"]))


def test_sobol_indices_do_not_depend_on_a_log_scale():
    """Sampling on a log scale maps each unit coordinate monotonically: the indices of a
    function of the parameters are the same as those of the same function of the unit
    coordinates."""
    lin = (Factor("a", low=0.0, high=1.0), Factor("b", low=0.0, high=1.0))
    log = (Factor("a", low=1.0, high=100.0, scale="log"), Factor("b", low=0.0, high=1.0))
    y_lin = [s["a"] + 0.3 * s["b"] ** 2 for s in sample_design("sobol", lin, 256, seed=3)]
    y_log = [math.log10(s["a"]) / 2 + 0.3 * s["b"] ** 2 for s in sample_design("sobol", log, 256, seed=3)]
    r_lin = analyze("sobol", lin, 256, 3, y_lin, {"resamples": 50})
    r_log = analyze("sobol", log, 256, 3, y_log, {"resamples": 50})
    np.testing.assert_allclose(r_lin["S1"], r_log["S1"], atol=1e-9)
    np.testing.assert_allclose(r_lin["ST"], r_log["ST"], atol=1e-9)


def linear(values, scenario):
    return {"y": 3.0 * values["a"] - 1.0 * values["b"] + 0.0 * values["c"]}


def test_morris_elementary_effects_of_a_linear_function(tmp_path):
    """For y = 3a - b, each elementary effect is the slope times the width of the range
    (effects are per unit fraction of the range): mu* = 3 * 2, 1 * 1, 0; sigma = 0."""
    factors = (Factor("a", low=0.0, high=2.0), Factor("b", low=5.0, high=6.0), Factor("c", low=0.0, high=1.0))
    sweep = Sweep("lin", "morris", factors, ("y",), (Arm("lin", None),), samples=10, seed=4,
                  options={"levels": 4, "resamples": 100, "conf_level": 0.95})
    outcome = run_sweep(sweep, tmp_path / "m", evaluate=linear)
    assert outcome.total == 10 * 4
    res = outcome.sensitivity["lin"]["y"]
    np.testing.assert_allclose(res["mu_star"], [6.0, 1.0, 0.0], atol=1e-9)
    np.testing.assert_allclose(res["mu"], [6.0, -1.0, 0.0], atol=1e-9)
    np.testing.assert_allclose(res["sigma"], [0.0, 0.0, 0.0], atol=1e-9)
    assert (tmp_path / "m" / "morris_indices.png").exists()


def test_analysis_refuses_missing_outputs():
    factors = (Factor("a", low=0.0, high=1.0), Factor("b", low=0.0, high=1.0))
    y = np.ones(8 * 4)
    y[3] = np.nan
    with pytest.raises(ValueError, match="1 of 32 outputs are missing"):
        analyze("sobol", factors, 8, 0, y)


def test_kaplan_meier_by_hand():
    # 5 subjects: events at 2, 2, 5; censored at 3 and 10
    t, s = kaplan_meier([2, 2, 3, 5, 10], [True, True, False, True, False])
    assert t.tolist() == [0.0, 2.0, 5.0]
    np.testing.assert_allclose(s, [1.0, 3 / 5, 3 / 5 * (1 - 1 / 2)])
    t, s = kaplan_meier([4, 4], [False, False])
    assert t.tolist() == [0.0] and s.tolist() == [1.0]
