"""Acceptance–rejection selection (Allen, Rieger & Musante 2016) on toy problems with known answers."""
import numpy as np
import pytest
from scipy.stats import kstest, norm

from simbev.trial import selection


def _normal_logpdf(mu, sd):
    return lambda x: norm.logpdf(x[:, 0], mu, sd)


def test_uniform_plausible_to_normal_target_moments():
    rng = np.random.default_rng(11)
    x = rng.uniform(-5, 5, 12_000)
    p = selection.inclusion_probability(x, _normal_logpdf(0.5, 1.0))
    idx = selection.select(p, np.random.default_rng(12))
    chosen = x[idx]
    # acceptance ~ (1/10) / max density 0.4 = 0.25 of 12 000
    assert 2_000 < chosen.size < 4_000
    assert chosen.mean() == pytest.approx(0.5, abs=0.07)
    assert chosen.std() == pytest.approx(1.0, abs=0.07)
    assert kstest(chosen, "norm", args=(0.5, 1.0)).pvalue > 0.01


def test_negative_control_without_selection_moments_are_those_of_the_uniform():
    """The selected moments come from the selection: keeping everyone (p = 1) gives the
    uniform's mean 0 and sd 10/sqrt(12) = 2.89, far from the target's."""
    rng = np.random.default_rng(11)
    x = rng.uniform(-5, 5, 12_000)
    idx = selection.select(np.ones_like(x), np.random.default_rng(12))
    assert x[idx].std() == pytest.approx(10 / np.sqrt(12), rel=0.02)


def test_nonuniform_plausible_density_is_divided_out():
    """Plausible N(0, 2), target N(1, 0.7): the ratio must divide by the plausible density."""
    rng = np.random.default_rng(5)
    x = rng.normal(0.0, 2.0, 12_000)
    idx = selection.select(selection.inclusion_probability(x, _normal_logpdf(1.0, 0.7)), np.random.default_rng(6))
    assert x[idx].mean() == pytest.approx(1.0, abs=0.07)
    assert x[idx].std() == pytest.approx(0.7, abs=0.07)


def test_two_dimensional_target_with_correlation():
    rng = np.random.default_rng(8)
    x = rng.uniform(-4, 4, (15_000, 2))
    cov = np.array([[1.0, 0.6], [0.6, 1.0]])
    inv = np.linalg.inv(cov)
    logpdf = lambda z: -0.5 * np.einsum("ij,jk,ik->i", z, inv, z)  # noqa: E731
    idx = selection.select(selection.inclusion_probability(x, logpdf), np.random.default_rng(9))
    c = np.corrcoef(x[idx].T)[0, 1]
    assert c == pytest.approx(0.6, abs=0.07)


def test_scale_trades_fidelity_for_size():
    rng = np.random.default_rng(1)
    x = rng.uniform(-5, 5, 8_000)
    f = _normal_logpdf(0.0, 1.0)
    r = selection.density_ratio(x, f)
    n1 = selection.select(np.minimum(1, r), np.random.default_rng(2)).size
    n4 = selection.select(np.minimum(1, 4 * r), np.random.default_rng(2)).size
    assert n4 > 1.5 * n1
    # choose_scale with a fit that rewards sd close to 1: scale 1 wins over 32
    fit = lambda idx: -abs(x[idx].std() - 1.0)  # noqa: E731
    scale, idx, table = selection.choose_scale(x, f, fit, lambda: np.random.default_rng(3), scales=(1, 32))
    assert scale == 1.0 and len(table) == 2
    with pytest.raises(ValueError, match="screen more"):
        selection.choose_scale(x, f, fit, lambda: np.random.default_rng(3), scales=(1,), min_selected=10**6)


def test_selection_is_deterministic_for_a_seed():
    x = np.random.default_rng(1).uniform(-5, 5, 5000)
    p = selection.inclusion_probability(x, _normal_logpdf(0, 1))
    a = selection.select(p, np.random.default_rng(4))
    b = selection.select(p, np.random.default_rng(4))
    assert np.array_equal(a, b)


def test_response_tilt_reaches_the_target_rate_after_clipping():
    from simbev.trial.population import _tilted

    rng = np.random.default_rng(2)
    ratio = rng.uniform(0, 1, 5000) ** 3
    responder = rng.random(5000) < 0.6
    for scale in (1.0, 50.0):
        p, c = _tilted(ratio, responder, 0.35, scale)
        assert p.max() <= 1.0
        assert p[responder].sum() / p.sum() == pytest.approx(0.35, abs=1e-6)
        assert c < 1.0  # responders are over-represented, so they are weighted down


def test_lognormal_target_from_median_and_landmark():
    from simbev.trial.statistics import lognormal_from_median_and_landmark

    mu, sigma = lognormal_from_median_and_landmark(112.0, 182.0, 0.29)
    assert np.exp(mu) == pytest.approx(112.0)
    assert 1 - norm.cdf((np.log(182.0) - mu) / sigma) == pytest.approx(0.29)
    with pytest.raises(ValueError):
        lognormal_from_median_and_landmark(112.0, 182.0, 0.6)  # 60 % alive after the median: impossible
