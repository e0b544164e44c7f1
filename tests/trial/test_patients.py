"""Plausible patients: the documented distributions."""
import math

import numpy as np
import pytest

from simbev import load_parameter_set
from simbev.trial import patients as P

PSET = load_parameter_set("human")


@pytest.fixture(scope="module")
def draws():
    return P.sample_patients(range(3000), 1, PSET)


def test_same_patient_whatever_else_is_drawn():
    a = P.sample_patient(17, 5, PSET)
    b = P.sample_patients([3, 17], 5, PSET)[1]
    assert a == b
    assert P.sample_patient(17, 6, PSET) != a


def test_clearance_variability_is_han_2016(draws):
    """log CL minus its weight and sex terms has the SD of a 29.2 % CV log-normal."""
    eta = []
    for d in draws:
        w, male = d.covariates["weight_kg"], d.covariates["sex"] == "male"
        ref = P.PK["bev_clearance"]
        typical = ref["reference"] * (w / 70) ** 0.589 * (1.14 if male else 1.0)
        eta.append(math.log(d.parameters["bev_clearance"] / typical))
    assert np.std(eta) == pytest.approx(math.sqrt(math.log(1 + 0.292 ** 2)), rel=0.06)
    assert abs(np.mean(eta)) < 0.02


def test_peripheral_volume_variability_and_no_variability_on_q(draws):
    eta_v2, eta_q = [], []
    for d in draws:
        w = d.covariates["weight_kg"]
        eta_v2.append(math.log(d.parameters["bev_peripheral_volume"] / (2.423 * (w / 70) ** 0.470)))
        eta_q.append(math.log(d.parameters["bev_intercompartmental_clearance"] / (0.4464 * (w / 70) ** 0.589)))
    assert np.std(eta_v2) == pytest.approx(math.sqrt(math.log(1 + 0.414 ** 2)), rel=0.06)
    assert np.std(eta_q) < 1e-12


def test_weight_sex_and_vegf_negative_shares(draws):
    w = np.array([d.covariates["weight_kg"] for d in draws])
    assert np.median(w) == pytest.approx(74.8, rel=0.03)
    assert w.min() >= 38.6 and w.max() <= 195
    assert np.mean([d.covariates["sex"] == "male" for d in draws]) == pytest.approx(0.53, abs=0.03)
    neg = np.array([d.covariates["vegf_negative"] for d in draws])
    assert neg.mean() == pytest.approx(0.20, abs=0.025)
    vegf = np.array([d.parameters["vegf_secretion_rate"] for d in draws])
    low, high = PSET.records["vegf_secretion_rate"].low, PSET.records["vegf_secretion_rate"].high
    assert np.all(vegf[~neg] >= low) and np.all(vegf[~neg] <= high)
    assert np.all(vegf[neg] <= high * P.VEGF_NEGATIVE_FACTOR)


def test_dose_weight_is_banded(draws):
    for d in draws[:200]:
        assert d.parameters["body_weight"] % 5 == 0
        assert abs(d.parameters["body_weight"] - d.covariates["weight_kg"]) <= 2.5 + 1e-9


def test_tumor_parameters_log_uniform_over_range(draws):
    x = np.array([d.parameters["tumor_normoxic_growth_rate"] for d in draws])
    low, high = PSET.records["tumor_normoxic_growth_rate"].low, PSET.records["tumor_normoxic_growth_rate"].high
    u = (np.log(x) - math.log(low)) / (math.log(high) - math.log(low))
    assert u.min() >= 0 and u.max() <= 1
    assert np.mean(u < 0.5) == pytest.approx(0.5, abs=0.03)
