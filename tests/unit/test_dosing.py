"""Dose expansion and dose semantics at the edges (docs/dosing.md)."""
import numpy as np
import pytest

import simbev
from simbev import DoseEvent, Regimen, Scenario, SolverSettings
from simbev.protocol.dosing import expand, mg_to_nmol, snap
from simbev.model.states import STATE_INDEX as S

MOUSE = simbev.load_parameter_set("mouse")
NMOL_10MGKG_MOUSE = mg_to_nmol(10 * 0.025, 149000.0)


def test_mg_to_nmol():
    assert mg_to_nmol(149.0, 149000.0) == pytest.approx(1000.0)
    assert mg_to_nmol(10.0 * 70, 149000.0) / 2.68 == pytest.approx(1753, rel=1e-3)  # ~1.75 uM peak (Kreisl)


def test_doses_is_the_total_count_not_extra_doses():
    reg = Regimen("bevacizumab", (10, "mg/kg"), "iv_bolus", start_day=14, every_days=14, doses=6)
    applied, dropped = expand([reg], MOUSE, 200)
    assert [d.time for d in applied] == [14, 28, 42, 56, 70, 84]
    assert dropped == []
    assert all(d.amount_nmol == pytest.approx(NMOL_10MGKG_MOUSE) for d in applied)
    assert all(d.amount_mg == pytest.approx(0.25) for d in applied)


def test_stop_day_is_inclusive_and_times_do_not_drift():
    reg = Regimen("bevacizumab", (10, "mg/kg"), "iv_bolus", start_day=0.1, every_days=0.1, stop_day=100.0)
    applied, _ = expand([reg], MOUSE, 200)
    times = [d.time for d in applied]
    assert len(times) == 1000 and times[-1] == 100.0  # 0.1 * 1000 without accumulated error
    assert times[2] == 0.3  # 0.1 + 0.2 snaps to 0.3


def test_doses_past_the_end_are_dropped_and_reported():
    reg = Regimen("bevacizumab", (10, "mg/kg"), "iv_bolus", start_day=0, every_days=7, doses=5)
    r = simbev.simulate(Scenario("t", 20.0, treatments=(reg,)))
    assert [d.time for d in r.doses] == [0, 7, 14]
    assert [d.time for d in r.dropped_doses] == [21, 28]


def test_dose_at_an_output_time_is_reported_after_the_dose():
    reg = Regimen("bevacizumab", (10, "mg/kg"), "iv_bolus", start_day=0.3)
    r = simbev.simulate(Scenario("t", 1.0, output_every_days=0.1, treatments=(reg,)))
    i = int(np.nonzero(r.time == 0.3)[0][0])  # output grid 0.1 * 3 snaps onto the dose time 0.1 + 0.2
    assert r["bev_central"][i - 1] == 0.0
    assert r["bev_central"][i] == pytest.approx(NMOL_10MGKG_MOUSE / MOUSE["bev_central_volume"], rel=1e-12)


def test_dose_at_the_end_time_is_applied_and_shown():
    reg = Regimen("bevacizumab", (10, "mg/kg"), "iv_bolus", start_day=5.0)
    r = simbev.simulate(Scenario("t", 5.0, treatments=(reg,)))
    assert len(r.doses) == 1 and r.dropped_doses == []
    assert r["bev_central"][-1] == pytest.approx(NMOL_10MGKG_MOUSE / MOUSE["bev_central_volume"])
    assert r.bev_mass_balance_residual() < 1e-12


def test_two_regimens_dosing_at_the_same_time_both_apply():
    a = Regimen("bevacizumab", (10, "mg/kg"), "iv_bolus", start_day=2.0)
    b = Regimen("bevacizumab", (5, "mg/kg"), "iv_bolus", start_day=2.0)
    r = simbev.simulate(Scenario("t", 3.0, output_every_days=1, treatments=(a, b)))
    assert [d.regimen for d in r.doses] == [0, 1]
    assert r["bev_central"][2] == pytest.approx(1.5 * NMOL_10MGKG_MOUSE / MOUSE["bev_central_volume"], rel=1e-12)


def test_infusion_overlapping_a_bolus_adds_up():
    tight = SolverSettings(rtol=1e-10, atol_scale=1e-3)
    inf = Regimen("bevacizumab", (10, "mg/kg"), "iv_infusion", start_day=1.0, infusion_hours=12)
    bolus = Regimen("bevacizumab", (10, "mg/kg"), "iv_bolus", start_day=1.25)
    r = simbev.simulate(Scenario("t", 2.0, species="human", output_every_days=0.125, treatments=(inf, bolus)),
                        settings=tight)
    dosed = r.bev_dosed_nmol()
    one = mg_to_nmol(700, 149000.0)
    assert dosed[r.time == 1.25][0] == pytest.approx(one * 0.5 + one)  # half the infusion plus the bolus
    assert dosed[-1] == pytest.approx(2 * one)
    assert r.bev_mass_balance_residual() < 1e-8
    # the infusion window is half-open [1.0, 1.5): nothing dosed at 1.0 itself
    assert dosed[r.time == 1.0][0] == 0.0


def test_oral_dose_enters_the_depot_times_bioavailability():
    d = DoseEvent(1.0, "mtor_inhibitor", "oral", 100.0)
    r = simbev.simulate(Scenario("t", 2.0, output_every_days=1), doses=[d])
    assert r["mtori_depot"][1] == pytest.approx(100.0 * MOUSE["mtori_bioavailability"])


@pytest.mark.parametrize("kwargs, message", [
    (dict(time=-1.0, drug="bevacizumab", route="iv_bolus", amount_nmol=1.0), "time"),
    (dict(time=0.0, drug="bevacizumab", route="iv_bolus", amount_nmol=float("nan")), "amount_nmol"),
    (dict(time=0.0, drug="aspirin", route="iv_bolus", amount_nmol=1.0), "unknown drug"),
    (dict(time=0.0, drug="mtor_inhibitor", route="iv_bolus", amount_nmol=1.0), "route"),
    (dict(time=0.0, drug="bevacizumab", route="iv_infusion", amount_nmol=1.0), "duration"),
])
def test_dose_event_validation(kwargs, message):
    with pytest.raises(ValueError, match=message):
        DoseEvent(**kwargs)


def test_snap_grid():
    assert snap(0.1 + 0.2) == snap(0.3) == 0.3
    assert snap(1e-10) == 0.0


def test_continued_run_keeps_its_mass_balance():
    """Guards against: the residual of a continued run ignored the drug in its initial state."""
    reg = Regimen("bevacizumab", (10, "mg/kg"), "iv_bolus", start_day=1.0, every_days=3.5, stop_day=20)
    first = simbev.simulate(Scenario("a", 8.0, treatments=(reg,)))
    second = simbev.simulate(Scenario("a", 20.0, treatments=(reg,)), initial_state=first.final_state, t_start=8.0)
    assert first.bev_mass_balance_residual() < 1e-6
    assert second.bev_mass_balance_residual() < 1e-6


def test_dose_at_t_start_of_a_zero_length_run_is_applied():
    """Guards against: with t_start == duration_days a dose at that instant was listed, not applied."""
    reg = Regimen("bevacizumab", (10, "mg/kg"), "iv_bolus", start_day=5.0)
    r = simbev.simulate(Scenario("z", 5.0, treatments=(reg,)), t_start=5.0)
    assert len(r.doses) == 1
    assert r["bev_central"][-1] == pytest.approx(NMOL_10MGKG_MOUSE / MOUSE["bev_central_volume"])
