"""Volumetric response classifier at its thresholds."""
import pytest

from simbev.analysis.response import MEASURABLE_SPHERE_MM3, ResponseCriteria, assessment_days, classify

T3 = [0, 28, 56]


@pytest.mark.parametrize("volume, expected", [(3499, "PR"), (3501, "SD")])
def test_partial_response_threshold_65_percent(volume, expected):
    assert classify(T3, [10000, volume, volume]).best_response == expected


@pytest.mark.parametrize("volume, expected", [(9801, "PD"), (9799, "SD")])
def test_progression_threshold_40_percent_over_nadir(volume, expected):
    # nadir 7000 at day 28: progression from 1.4 x 7000 = 9800 (not from the baseline)
    a = classify(T3, [10000, 7000, volume])
    assert (a.progression_day == 56) == (expected == "PD")
    assert a.best_response == "SD"  # PD after a stable first scan is SD as best response


def test_progression_measured_from_nadir_not_baseline():
    assert classify(T3, [10000, 4000, 5610]).progression_day == 56
    assert classify(T3, [10000, 4000, 5590]).progression_day is None


def test_first_assessment_progression_is_pd():
    a = classify(T3, [10000, 15000, 30000])
    assert a.best_response == "PD" and a.progression_day == 28 and a.statuses == ("PD",)


def test_confirmation_needs_four_weeks():
    assert classify([0, 28, 56], [10000, 3000, 3000]).best_response == "PR"
    # next scan 27 days later: too early to confirm, and there is no later one
    assert classify([0, 28, 55], [10000, 3000, 3000]).best_response == "SD"
    # a scan 27 days later does not confirm, the one at >= 28 days does
    a = classify([0, 28, 55, 84], [10000, 3000, 3000, 3000])
    assert a.best_response == "PR" and a.response_day == 28


def test_unconfirmed_response_then_progression_is_sd():
    a = classify([0, 28, 56], [10000, 3000, 5000])
    assert a.best_response == "SD" and a.progression_day == 56
    assert a.best_change == pytest.approx(-0.7)


def test_confirmed_response_then_progression_keeps_pr():
    a = classify([0, 28, 56, 84], [10000, 3000, 2500, 4000])
    assert a.best_response == "PR" and a.progression_day == 84


def test_complete_response_needs_no_measurable_disease_confirmed():
    small = MEASURABLE_SPHERE_MM3 * 0.9
    assert classify(T3, [20000, small, small]).best_response == "CR"
    assert classify(T3, [20000, small, small * 1.3]).best_response == "PR"


def test_assessment_days():
    assert assessment_days(100, 28).tolist() == [0, 28, 56, 84]


def test_criteria_are_parameters():
    strict = ResponseCriteria(partial_response_decrease=0.8)
    assert classify(T3, [10000, 3000, 3000], strict).best_response == "SD"


def test_bad_input_is_refused():
    with pytest.raises(ValueError):
        classify([0, 0], [1, 1])
    with pytest.raises(ValueError):
        classify([0, 1], [0, 1])


def test_small_baseline_that_shrinks_a_little_is_not_complete_response():
    """Guards against: calling a 45 % decrease a CR because the baseline was just above 524 mm^3."""
    v = MEASURABLE_SPHERE_MM3 * 1.6
    assert classify(T3, [v, v * 0.55, v * 0.55]).best_response == "SD"
