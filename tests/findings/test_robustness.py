"""Robustness and sensitivity machinery (simbev.robustness, experiments e02 and e03): the Wilson
interval, the samplers, the joint holds-fraction, the checkpoint of e02 and the sweep files of e03."""
import importlib.util
import json
import math
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simbev import load_parameter_set

try:  # the package layout of issue 11
    from simbev.sweeps import robustness
except ImportError:
    from simbev import robustness

ROOT = Path(__file__).resolve().parents[2]
KNOBS = {"mif_expression", "vegf_mif_induction", "bev_mif_binding", "lactate_mtor_coupling",
         "glut2_induction", "bev_molecular_weight", "mtori_molecular_weight", "body_weight"}


def _experiment(name, monkeypatch):
    monkeypatch.syspath_prepend(str(ROOT / "experiments"))
    spec = importlib.util.spec_from_file_location(name, ROOT / "experiments" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, name, module)  # worker processes unpickle from it
    spec.loader.exec_module(module)
    return module


# --- Wilson interval -------------------------------------------------------------------------------

def test_wilson_interval_matches_the_hand_computed_case():
    # 8 of 10, z = 1.96: p = 0.8, denominator 1 + 3.8416/10 = 1.38416, centre 0.8 + 3.8416/20 = 0.99208,
    # half-width 1.96 sqrt(0.016 + 3.8416/400) = 0.313624 -> (0.49016, 0.94332)
    low, high = robustness.wilson_interval(8, 10, z=1.96)
    assert low == pytest.approx(0.49016, abs=1e-5)
    assert high == pytest.approx(0.94332, abs=1e-5)


def test_wilson_interval_at_zero_and_all_successes():
    """At k = 0 the interval is [0, z^2 / (n + z^2)] (closed form); at k = n it mirrors."""
    z = 1.959963984540054
    assert robustness.wilson_interval(0, 20) == pytest.approx((0.0, z * z / (20 + z * z)))
    assert robustness.wilson_interval(20, 20) == pytest.approx((20 / (20 + z * z), 1.0))


def test_wilson_interval_refuses_impossible_counts():
    with pytest.raises(ValueError):
        robustness.wilson_interval(11, 10)


# --- samplers --------------------------------------------------------------------------------------

@pytest.mark.parametrize("species", ["mouse", "human"])
def test_range_sampler_stays_within_the_documented_ranges_and_is_seeded(species):
    records = load_parameter_set(species).records
    draws = [robustness.sample_ranges(species, np.random.default_rng([5, i]), KNOBS) for i in range(300)]
    for d in draws:
        assert not KNOBS & set(d)
        for name, x in d.items():
            assert records[name].low <= x <= records[name].high, name
    again = [robustness.sample_ranges(species, np.random.default_rng([5, i]), KNOBS) for i in range(300)]
    assert again == draws
    assert robustness.sample_ranges(species, np.random.default_rng([6, 0]), KNOBS) != draws[0]
    varied = {f.name for f in robustness.range_factors(species, KNOBS)}
    assert set(draws[0]) == varied
    # every parameter with a non-degenerate range and not fixed is varied
    assert varied == {n for n, r in records.items() if n not in KNOBS and r.high > r.low}


def test_range_sampler_is_log_uniform_on_positive_ranges_and_uniform_from_zero():
    draws = [robustness.sample_ranges("mouse", np.random.default_rng([9, i]), KNOBS) for i in range(2000)]
    rec = load_parameter_set("mouse").records
    # bev_mif_koff, range [3, 1000]: log-uniform, so the median is the geometric mid-point (~55)
    x = np.array([d["bev_mif_koff"] for d in draws])
    assert np.median(np.log(x)) == pytest.approx(0.5 * (math.log(rec["bev_mif_koff"].low)
                                                         + math.log(rec["bev_mif_koff"].high)), abs=0.25)
    # vessel_loss_rate, range [0, 0.1]: uniform, mean 0.05
    y = np.array([d["vessel_loss_rate"] for d in draws])
    assert y.mean() == pytest.approx(0.05, abs=0.004)


def test_box_sampler_stays_within_the_box_and_leaves_zeros_and_knobs():
    records = load_parameter_set("mouse").records
    for i in range(100):
        d = robustness.sample_box("mouse", np.random.default_rng([3, i]), 0.5, KNOBS)
        for name, x in d.items():
            v = records[name].value
            assert v / 1.5 <= x <= v * 1.5, name
        assert "vessel_loss_rate" not in d  # default 0: cannot be scaled
        assert not KNOBS & set(d)
    assert robustness.sample_box("mouse", np.random.default_rng(1), 0.2) == \
        robustness.sample_box("mouse", np.random.default_rng(1), 0.2)


