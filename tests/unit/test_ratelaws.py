"""Rate laws at their limits."""
import numpy as np
import pytest

from simbev.model.ratelaws import hill, repression, saturation


@pytest.mark.parametrize("k", [0.1, 1.0, 17.0])
def test_saturation_limits(k):
    assert saturation(0.0, k) == 0.0
    assert saturation(k, k) == pytest.approx(0.5, rel=1e-15)
    assert saturation(1e12 * k, k) == pytest.approx(1.0, rel=1e-9)
    assert saturation(-1.0, k) == 0.0  # solver undershoot is no negative flux


@pytest.mark.parametrize("n", [1.0, 2.0, 3.5])
def test_hill_and_repression_are_complementary(n):
    x = np.linspace(0, 10, 41)
    assert np.allclose(hill(x, 2.0, n) + repression(x, 2.0, n), 1.0, rtol=0, atol=1e-15)
    assert hill(2.0, 2.0, n) == pytest.approx(0.5)
    assert repression(0.0, 2.0, n) == 1.0
    assert hill(0.0, 2.0, n) == 0.0
    assert np.all(np.diff(hill(x, 2.0, n)) > 0)


def test_rate_laws_accept_complex_step():
    """The Jacobian is a complex step: d/dx of x/(k+x) at x is k/(k+x)^2."""
    h = 1e-30
    x, k = 3.0, 2.0
    assert saturation(x + 1j * h, k).imag / h == pytest.approx(k / (k + x) ** 2, rel=1e-14)
