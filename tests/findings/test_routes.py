"""The escape routes, the dose response, the typical patient and the MRI readout, at the defaults.

Each test runs the model and compares arms; none restates a term of the model. The route arms
are those of :mod:`simbev.analysis.routes` (mouse, 10 mg/kg twice weekly from day 14 for eight weeks);
escape is the volumetric progression criterion (> 40 % over the running on-therapy nadir).
"""
import numpy as np
import pytest

import simbev
from simbev import Regimen, Scenario
from simbev.analysis import metrics, routes

PR_FRACTION = 0.35    # volumetric partial response: >= 65 % decrease from baseline
PD_MARGIN = 0.40      # volumetric progression: >= 40 % increase over the nadir


@pytest.fixture(scope="module")
def arms():
    return routes.run_arms()


def test_metabolic_route_alone_escapes(arms):
    """Immune route's MIF lowering removed (vegf_mif_induction = bev_mif_binding = 0)."""
    o = arms["metabolic"][1]
    assert o.escaped and o.regrowth_factor >= 1 + PD_MARGIN, o


def test_immune_route_alone_escapes(arms):
    """lactate_mtor_coupling = 0."""
    o = arms["immune"][1]
    assert o.escaped and o.regrowth_factor >= 1 + PD_MARGIN, o


def test_without_both_routes_no_escape_within_eight_weeks(arms):
    """Negative control of the two above: all three mechanisms removed."""
    o = arms["neither"][1]
    assert not o.escaped and o.regrowth_factor < 1 + PD_MARGIN, o


def test_metabolic_escape_needs_the_lactate_mtor_coupling(arms):
    """The metabolic-route arm with the coupling also removed is the 'neither' arm: the escape of
    the metabolic arm is carried by the coupling, not by what removing the MIF knobs does to
    the untreated tumour."""
    assert arms["metabolic"][1].regrowth_factor - arms["neither"][1].regrowth_factor >= 0.3


def test_early_dose_response_is_monotone_up_to_10_mg_per_kg():
    """Mouse, twice weekly from day 14: 2 and 4 weeks into therapy a higher dose (1 -> 2.5 -> 5 ->
    10 mg/kg) never leaves a larger tumour, and every dose beats no treatment."""
    untreated = simbev.simulate(Scenario("u", 42.0, output_every_days=0.5))
    previous = {2: np.inf, 4: np.inf}
    for dose in (1.0, 2.5, 5.0, 10.0):
        r = simbev.simulate(Scenario("d", 42.0, output_every_days=0.5, treatments=(routes.bevacizumab(dose),)))
        for weeks in (2, 4):
            day = routes.START_DAY + 7 * weeks
            v = metrics.value_at(r, "tumor_volume", day)
            assert v <= previous[weeks], (dose, weeks, v, previous[weeks])
            assert v < metrics.value_at(untreated, "tumor_volume", day)
            previous[weeks] = v


@pytest.fixture(scope="module")
def patient():
    bev = Regimen("bevacizumab", (10.0, "mg/kg"), "iv_infusion", start_day=0, every_days=14, stop_day=365,
                  infusion_hours=1.5)
    return simbev.simulate(Scenario("patient", 365.0, species="human", output_every_days=1.0, treatments=(bev,)))


def test_default_patient_is_not_a_partial_responder_in_cell_volume(patient):
    """Only 26-35 % of recurrent glioblastoma patients respond to bevacizumab (Kreisl 2009,
    Friedman 2009): the default patient's tumour cell volume does not fall by >= 65 %."""
    v = patient["tumor_volume"]
    assert v.min() > PR_FRACTION * v[0], v.min() / v[0]


def test_default_patient_progresses_within_a_year(patient):
    ttp = metrics.time_to_progression(patient)
    assert ttp is not None and ttp <= 365


@pytest.mark.parametrize("species", ["mouse", "human"])
def test_enhancing_volume_falls_faster_than_tumor_volume(species):
    """Bevacizumab's early radiographic response is mostly lower vessel permeability: within four
    days of the first dose (Kreisl 2009: MRI responses within 96 h) the enhancing volume has
    fallen by at least a third, and its relative fall is at least twice that of the tumour cell
    volume."""
    if species == "mouse":
        bev, start = routes.bevacizumab(), routes.START_DAY
    else:
        bev, start = Regimen("bevacizumab", (10.0, "mg/kg"), "iv_infusion", start_day=0, infusion_hours=1.5), 0.0
    r = simbev.simulate(Scenario("e", start + 4.0, species=species, output_every_days=0.25, treatments=(bev,)))
    e0, e4 = metrics.value_at(r, "enhancing_volume", start), metrics.value_at(r, "enhancing_volume", start + 4)
    v0, v4 = metrics.value_at(r, "tumor_volume", start), metrics.value_at(r, "tumor_volume", start + 4)
    assert e4 <= 2 / 3 * e0, e4 / e0
    assert 1 - e4 / e0 >= 2 * (1 - v4 / v0), (e4 / e0, v4 / v0)


def test_without_bevacizumab_the_enhancing_volume_tracks_the_tumor():
    """Negative control: untreated, the enhancing share of the tumour stays within 10 % of its start."""
    r = simbev.simulate(Scenario("u", 14.0, output_every_days=0.5))
    share = r["enhancing_volume"] / r["tumor_volume"]
    assert np.all(np.abs(share / share[0] - 1) < 0.1), share


@pytest.mark.parametrize("name", ["untreated", "mif_knockdown"])
def test_shipped_untreated_mouse_scenarios_stop_near_the_humane_end_point(name):
    """Guards against: shipped untreated mouse scenarios running weeks past the humane end point
    (an untreated mouse tumour of 4-5 cm^3, about 20 % of body mass, that no experiment reaches).
    The run may pass the end point by a few days, not by more than 40 % in volume."""
    from pathlib import Path

    from simbev.scenario.file import load_scenario

    root = Path(__file__).resolve().parents[2]
    scenario = load_scenario(root / "configs" / "scenarios" / f"{name}.yaml")
    endpoint = simbev.load_parameter_set(scenario.species)["endpoint_tumor_volume"]
    r = simbev.simulate(scenario)
    assert r["tumor_volume"].max() <= 1.4 * endpoint, (r["tumor_volume"].max(), endpoint)
