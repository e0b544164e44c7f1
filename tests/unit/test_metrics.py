"""Response metrics against hand-made Results whose answers are known by construction."""
from __future__ import annotations

import math

import numpy as np
import pytest

from simbev.analysis import metrics
from simbev.protocol.dosing import DoseEvent
from simbev.parameters import load_parameter_set
from simbev.result import Result
from simbev.model.states import N_STATES, STATE_INDEX


def make_result(volume, dose_times=(), time=None, hypoxic_share=0.25, m1=None, m2=None, mif=None):
    """A Result with a given tumour-volume curve (split normoxic/hypoxic by ``hypoxic_share``)."""
    volume = np.asarray(volume, dtype=float)
    time = np.arange(len(volume), dtype=float) if time is None else np.asarray(time, dtype=float)
    states = np.zeros((N_STATES, len(time)))
    states[STATE_INDEX["tumor_normoxic"]] = volume * (1 - hypoxic_share)
    states[STATE_INDEX["tumor_hypoxic"]] = volume * hypoxic_share
    states[STATE_INDEX["macrophage_m1"]] = 1.0 if m1 is None else m1
    states[STATE_INDEX["macrophage_m2"]] = 1.0 if m2 is None else m2
    states[STATE_INDEX["mif"]] = 0.0 if mif is None else mif
    doses = [DoseEvent(t, "bevacizumab", "iv_bolus", 10.0) for t in dose_times]
    return Result(time=time, states=states, scenario_name="synthetic", parameters=load_parameter_set("mouse"),
                  doses=doses, dropped_doses=[], solver={}, stats={})


# A treated tumour: grows before the first dose (day 2), shrinks to a nadir of 50 on day 5,
# regrows. The pre-treatment value 40 (day 0) is below the nadir and must be ignored.
V_TREATED = [40, 120, 100, 80, 60, 50, 55, 65, 75, 76, 80]


def test_nadir_and_day_of_min_ignore_pretreatment_values():
    r = make_result(V_TREATED, dose_times=[2.0, 5.5])
    assert metrics.min_tumor_volume(r) == 50.0
    assert metrics.day_of_min(r) == 5.0
    assert metrics.final_tumor_volume(r) == 80.0
    assert metrics.treatment_start(r) == 2.0


def test_time_to_progression_is_counted_from_first_dose():
    r = make_result(V_TREATED, dose_times=[2.0])
    # margin 0.5: threshold 1.5 * 50 = 75 exactly; 75 is not "more than", 76 (day 9) is
    assert metrics.time_to_progression(r, margin=0.5) == 7.0
    # default margin 0.4: threshold 70, first exceeded by 75 on day 8
    assert metrics.PROGRESSION_MARGIN == 0.40
    assert metrics.time_to_progression(r) == 6.0


def test_time_to_progression_uses_the_running_nadir_not_the_final_one():
    # nadir 50 on day 3, 71 > 1.4 * 50 on day 5: progression; the deeper minimum of 10 later
    # must not move it, and the overall nadir is the later one.
    v = [100, 100, 80, 50, 60, 71, 40, 10, 12, 13]
    r = make_result(v, dose_times=[1.0])
    assert metrics.time_to_progression(r) == 4.0
    assert metrics.min_tumor_volume(r) == 10.0
    assert metrics.day_of_min(r) == 7.0


def test_time_to_progression_none_when_it_never_progresses():
    r = make_result([100, 90, 80, 70, 75, 80, 90, 97], dose_times=[0.0])  # 97 < 1.4 * 70 = 98
    assert metrics.time_to_progression(r) is None


def test_volume_at_a_dose_between_outputs_is_the_initial_nadir():
    # first dose at 2.5: the initial nadir is V(2.5) = 90 (interpolated between 80 and 100); no
    # later output is lower, so progression needs V > 1.4 * 90 = 126: 130 on day 6, 3.5 days on
    v = [100, 100, 80, 100, 110, 120, 130]
    r = make_result(v, dose_times=[2.5])
    assert metrics.value_at(r, "tumor_volume", 2.5) == pytest.approx(90.0, rel=0, abs=1e-12)
    assert metrics.min_tumor_volume(r) == 100.0  # the nadir is taken over output times only
    assert metrics.time_to_progression(r) == pytest.approx(3.5, abs=1e-12)
    # a sampled value below V(t0) lowers the running nadir: 80 on day 3 -> threshold 112
    r2 = make_result([100, 100, 100, 80, 100, 113, 90], dose_times=[2.5])
    assert metrics.time_to_progression(r2) == pytest.approx(2.5, abs=1e-12)


def test_untreated_run_has_no_time_to_progression():
    """Guards against: an untreated arm reported with a time to progression (3.5 days in the
    shipped untreated scenario), a metric that needs a treatment to progress on."""
    v = [100, 90, 120, 127, 140]  # would "progress" on day 3 if measured from day 0
    r = make_result(v)
    assert metrics.treatment_start(r) is None
    assert metrics.min_tumor_volume(r) == 90.0
    assert metrics.nadir_day(r) == 1.0
    assert metrics.time_to_progression(r) is None and metrics.progression_day(r) is None
    r2 = make_result([100, 120, 140, 150])
    assert metrics.time_to_progression(r2) is None
    assert metrics.nadir_day(r2) == 0.0


