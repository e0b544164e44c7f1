"""The right-hand side: structure, Jacobian, knobs that remove their mechanism."""
import numpy as np
import pytest

import simbev
from simbev import model
from simbev.model import states
from simbev.model.states import STATE_INDEX as S

pset = simbev.load_parameter_set("mouse")


def _state():
    y = pset.initial_state()
    y[S["bev_central"]] = 500.0
    y[S["bev_peripheral"]] = 200.0
    y[S["bev_vegf"]] = 0.1
    y[S["bev_mif"]] = 0.5
    y[S["mtori_depot"]] = 10.0
    y[S["mtori_central"]] = 5.0
    y[S["glut2"]] = 0.3
    return y


def test_every_public_state_and_knob_exists():
    public = ["tumor_normoxic", "tumor_hypoxic", "vessel_capacity", "vegf", "mif", "macrophage_m1",
              "macrophage_m2", "glucose", "lactate", "mtor_activity", "glut2", "bev_central", "bev_peripheral",
              "bev_vegf", "bev_mif", "mtori_depot", "mtori_central"]
    assert set(public) <= set(simbev.STATE_NAMES)
    for knob in model.KNOBS:
        assert pset[knob] == 1.0
    assert {"tumor_volume", "hypoxic_fraction", "macrophage_total", "m2_m1_ratio"} <= set(simbev.DERIVED_NAMES)


def test_jacobian_matches_central_differences():
    p = pset.model_parameters()
    y = _state()
    J = model.jacobian(0.0, y, p, 3.0)
    f0 = model.rhs(0.0, y, p, 3.0)
    Jfd = np.empty_like(J)
    for j in range(y.size):
        h = 1e-6 * max(abs(y[j]), 1e-3)
        yp, ym = y.copy(), y.copy()
        yp[j] += h
        ym[j] -= h
        Jfd[:, j] = (model.rhs(0.0, yp, p, 3.0) - model.rhs(0.0, ym, p, 3.0)) / (2 * h)
    scale = np.abs(Jfd) + np.abs(f0)[:, None] * 1e-6 + 1e-9
    assert np.max(np.abs(J - Jfd) / scale) < 1e-4


def test_rhs_is_vectorised_over_columns():
    p = pset.model_parameters()
    y = _state()
    Y = np.stack([y, 1.1 * y, 0.9 * y], axis=1)
    F = model.rhs(0.0, Y, p)
    for k in range(3):
        assert np.array_equal(F[:, k], model.rhs(0.0, Y[:, k], p))


@pytest.mark.parametrize("knob, row, col", [
    ("vegf_mif_induction", "mif", "vegf"),           # VEGF no longer raises MIF production
    ("bev_mif_binding", "bev_mif", "mif"),          # no bevacizumab-MIF association
    ("lactate_mtor_coupling", "mtor_activity", "lactate"),  # lactate no longer drives mTOR
    ("glut2_induction", "glut2", "mtori_central"),  # the inhibitor no longer induces GLUT2
])
def test_knob_at_zero_removes_its_arrow(knob, row, col):
    y = _state()
    on = model.jacobian(0.0, y, pset.model_parameters())
    off = model.jacobian(0.0, y, pset.with_values({knob: 0.0}).model_parameters())
    assert abs(on[S[row], S[col]]) > 1e-6
    assert off[S[row], S[col]] == 0.0


def test_mif_expression_zero_removes_mif_production():
    y = _state()
    y[S["mif"]] = 0.0
    y[S["bev_mif"]] = 0.0
    f = model.rhs(0.0, y, pset.with_values({"mif_expression": 0.0}).model_parameters())
    assert f[S["mif"]] == 0.0


