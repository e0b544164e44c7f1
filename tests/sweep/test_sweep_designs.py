"""Designs: sizes, determinism, the maps onto parameter ranges, sample ids and hashes."""
from __future__ import annotations

import math

import numpy as np
import pytest

from simbev.sweeps import load_sweep
from simbev.sweeps.designs import Factor, design_size, lognormal_omega, sample_design, sample_hash

SAMPLED = """\
name: s
scenario: tiny.yaml
design: {design}
samples: {samples}
seed: {seed}
vary:
  tumor_normoxic_growth_rate: {{low: 0.05, high: 0.2, scale: log}}
  mif_expression: {{low: 0.0, high: 5.0}}
  treatments.0.every_days: {{low: 2, high: 4}}
metrics: [final_tumor_volume]
"""


def _factors(d):
    return [Factor(f"x{i}", low=0.0, high=1.0) for i in range(d)]


@pytest.mark.parametrize("design, samples, d, expected", [
    ("latin_hypercube", 17, 3, 17),
    ("sobol", 8, 3, 8 * (3 + 2)),
    ("morris", 5, 4, 5 * (4 + 1)),
])
def test_sampled_design_sizes(design, samples, d, expected):
    assert design_size(design, _factors(d), samples) == expected
    assert len(sample_design(design, _factors(d), samples, seed=1)) == expected


def test_sobol_second_order_size():
    opts = {"second_order": True}
    assert design_size("sobol", _factors(3), 8, opts) == 8 * (2 * 3 + 2)
    assert len(sample_design("sobol", _factors(3), 8, seed=1, options=opts)) == 64


def test_grid_is_the_cartesian_product_first_factor_slowest():
    f = [Factor("a", values=(1.0, 2.0, 3.0)), Factor("b", values=(10.0, 20.0))]
    samples = sample_design("grid", f)
    assert design_size("grid", f) == 6
    assert samples == [{"a": a, "b": b} for a in (1.0, 2.0, 3.0) for b in (10.0, 20.0)]


def test_cohort_size_and_lognormal_moments():
    """The cohort is log-normal with median = the scenario's value and CV = cv."""
    f = [Factor("k", cv=0.3, base=2.0), Factor("m", cv=0.1, base=5.0)]
    samples = sample_design("cohort", f, 20000, seed=3)
    assert len(samples) == 20000
    k = np.array([s["k"] for s in samples])
    assert np.median(k) == pytest.approx(2.0, rel=0.02)
    assert np.std(k) / np.mean(k) == pytest.approx(0.3, rel=0.05)
    assert np.std(np.log(k)) == pytest.approx(lognormal_omega(0.3), rel=0.03)
    m = np.array([s["m"] for s in samples])
    assert np.corrcoef(np.log(k), np.log(m))[0, 1] == pytest.approx(0.0, abs=0.03)


def test_latin_hypercube_is_stratified_and_within_range():
    f = [Factor("a", low=1.0, high=3.0), Factor("b", low=0.01, high=1.0, scale="log")]
    samples = sample_design("latin_hypercube", f, 50, seed=9)
    a = np.array([s["a"] for s in samples])
    b = np.array([s["b"] for s in samples])
    assert a.min() >= 1.0 and a.max() <= 3.0 and b.min() >= 0.01 and b.max() <= 1.0
    # one point per 1/50 stratum: linear for a, in log space for b
    assert sorted(np.floor((a - 1.0) / 2.0 * 50).astype(int)) == list(range(50))
    u = (np.log(b) - math.log(0.01)) / (math.log(1.0) - math.log(0.01))
    assert sorted(np.floor(u * 50).astype(int)) == list(range(50))


@pytest.mark.parametrize("design, samples", [("latin_hypercube", 9), ("sobol", 8), ("morris", 3)])
def test_same_file_same_samples_other_seed_other_samples(sweep_file, design, samples):
    a = load_sweep(sweep_file(SAMPLED.format(design=design, samples=samples, seed=5), "a.yaml"))
    b = load_sweep(sweep_file(SAMPLED.format(design=design, samples=samples, seed=5), "b.yaml"))
    c = load_sweep(sweep_file(SAMPLED.format(design=design, samples=samples, seed=6), "c.yaml"))
    assert a.sample_values() == b.sample_values()
    assert a.sample_values() != c.sample_values()
    assert len(a.sample_values()) == a.size


def test_cohort_file_is_deterministic_and_centred_on_the_scenario(sweep_file):
    text = """\
    name: c
    arms: [tiny.yaml, tiny_combo.yaml]
    design: cohort
    samples: 12
    seed: 1
    vary:
      mif_expression: {cv: 0.2}
      initial_conditions.tumor_normoxic: {cv: 0.1}
    metrics: [time_to_progression]
    """
    s = load_sweep(sweep_file(text))
    assert s.size == 12 and s.n_tasks == 24
    assert s.sample_values() == load_sweep(sweep_file(text, "again.yaml")).sample_values()
    assert s.factors[0].base == 1.0  # mif_expression default
    assert s.factors[1].base > 0


def test_sample_hash_is_stable_and_content_based():
    """Guards against: a change of the hash format, which would make every stored sweep
    refuse to resume."""
    assert sample_hash({"a": 1.0, "b": 2}) == sample_hash({"b": 2, "a": 1.0})
    assert sample_hash({"a": 1.0}) != sample_hash({"a": 1.0 + 1e-15})
    assert sample_hash({"a": 0.1, "treatments.0.dose": 5.0}) == "696ff962a62d0298"


def test_shipped_sweeps_load_with_expected_sizes():
    from pathlib import Path
    root = Path(__file__).resolve().parents[2] / "configs" / "sweeps"
    grid = load_sweep(root / "bev_dose_by_mif.yaml")
    assert (grid.design, grid.size, len(grid.arms)) == ("grid", 15, 1)
    assert grid.factors[0].values == (2.5, 5.0, 10.0) and grid.factors[0].unit == "mg/kg"
    sobol = load_sweep(root / "sobol_ttp_bevacizumab.yaml")
    assert sobol.design == "sobol" and 6 <= len(sobol.factors) <= 8
    assert "time_to_progression" in sobol.metrics and "final_tumor_volume" in sobol.metrics
    cohort = load_sweep(root / "cohort_bev_vs_combo.yaml")
    assert cohort.design == "cohort" and cohort.size == 100
    assert [a.name for a in cohort.arms] == ["bevacizumab_mouse", "combination_mouse"]
