"""Invariants over seeded random parameter draws (STYLE.md layer 2)."""
import numpy as np
import pytest

import simbev
from simbev import DoseEvent, Regimen, Scenario, SolverSettings
from simbev.model.states import ATOL, STATE_INDEX as S

from simbev_testdata import HUMAN_BEV, MOUSE_BEV, MOUSE_MTORI, random_parameters

N_DRAWS = 12


@pytest.mark.slow
@pytest.mark.parametrize("species", ["mouse", "human"])
@pytest.mark.parametrize("seed", range(N_DRAWS))
def test_states_non_negative_finite_and_bev_mass_conserved(species, seed):
    """Every kinetic parameter drawn log-uniformly over its whole plausible range. Also: the
    mature (VEGF-independent) vessels are a part of the vessel capacity, and vessel permeability
    is a fraction."""
    rng = np.random.default_rng(1000 * (species == "human") + seed)
    params = random_parameters(species, rng)
    if species == "mouse":
        treatments = (MOUSE_BEV, MOUSE_MTORI)
    else:
        treatments = (HUMAN_BEV, Regimen("mtor_inhibitor", (10.0, "mg"), "oral", start_day=0, every_days=1, stop_day=90))
    result = simbev.simulate(Scenario("draw", 90.0, species=species, treatments=treatments), parameters=params)
    assert np.all(np.isfinite(result.states))
    # non-negative up to the solver's absolute tolerance of each state
    assert np.all(result.states >= -ATOL[:, None] * 10), result.states.min(axis=1)
    assert result.bev_mass_balance_residual() <= 1e-6
    k, km = result["vessel_capacity"], result["vessel_mature"]
    assert np.all(km <= k * (1 + 1e-6) + 10 * ATOL[S["vessel_mature"]])
    perm = result["vessel_permeability"]
    assert np.all((perm >= -1e-8) & (perm <= 1 + 1e-8))


def _run(scenario, **kw):
    return simbev.simulate(scenario, **kw)


def test_zero_dose_reproduces_untreated_exactly():
    untreated = _run(Scenario("c", 40.0))
    zero = Regimen("bevacizumab", (0.0, "mg/kg"), "iv_bolus", start_day=5, every_days=3.5, stop_day=40)
    zero_oral = Regimen("mtor_inhibitor", (0.0, "mg"), "oral", start_day=1, every_days=1, stop_day=40)
    treated = _run(Scenario("z", 40.0, treatments=(zero, zero_oral)))
    direct = _run(Scenario("d", 40.0), doses=[DoseEvent(3.0, "bevacizumab", "iv_bolus", 0.0)])
    assert np.array_equal(untreated.states, treated.states)
    assert np.array_equal(untreated.states, direct.states)
    assert treated.doses == []


@pytest.mark.parametrize("knob", simbev.model.KNOBS)
def test_neutral_knob_reproduces_default_run_exactly(knob):
    scenario = Scenario("k", 30.0, treatments=(MOUSE_BEV, MOUSE_MTORI))
    base = _run(scenario)
    neutral = _run(scenario, parameters={knob: 1.0})
    assert np.array_equal(base.states, neutral.states)
    ablated = _run(scenario, parameters={knob: 0.0})
    assert not np.allclose(base.states, ablated.states, rtol=1e-3), f"{knob}=0 changes nothing"


@pytest.mark.parametrize("split", [7.0, 12.25, 29.9])
def test_splitting_a_run_changes_nothing_beyond_tolerance(split):
    settings = SolverSettings(rtol=1e-8, atol_scale=1e-2)
    scenario = Scenario("s", 40.0, output_every_days=0.5, treatments=(MOUSE_BEV, MOUSE_MTORI))
    whole = _run(scenario, settings=settings)
    first = _run(Scenario("s", split, output_every_days=0.5, treatments=(MOUSE_BEV, MOUSE_MTORI)), settings=settings)
    second = _run(scenario, initial_state=first.final_state, t_start=split, settings=settings)
    # the second part starts with the doses at or after the split
    assert all(d.time >= split for d in second.doses)
    common = np.intersect1d(whole.time, second.time)
    a = whole.states[:, np.isin(whole.time, common)]
    b = second.states[:, np.isin(second.time, common)]
    scale = np.abs(a) + 100 * ATOL[:, None] * 1e-2
    assert np.max(np.abs(a - b) / scale) < 1e-5


def test_untreated_tumor_grows_and_bevacizumab_does_what_it_should():
    """Issue 2 'done when': untreated growth; bevacizumab suppresses VEGF, prunes vessels,
    raises the hypoxic fraction and lowers free MIF (compared at the same time)."""
    untreated = _run(Scenario("u", 28.0))
    bev = _run(Scenario("b", 28.0, treatments=(MOUSE_BEV,)))
    v = untreated["tumor_volume"]
    assert v[-1] > 4 * v[0]
    i = -1
    assert bev["vegf"][i] < 0.5 * untreated["vegf"][i]
    assert bev["vessel_capacity"][i] < 0.7 * untreated["vessel_capacity"][i]
    # hypoxia at 14 days after the first dose (day 21), when A2 reads it: by day 28 the M2
    # route has started revascularising the treated tumour while the untreated one outgrows
    # its vessels, so the gap narrows (0.39 vs 0.30 at day 28)
    j = int(np.searchsorted(bev.time, 21.0))
    assert bev["hypoxic_fraction"][j] > untreated["hypoxic_fraction"][j] + 0.1
    assert bev["hypoxic_fraction"][i] > untreated["hypoxic_fraction"][i]
    assert bev["mif"][i] < 0.7 * untreated["mif"][i]
    assert bev["tumor_volume"][i] < untreated["tumor_volume"][i]
