"""Kaplan–Meier, Greenwood, Brookmeyer–Crowley against hand-computed values."""
import math

import numpy as np
import pytest
from scipy.stats import binomtest, norm

from simbev.analysis import survival as sv

# Six subjects: events at 1, 2, 3, 5; censored at 2 (tied with an event) and 4.
TIMES = [1, 2, 2, 3, 4, 5]
EVENTS = [1, 1, 0, 1, 0, 1]


def test_kaplan_meier_by_hand():
    km = sv.kaplan_meier(TIMES, EVENTS)
    # at risk: t=1: 6; t=2: 5 (the subject censored at 2 is still at risk); t=3: 3; t=5: 1
    assert km.time.tolist() == [1, 2, 3, 5]
    assert km.at_risk.tolist() == [6, 5, 3, 1]
    assert km.events.tolist() == [1, 1, 1, 1]
    np.testing.assert_allclose(km.survival, [5 / 6, 2 / 3, 4 / 9, 0.0])


def test_greenwood_variance_by_hand():
    km = sv.kaplan_meier(TIMES, EVENTS)
    # sum d/(n(n-d)): 1/30; + 1/20 = 1/12; + 1/6 = 1/4
    np.testing.assert_allclose(km.greenwood[:3], [1 / 30, 1 / 12, 1 / 4])
    assert math.isinf(km.greenwood[3])
    # Var S(3) = (4/9)^2 * 1/4 = 4/81 -> se 2/9
    assert km.std_error[2] == pytest.approx(2 / 9)
    # log-log interval at t = 3
    z = norm.ppf(0.975)
    s = 0.5 / abs(math.log(4 / 9))
    assert km.lower[2] == pytest.approx((4 / 9) ** math.exp(z * s))
    assert km.upper[2] == pytest.approx((4 / 9) ** math.exp(-z * s))
    assert km.lower[2] < 4 / 9 < km.upper[2]


def test_survival_at_is_right_continuous_and_undefined_past_follow_up():
    km = sv.kaplan_meier(TIMES, EVENTS)
    assert sv.survival_at(km, 0.5) == (1.0, 1.0, 1.0)
    assert sv.survival_at(km, 2.0)[0] == pytest.approx(2 / 3)
    assert sv.survival_at(km, 2.999)[0] == pytest.approx(2 / 3)
    assert sv.survival_at(km, 4.0)[0] == pytest.approx(4 / 9)
    assert math.isnan(sv.survival_at(km, 6.0)[0])


def test_median_with_brookmeyer_crowley_interval_by_hand():
    km = sv.kaplan_meier(TIMES, EVENTS)
    est, lo, hi = sv.median(km)
    assert est == 3.0
    # lower band at t=1: (5/6)^exp(z sqrt(1/30)/ln(6/5)) = 0.27 <= 0.5 -> lower limit 1
    z = norm.ppf(0.975)
    assert (5 / 6) ** math.exp(z * math.sqrt(1 / 30) / math.log(6 / 5)) < 0.5
    assert lo == 1.0
    # upper band: 0.785 at t=3, 0 at t=5 -> upper limit 5
    assert hi == 5.0


def test_median_exactly_one_half_is_midpoint():
    km = sv.kaplan_meier([1, 2, 3, 4], [1, 1, 1, 1])
    assert sv.median(km)[0] == 2.5


def test_median_not_reached():
    km = sv.kaplan_meier([1, 5, 5, 5, 5], [1, 0, 0, 0, 0])
    est, lo, hi = sv.median(km)
    # S = 0.8 after day 1; its lower band (0.20) is below 0.5, so the interval opens at day 1
    assert est is None and hi is None and lo == 1.0


def test_numbers_at_risk():
    assert sv.numbers_at_risk(TIMES, [0, 2, 4, 6]).tolist() == [6, 5, 2, 0]


def test_pfs_at_six_months_interval_covers_the_truth_95_percent_of_the_time():
    """Greenwood + log-log: the pointwise 95 % interval at 182 days covers the true S(182)
    in about 95 % of simulated trials (exponential times, uniform censoring)."""
    rng = np.random.default_rng(3)
    truth = math.exp(-182 / 150)
    covered, reps = 0, 400
    for _ in range(reps):
        t = rng.exponential(150.0, 100)
        c = rng.uniform(100, 400, 100)
        km = sv.kaplan_meier(np.minimum(t, c), t <= c)
        s, lo, hi = sv.survival_at(km, 182)
        assert lo <= s <= hi
        covered += lo <= truth <= hi
    # binomial sd of the coverage over 400 trials ~ 1.1 %
    assert 0.92 <= covered / reps <= 0.98


def test_proportion_ci_is_clopper_pearson():
    p, lo, hi = sv.proportion_ci(17, 48)
    ref = binomtest(17, 48).proportion_ci(0.95, method="exact")
    assert p == pytest.approx(17 / 48)
    assert (lo, hi) == (pytest.approx(ref.low), pytest.approx(ref.high))
    assert sv.proportion_ci(0, 10)[1] == 0.0 and sv.proportion_ci(10, 10)[2] == 1.0


def test_bad_input_is_refused():
    with pytest.raises(ValueError):
        sv.kaplan_meier([1, -1], [1, 1])
    with pytest.raises(ValueError):
        sv.kaplan_meier([1, 2], [1, 2])


def test_unpacks_as_the_step_function_and_accepts_no_subjects():
    t, s = sv.kaplan_meier([2, 2, 3, 5, 10], [True, True, False, True, False])
    np.testing.assert_allclose(t, [0, 2, 5])
    np.testing.assert_allclose(s, [1, 0.6, 0.3])
    t, s = sv.kaplan_meier([], [])
    assert t.tolist() == [0.0] and s.tolist() == [1.0]