# --- holds-fractions ---------------------------------------------------------------------------------

def test_joint_fraction_on_a_toy_input():
    rows = [{"A": True, "B": True}, {"A": True, "B": False}, {"A": False, "B": True}, None,
            {"A": True}]  # a failed run (None) and a missing check count as not holding
    got = robustness.holds_fractions(rows, ["A", "B"])
    assert (got["A"]["holds"], got["B"]["holds"], got["joint"]["holds"]) == (3, 2, 1)
    assert got["joint"]["fraction"] == pytest.approx(1 / 5)
    assert (got["joint"]["low"], got["joint"]["high"]) == pytest.approx(robustness.wilson_interval(1, 5))


@settings(max_examples=60, deadline=None)
@given(st.lists(st.lists(st.booleans(), min_size=3, max_size=3), min_size=1, max_size=40))
def test_joint_fraction_is_the_share_of_samples_where_all_hold(table):
    rows = [dict(zip("XYZ", r)) for r in table]
    got = robustness.holds_fractions(rows, list("XYZ"))
    assert got["joint"]["fraction"] == pytest.approx(np.mean([all(r) for r in table]))
    assert got["joint"]["fraction"] <= min(got[k]["fraction"] for k in "XYZ")


# --- e02: checkpoint and the docs block ---------------------------------------------------------------

def test_e02_resumes_from_its_checkpoint_and_ignores_rows_of_another_model(monkeypatch, tmp_path):
    e02 = _experiment("e02_robustness", monkeypatch)
    monkeypatch.setattr(e02, "CACHE", tmp_path)
    kw = dict(settings=["mouse_5mgkg_weekly"], boxes=["pm20", "range"], progress=False)

    def outcome(rows):  # what a sample found (not how long it took)
        return {k: (r.get("holds"), r.get("error")) for k, r in rows.items()}

    first = outcome(e02.run_samples(2, 1, **kw))
    path = tmp_path / "samples.jsonl"
    lines = path.read_text().splitlines()
    assert len(lines) == 4 and set(first) == {("mouse_5mgkg_weekly", b, i) for b in ("pm20", "range") for i in (0, 1)}
    assert e02.run_samples(2, 1, **kw) == e02._load(path, e02.model_fingerprint())  # nothing recomputed
    assert len(path.read_text().splitlines()) == 4
    forged = dict(json.loads(lines[0]), model="0" * 16)
    forged["holds"] = {k: not v for k, v in forged.get("holds", {}).items()}
    path.write_text("\n".join([json.dumps(forged)] + lines[1:]) + "\n")
    assert outcome(e02.run_samples(2, 1, **kw)) == first  # the foreign row was not taken
    assert len(path.read_text().splitlines()) == 5


def test_e02_samples_are_the_same_for_both_mouse_settings_and_differ_by_box(monkeypatch):
    e02 = _experiment("e02_robustness", monkeypatch)
    a = e02.sample_parameters("pm50", "mouse", 3)
    assert a == e02.sample_parameters("pm50", "mouse", 3)
    assert a != e02.sample_parameters("range", "mouse", 3)
    assert a != e02.sample_parameters("pm50", "mouse", 4)


def test_report_block_keeps_the_rest_of_the_file_and_each_sub_block(monkeypatch):
    monkeypatch.syspath_prepend(str(ROOT / "experiments"))
    from _report_block import replace_block
    text = "# findings\n\nbody\n"
    one = replace_block(text, "e02", "robust table v1")
    assert one.startswith(text.rstrip("\n")) and "<!-- robust:begin -->" in one and one.endswith("<!-- robust:end -->\n")
    two = replace_block(one, "e03", "sobol table")
    three = replace_block(two, "e02", "robust table v2")
    assert "robust table v2" in three and "robust table v1" not in three and "sobol table" in three
    assert three.index("robust table v2") < three.index("sobol table")
    assert replace_block(three, "e02", "robust table v2") == three


# --- e03: sweep files and inert parameters ------------------------------------------------------------

@pytest.mark.parametrize("species,name", [("mouse", "sobol_escape_mouse"), ("human", "sobol_escape_human")])
def test_e03_sweep_files_vary_each_parameter_over_its_documented_range(species, name):
    """Guards against: a sweep file left behind when a parameter's plausible range changed
    (rerun experiments/e03_sensitivity.py to regenerate it)."""
    try:
        from simbev.sweeps import load_sweep
    except ImportError:
        from simbev.sweep import load_sweep
    sweep = load_sweep(ROOT / "configs" / "sweeps" / f"{name}.yaml")
    assert sweep.design == "sobol" and sweep.arms[0].scenario.species == species
    records = load_parameter_set(species).records
    for f in sweep.factors:
        rec = records[f.name]
        assert (f.low, f.high) == (rec.low, rec.high), f.name
        assert f.scale == ("log" if rec.low > 0 else "linear"), f.name


