"""The solver back ends agree with each other and with a tight reference; failures are loud."""
import numpy as np
import pytest

import simbev
from simbev import Scenario, SimulationError, SolverSettings
from simbev.model.states import ATOL, STATE_NAMES

from simbev_testdata import MOUSE_BEV, MOUSE_MTORI


@pytest.mark.parametrize("method", ["LSODA", "BDF"])
def test_default_tolerance_agrees_with_tight_reference(method):
    scenario = Scenario("combo", 40.0, treatments=(MOUSE_BEV, MOUSE_MTORI))
    ref = simbev.simulate(scenario, settings=SolverSettings(method="Radau", rtol=1e-10, atol_scale=1e-3))
    got = simbev.simulate(scenario, settings=SolverSettings(method=method))
    floor = 1e3 * ATOL[:, None]  # states below 1000 x atol are resolved only to atol
    rel = np.abs(got.states - ref.states) / (np.abs(ref.states) + floor)
    worst = np.unravel_index(rel.argmax(), rel.shape)
    assert rel.max() < 1e-3, (STATE_NAMES[worst[0]], ref.time[worst[1]], rel.max())


def test_blow_up_raises_simulation_error_with_time_state_and_parameters():
    """Guards against silent NaN: an exploding run must stop with where and with what.

    Vessel co-option is switched off: with it, vessels grow in lock-step with a tumour
    proliferating at 1e4/day and the reference BDF solver crawls for minutes before the state
    overflows (a known weakness for absurd parameters, reported in docs/model.md)."""
    with pytest.raises(SimulationError) as err:
        simbev.simulate(Scenario("boom", 30.0), parameters={"tumor_normoxic_growth_rate": 1e4,
                                                              "tumor_normoxic_death_rate": 0.0,
                                                              "vessel_cooption_yield": 0.0})
    e = err.value
    assert 0.0 <= e.time <= 30.0
    assert set(e.state) == set(STATE_NAMES)
    assert e.parameters["tumor_normoxic_growth_rate"] == 1e4
    assert "t = " in str(e)


def test_unknown_method_is_refused():
    with pytest.raises(ValueError, match="unknown solver method"):
        simbev.simulate(Scenario("x", 1.0), settings=SolverSettings(method="Euler"))


@pytest.mark.parametrize("method", ["LSODA", "BDF"])
@pytest.mark.parametrize("name", ["tumor_cell_density", "bev_central_volume", "macrophage_capacity", "tumor_hypoxia_vessel_ratio"])
def test_degenerate_parameter_gives_simulation_error_not_a_crash(name, method):
    """Guards against: a zero in a denominator raised a bare ValueError/ZeroDivisionError. Such a
    zero is now refused before integrating by the admissibility contract (an InputError naming the
    parameter; both are SimbevErrors, exit 2)."""
    from simbev.errors import InputError
    with pytest.raises(InputError, match=name):
        simbev.simulate(Scenario("zero", 5.0), parameters={name: 0.0}, settings=SolverSettings(method=method))


def test_scenarios_and_parameter_sets_pickle():
    import pickle
    s = Scenario("p", 3.0, parameters={"mif_expression": 0.2}, treatments=(MOUSE_BEV,))
    assert pickle.loads(pickle.dumps(s)) == s
    pset = simbev.load_parameter_set("human")
    assert pickle.loads(pickle.dumps(pset)).values() == pset.values()
    with pytest.raises(TypeError):
        s.parameters["mif_expression"] = 1.0