def test_progression_day_is_a_day_of_the_run():
    r = make_result([100, 90, 80, 70, 75, 80, 90, 99], dose_times=[2.0])  # 99 > 98 on day 7
    assert metrics.time_to_progression(r) == 5.0
    assert metrics.progression_day(r) == 7.0
    assert metrics.day_of_min is metrics.nadir_day  # the deprecated name reads the same clock


def test_day_of_min_takes_the_first_of_equal_minima():
    r = make_result([100, 60, 70, 60, 80], dose_times=[0.0])
    assert metrics.day_of_min(r) == 1.0


def test_end_values_and_value_at():
    n = 5
    r = make_result([100] * n, hypoxic_share=0.3, m1=np.linspace(1, 2, n), m2=np.linspace(1, 6, n),
                    mif=np.linspace(4, 2, n))
    assert metrics.hypoxic_fraction_end(r) == pytest.approx(0.3, abs=1e-15)
    assert metrics.m2_m1_ratio_end(r) == 3.0
    assert metrics.mif_end(r) == 2.0
    assert metrics.macrophage_total_end(r) == 8.0
    assert metrics.value_at(r, "mif", 1.5) == pytest.approx(3.25, abs=1e-15)
    assert metrics.value_at(r, "mif", 4) == 2.0
    with pytest.raises(ValueError, match="outside the run"):
        metrics.value_at(r, "mif", 4.5)
    with pytest.raises(KeyError):
        metrics.value_at(r, "no_such_output", 1)


def test_tumor_volume_auc_is_the_trapezoid_area():
    r = make_result([0, 2, 2, 0])  # triangle-trapezoid: 1 + 2 + 1
    assert metrics.tumor_volume_auc(r) == 4.0


def test_progression_margin_must_be_nonnegative():
    r = make_result(V_TREATED, dose_times=[2.0])
    with pytest.raises(ValueError, match="margin"):
        metrics.time_to_progression(r, margin=-0.1)
    assert metrics.time_to_progression(r, margin=0.0) == 4.0  # 55 > 50 on day 6


def test_compute_registry_and_response_metrics():
    r = make_result(V_TREATED, dose_times=[2.0])
    got = metrics.compute(r, ["day_of_min", "tumor_volume@2.5", "time_to_progression"])
    assert list(got) == ["day_of_min", "tumor_volume@2.5", "time_to_progression"]
    assert got == {"day_of_min": 5.0, "tumor_volume@2.5": 90.0, "time_to_progression": 6.0}
    for name, (function, unit, description) in metrics.METRICS.items():
        assert callable(function) and unit and description, name
    resp = metrics.response_metrics(r)
    assert set(metrics.RESPONSE_METRICS) <= set(resp)
    assert resp["treatment_start_day"] == 2.0
    assert resp["min_tumor_volume"] == 50.0
    assert metrics.unit_of("final_tumor_volume") == "mm^3"
    assert metrics.unit_of("mif@3", r) == "nM"


def test_compute_unknown_metric_suggests_nearest():
    r = make_result(V_TREATED)
    with pytest.raises(KeyError, match="final_tumor_volume"):
        metrics.compute(r, ["final_tumour_volume"])
    with pytest.raises(KeyError):
        metrics.compute(r, ["not_an_output@3"])


def test_m2_m1_ratio_end_without_m1_is_infinite():
    r = make_result([1, 1], m1=np.array([1.0, 0.0]), m2=np.array([1.0, 1.0]))
    assert math.isinf(metrics.m2_m1_ratio_end(r))


@pytest.mark.parametrize("name, parsed", [
    ("tumor_volume@28", ("tumor_volume", 28.0)), ("mif@2.5", ("mif", 2.5)), ("mif@.5", ("mif", 0.5)),
    ("mif@5.", ("mif", 5.0)), ("mif@+1e1", ("mif", 10.0)), ("mif@-3", ("mif", -3.0)),
    ("mif@1e", None), ("mif@5-3", None), ("mif@.", None), ("mif@1.2.3", None), ("mif@e5", None),
    ("mif@inf", None), ("mif@nan", None), ("mif@", None), ("@5", None), ("final_tumor_volume", None),
])
def test_one_grammar_for_output_at_day(name, parsed):
    """Guards against: ``<output>@<day>`` read by two grammars with different number rules (a name
    the sweep file refused, ``mif@1e``, passed the metrics' pattern and failed later in float())."""
    assert metrics.parse_at(name) == parsed
    r = make_result(V_TREATED)
    if parsed is None and name != "final_tumor_volume":
        with pytest.raises(KeyError, match="unknown metric"):
            metrics.compute(r, [name])