def test_e03_finds_the_mtor_inhibitor_inert_in_a_bevacizumab_run_and_growth_not(monkeypatch):
    e03 = _experiment("e03_sensitivity", monkeypatch)
    factors = {f.name: f for f in robustness.range_factors("mouse", KNOBS)}
    probe = [factors[n] for n in ("mtori_ic50", "mtori_volume", "tumor_normoxic_growth_rate", "vessel_pruning_rate")]
    assert e03.inert_parameters("mouse", probe) == ["mtori_ic50", "mtori_volume"]


# --- the escape evaluation of e03 ------------------------------------------------------------------

def test_escape_evaluation_cuts_a_failed_run_at_the_day_before_the_failure(monkeypatch):
    """Guards against: a run whose solver fails (tumors driven far below one cell) losing its
    whole row, or being silently counted as complete."""
    import simbev

    solver = sys.modules[robustness._compiled_simulate().__module__]
    real = solver.simulate
    horizons = []

    def failing_after_day_30(scenario, parameters=None, **kw):
        horizons.append(scenario.duration_days)
        if scenario.duration_days > 30:
            raise simbev.SimulationError("solver failed (test)", 30.6, np.zeros(len(simbev.STATE_NAMES)), {})
        return real(scenario, parameters=parameters, **kw)

    monkeypatch.setattr(solver, "simulate", failing_after_day_30)
    scenario = simbev.load_scenario(ROOT / "configs" / "scenarios" / "bevacizumab_mouse.yaml")
    got = robustness.escape_evaluation({"tumor_normoxic_growth_rate": 0.1}, scenario)
    assert horizons == [60.0, 29.0]
    assert got["tumor_volume@60"] is None
    ref = real(simbev.Scenario("s", 29.0, species="mouse", treatments=scenario.treatments,
                               output_every_days=scenario.output_every_days),
               parameters={"tumor_normoxic_growth_rate": 0.1})
    assert got["final_tumor_volume"] == pytest.approx(float(ref["tumor_volume"][-1]))


def test_solver_step_budget_lowers_and_restores_the_budget():
    solver = sys.modules[robustness._compiled_simulate().__module__]
    saved = solver.MAX_STEPS
    with robustness.solver_step_budget(123):
        assert solver.MAX_STEPS == 123
    assert solver.MAX_STEPS == saved
    with robustness.solver_step_budget(10 * saved):  # never raised above the solver's own
        assert solver.MAX_STEPS == saved


def test_e02_reads_values_tried_from_a_tuning_log(monkeypatch):
    e02 = _experiment("e02_robustness", monkeypatch)
    text = ("- grid vegf_vessel_hill {3,4} x unknown_knob {1, 2}: inverted.\n"
            "- ADOPTED: vegf_vessel_ec50 0.1 (3 values tried: 0.07, 0.085, 0.1); bev_mif_koff 70 (Kd 70 nM;\n"
            "  5 values tried: 10, 30, 50, 70, 100); tumor_starvation_death_rate 0.1 (3 tried)\n")
    log = e02.tuning_log(text)
    assert set(log) == {"vegf_vessel_hill", "vegf_vessel_ec50", "bev_mif_koff", "tumor_starvation_death_rate"}
    assert log["vegf_vessel_hill"] == {"count": None, "values": {3.0, 4.0}, "adopted": None}
    assert (log["bev_mif_koff"]["count"], log["bev_mif_koff"]["adopted"]) == (5, 70.0)
    assert (log["tumor_starvation_death_rate"]["count"], log["vegf_vessel_ec50"]["count"]) == (3, 3)


def test_escape_evaluation_never_counts_an_eradicated_tumor_as_progressing(monkeypatch):
    """Guards against: regrowth of a tumor of 1e-18 mm^3 (solver noise) read as a progression."""
    import simbev
    scenario = simbev.load_scenario(ROOT / "configs" / "scenarios" / "bevacizumab_mouse.yaml")
    escaped = robustness.escape_evaluation({}, scenario)
    assert escaped["time_to_progression"] is not None  # the default mouse escapes
    try:
        from simbev.analysis import metrics
    except ImportError:
        from simbev import metrics
    monkeypatch.setattr(metrics, "min_tumor_volume", lambda result: 1e-18)
    assert robustness.escape_evaluation({}, scenario)["time_to_progression"] is None