def test_every_arrow_of_the_design_is_a_term():
    """Signs of the Jacobian entries for the arrows MODEL.md names."""
    y = _state()
    J = model.jacobian(0.0, y, pset.model_parameters())
    positive = [("mif", "vegf"), ("macrophage_m1", "mif"), ("vessel_capacity", "vegf"),
                ("vessel_capacity", "macrophage_m2"), ("tumor_normoxic", "macrophage_m2"),
                ("tumor_normoxic", "mtor_activity"), ("lactate", "tumor_hypoxic"), ("mtor_activity", "lactate"),
                ("glut2", "mtori_central"), ("tumor_normoxic", "glut2"), ("bev_vegf", "bev_central"),
                ("bev_mif", "bev_central"), ("tumor_hypoxic", "tumor_normoxic"), ("mtori_central", "mtori_depot"),
                ("mct1_expression", "lactate")]
    negative = [("vegf", "bev_central"), ("mif", "bev_central"), ("macrophage_m2", "mif"),
                ("tumor_normoxic", "macrophage_m1"), ("mtor_activity", "mtori_central"),
                ("glucose", "tumor_hypoxic"), ("glucose", "glut2")]
    for r, c in positive:
        assert J[S[r], S[c]] > 0, (r, c)
    for r, c in negative:
        assert J[S[r], S[c]] < 0, (r, c)


def test_bevacizumab_fluxes_conserve_mass():
    """d/dt of (Vc Cc + Vp Cp + V_int (BV + BF) + E) is zero in the right-hand side itself."""
    p = pset.model_parameters()
    y = _state()
    f = model.rhs(0.0, y, p, 7.0)
    v = y[S["tumor_normoxic"]] + y[S["tumor_hypoxic"]]
    dv = f[S["tumor_normoxic"]] + f[S["tumor_hypoxic"]]
    vint, dvint = p.tumor_interstitial_fraction * 1e-6 * v, p.tumor_interstitial_fraction * 1e-6 * dv
    cx = y[S["bev_vegf"]] + y[S["bev_mif"]]
    d_total = (p.bev_central_volume * f[S["bev_central"]] + p.bev_peripheral_volume * f[S["bev_peripheral"]]
               + vint * (f[S["bev_vegf"]] + f[S["bev_mif"]]) + dvint * cx + f[S["bev_eliminated"]])
    assert d_total == pytest.approx(7.0, rel=1e-12)


# --- the VEGF-independent vessel pool and vessel permeability -----------------------------------

def test_new_arrows_are_terms():
    """mTOR -> normoxic proliferation -> co-opted vessels; VEGF -> permeability; the mature pool
    supports the total capacity."""
    y = _state()
    J = model.jacobian(0.0, y, pset.model_parameters())
    for r, c in [("vessel_mature", "mtor_activity"), ("vessel_capacity", "mtor_activity"),
                 ("vessel_permeability", "vegf"), ("vessel_mature", "vessel_capacity")]:
        assert J[S[r], S[c]] > 0, (r, c)
    assert J[S["vessel_permeability"], S["vessel_permeability"]] == -pset["permeability_relaxation_rate"]


def test_mature_vessels_are_not_pruned_without_vegf():
    """All capacity mature, no VEGF, no M2, no co-option: K and K_m fall only at the mature loss
    rate (closed form), although pruning of VEGF-deprived vessels is at its maximum."""
    y = _state()
    y[S["vegf"]] = 0.0
    y[S["macrophage_m2"]] = 0.0
    y[S["vessel_mature"]] = y[S["vessel_capacity"]]
    p = pset.with_values({"vessel_cooption_yield": 0.0, "vessel_stimulation_rate": 0.0}).model_parameters()
    f = model.rhs(0.0, y, p)
    expected = -pset["vessel_mature_loss_rate"] * y[S["vessel_capacity"]]
    assert f[S["vessel_capacity"]] == pytest.approx(expected, rel=1e-12)
    assert f[S["vessel_mature"]] == pytest.approx(expected, rel=1e-12)
    # the same capacity, all immature, is pruned at the maximal pruning rate on top
    y[S["vessel_mature"]] = 0.0
    f = model.rhs(0.0, y, p)
    v = y[S["tumor_normoxic"]] + y[S["tumor_hypoxic"]]
    k = y[S["vessel_capacity"]]
    immature_loss = (pset["vessel_inhibition_rate"] * v ** (2 / 3) + pset["vessel_loss_rate"]
                     + pset["vessel_pruning_rate"]) * k
    assert f[S["vessel_capacity"]] == pytest.approx(-immature_loss, rel=1e-12)
    assert f[S["vessel_mature"]] == pytest.approx(pset["vessel_maturation_rate"] * k, rel=1e-12)


def test_enhancing_volume_is_leaky_normoxic_tumor():
    y = _state()
    d = states.derived(y)
    assert d["enhancing_volume"] == pytest.approx(y[S["tumor_normoxic"]] * y[S["vessel_permeability"]])
