"""simulate() with a solver chosen by name or object; the Result keeps its scenario and computes
its metrics once; the route table is what every path applies."""
import numpy as np
import pytest

import simbev
from simbev import DoseEvent, Regimen, Scenario
from simbev.analysis import metrics as M
from simbev.model.states import N_STATES, STATE_INDEX
from simbev.protocol.events import apply_jumps, infusion_rate
from simbev.protocol.routes import ROUTE_TABLE
from simbev.solvers.base import ReferenceSolver, Solver, get_solver

BEV = Regimen("bevacizumab", (10.0, "mg/kg"), "iv_bolus", start_day=2, every_days=7, stop_day=20)


def _scenario():
    return Scenario("short", 20.0, species="mouse", output_every_days=1.0, treatments=(BEV,))


def test_solver_object_is_used_and_gives_the_reference_answer():
    calls = []

    class Counting(ReferenceSolver):
        def integrate(self, *args):
            calls.append(1)
            return super().integrate(*args)

    scenario = _scenario()
    ref = simbev.simulate(scenario)
    mine = simbev.simulate(scenario, solver=Counting())
    assert calls == [1]
    assert np.array_equal(mine.states, ref.states) and np.array_equal(mine.time, ref.time)


def test_unknown_solver_name_is_refused():
    with pytest.raises(ValueError, match="unknown solver 'rk4'"):
        simbev.simulate(_scenario(), solver="rk4")
    assert isinstance(get_solver("compiled"), Solver)


def test_result_knows_its_scenario_and_computes_its_metrics_once(monkeypatch):
    scenario = _scenario()
    result = simbev.simulate(scenario)
    assert result.scenario is scenario
    expected = M.response_metrics(result)
    calls = []
    real = M.response_metrics
    monkeypatch.setattr(M, "response_metrics", lambda r: calls.append(1) or real(r))
    assert result.metrics() == expected
    assert result.metrics() == expected
    assert calls == [1]
    assert result.metrics(["tumor_volume@5"]) == {"tumor_volume@5": M.value_at(result, "tumor_volume", 5.0)}


def test_route_table_jumps_and_rates():
    """A bolus raises the central concentration by amount / volume, an oral dose the depot by
    amount * bioavailability; an infusion is a rate on [t, t + duration), no jump."""
    p = simbev.load_parameter_set("mouse").model_parameters()
    y = np.zeros(N_STATES)
    doses = [DoseEvent(1.0, "bevacizumab", "iv_bolus", 30.0), DoseEvent(1.0, "mtor_inhibitor", "oral", 8.0),
             DoseEvent(1.0, "bevacizumab", "iv_infusion", 5.0, duration_days=0.5)]
    after = apply_jumps(y, doses, p)
    assert after[STATE_INDEX["bev_central"]] == 30.0 / p.bev_central_volume
    assert after[STATE_INDEX["mtori_depot"]] == 8.0 * p.mtori_bioavailability
    assert np.count_nonzero(after) == 2
    assert infusion_rate(doses, 1.0) == 10.0 and infusion_rate(doses, 1.5) == 0.0
    assert set(ROUTE_TABLE) == {r for routes in simbev.protocol.dosing.ROUTES.values() for r in routes}
