"""Pharmacokinetics against closed forms (STYLE.md layer 4)."""
import numpy as np
import pytest

import simbev
from simbev import DoseEvent, Regimen, Scenario, SolverSettings
from simbev.protocol.dosing import mg_to_nmol

TIGHT = SolverSettings(rtol=1e-10, atol_scale=1e-3)
NO_TARGET = {"bev_tumor_partition": 0.0}  # no binding in the tumor: pure two-compartment PK


def _two_compartment(t, dose_nmol, cl, vc, q, vp):
    """Central concentration after an IV bolus: A e^(-alpha t) + B e^(-beta t)."""
    k10, k12, k21 = cl / vc, q / vc, q / vp
    s, prod = k10 + k12 + k21, k10 * k21
    disc = np.sqrt(s * s - 4 * prod)
    alpha, beta = (s + disc) / 2, (s - disc) / 2
    c0 = dose_nmol / vc
    a = c0 * (alpha - k21) / (alpha - beta)
    b = c0 * (k21 - beta) / (alpha - beta)
    return a * np.exp(-alpha * t) + b * np.exp(-beta * t), beta


@pytest.mark.parametrize("species", ["mouse", "human"])
def test_bevacizumab_two_compartment_closed_form(species):
    p = simbev.load_parameter_set(species)
    dose = mg_to_nmol(10 * p["body_weight"], p["bev_molecular_weight"])
    r = simbev.simulate(Scenario("pk", 60.0, species=species, output_every_days=0.25), parameters=NO_TARGET,
                        doses=[DoseEvent(0.0, "bevacizumab", "iv_bolus", dose)], settings=TIGHT)
    expected, _ = _two_compartment(r.time, dose, p["bev_clearance"], p["bev_central_volume"],
                                   p["bev_intercompartmental_clearance"], p["bev_peripheral_volume"])
    assert np.allclose(r["bev_central"], expected, rtol=1e-6, atol=0)


@pytest.mark.parametrize("species, low, high", [("mouse", 6.0, 12.0), ("human", 18.0, 22.0)])
@pytest.mark.parametrize("binding", [False, True])
def test_bevacizumab_terminal_half_life(species, low, high, binding):
    """Terminal half-life measured from the simulated plasma curve after one 10 mg/kg dose.

    Without tumor binding it is a property of the PK parameters (days 60-120). With binding
    the tumor is a sink that shortens it; measured while the tumor is still of a realistic
    size (mouse: days 10-30, under ~2 cm^3; human: days 60-120)."""
    p = simbev.load_parameter_set(species)
    dose = mg_to_nmol(10 * p["body_weight"], p["bev_molecular_weight"])
    r = simbev.simulate(Scenario("pk", 120.0, species=species), parameters={} if binding else NO_TARGET,
                        doses=[DoseEvent(0.0, "bevacizumab", "iv_bolus", dose)])
    a, b = (10, 30) if (binding and species == "mouse") else (60, 120)
    c = r["bev_central"]
    half_life = np.log(2) * (b - a) / (np.log(c[a]) - np.log(c[b]))
    assert low <= half_life <= high, half_life


def test_bevacizumab_pk_is_linear_in_dose_without_target():
    def run(mg_per_kg):
        reg = Regimen("bevacizumab", (mg_per_kg, "mg/kg"), "iv_infusion", start_day=0, every_days=14, doses=3,
                      infusion_hours=1.5)
        return simbev.simulate(Scenario("lin", 50.0, species="human", treatments=(reg,)), parameters=NO_TARGET,
                               settings=TIGHT)["bev_central"]
    assert np.allclose(run(10.0), 2 * run(5.0), rtol=1e-7, atol=1e-9)


def test_mtor_inhibitor_oral_one_compartment_closed_form():
    p = simbev.load_parameter_set("human")
    dose_nmol = mg_to_nmol(10.0, p["mtori_molecular_weight"])
    r = simbev.simulate(Scenario("pk", 5.0, species="human", output_every_days=0.05),
                        doses=[DoseEvent(0.0, "mtor_inhibitor", "oral", dose_nmol)], settings=TIGHT)
    ka, ke, v, f = (p["mtori_absorption_rate"], p["mtori_elimination_rate"], p["mtori_volume"],
                    p["mtori_bioavailability"])
    t = r.time
    expected = f * dose_nmol * ka / (v * (ka - ke)) * (np.exp(-ke * t) - np.exp(-ka * t))
    # relative 1e-6, with an absolute floor of 1e-9 of the peak (the decayed tail is below atol)
    assert np.allclose(r["mtori_central"], expected, rtol=1e-6, atol=1e-9 * expected.max())
    depot = f * dose_nmol * np.exp(-ka * t)
    assert np.allclose(r["mtori_depot"], depot, rtol=1e-6, atol=1e-9 * depot.max())


def test_infusion_reaches_closed_form_amount():
    """A 1.5 h infusion delivers its whole dose: mass balance holds during and after it."""
    reg = Regimen("bevacizumab", (10.0, "mg/kg"), "iv_infusion", start_day=1.0, infusion_hours=1.5)
    r = simbev.simulate(Scenario("inf", 3.0, species="human", output_every_days=1 / 48, treatments=(reg,)),
                        settings=TIGHT)
    assert r.bev_mass_balance_residual() < 1e-8
    p = r.parameters
    assert r.bev_dosed_nmol()[-1] == pytest.approx(mg_to_nmol(700.0, p["bev_molecular_weight"]))
