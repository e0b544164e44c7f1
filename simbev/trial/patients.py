"""Plausible patients: patient-level parameters sampled over their documented ranges.

Each patient is a set of parameter overrides for the human parameter set. What varies between
patients, and how (the table is :data:`TUMOR_PARAMETERS`; the pharmacokinetics follow Han 2016):

Bevacizumab pharmacokinetics (Han et al., Cancer Chemother Pharmacol 2016;78:341, Table 3)
    Reference patient (70 kg, female): CL 0.2064 L/day, V1 2.678 L, Q 0.4464 L/day, V2 2.423 L.
    Covariates: body weight (exponent 0.589 on CL and Q, 0.470 on V1 and V2), male sex (x1.14 on
    CL, x1.18 on V1). Between-subject variability log-normal with CV 29.2 % (CL), 18.3 % (V1),
    41.4 % (V2), none on Q, uncorrelated (Han 2016 reports no correlation).
Body weight and sex
    Log-normal body weight with median 74.8 kg (Han 2016's population median) and a log-SD of
    0.20 (assumed; 90 % of patients between 54 and 104 kg), cut to Han's observed range
    38.6–195 kg; 53 % male (Han 2016: 47 % female). The mg/kg dose uses the weight rounded to 5 kg
    (dose banding, as pharmacies round doses; it also lets patients share a dose schedule).
VEGF dependence
    About 20 % of glioblastomas do not express VEGFA (García-Romero et al. 2020): for them the
    VEGF secretion rates are multiplied by ``VEGF_NEGATIVE_FACTOR`` (0.05, assumed: residual
    secretion by stroma); the others draw the rates over their plausible ranges.
Tumor biology
    Every other patient-level parameter is drawn log-uniformly over its documented plausible range
    (the ``range`` of the parameter set) unless :data:`TUMOR_PARAMETERS` gives a narrower one.
    Log-uniform because the ranges span factors, not offsets, and nothing is known about where
    in them a patient lies.

All draws come from one ``numpy.random.Generator`` seeded with ``[seed, index]`` per patient, so
patient ``i`` is the same whatever else is drawn, in whatever order or process.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Mapping

import numpy as np

__all__ = ["TUMOR_PARAMETERS", "PK", "sample_patient", "sample_patients", "VEGF_NEGATIVE_SHARE",
           "VEGF_NEGATIVE_FACTOR", "dose_weight", "PatientDraw"]

#: Share of glioblastomas without VEGFA expression (García-Romero et al. 2020).
VEGF_NEGATIVE_SHARE = 0.20
#: Multiplier on VEGF secretion for those tumors (assumed: residual stromal secretion).
VEGF_NEGATIVE_FACTOR = 0.05

#: Han 2016 (Table 3): reference values (70 kg female), weight exponents, sex effects, CV of BSV.
PK = {
    "bev_clearance": {"reference": 0.2064, "weight_exponent": 0.589, "male": 1.14, "cv": 0.292},
    "bev_central_volume": {"reference": 2.678, "weight_exponent": 0.470, "male": 1.18, "cv": 0.183},
    "bev_intercompartmental_clearance": {"reference": 0.4464, "weight_exponent": 0.589, "male": 1.0, "cv": 0.0},
    "bev_peripheral_volume": {"reference": 2.423, "weight_exponent": 0.470, "male": 1.0, "cv": 0.414},
}
WEIGHT_MEDIAN_KG, WEIGHT_LOG_SD, WEIGHT_RANGE_KG = 74.8, 0.20, (38.6, 195.0)
MALE_SHARE = 0.53
DOSE_BAND_KG = 5.0

#: Tumor-level parameters that differ between patients: name -> (low, high) or None for the
#: parameter set's own plausible range. Molecular constants (binding, molecular weights),
#: plasma concentrations and the mechanism switches (``*_induction``, ``*_coupling``,
#: ``bev_mif_binding``) are the same in every patient.
TUMOR_PARAMETERS: dict[str, tuple[float, float] | None] = {
    "tumor_normoxic_growth_rate": None,        # growth (filtered on untreated doubling time)
    "tumor_hypoxic_growth_rate": None,
    "tumor_starvation_death_rate": None,
    "vessel_pruning_rate": None,               # sensitivity of vessels to VEGF withdrawal
    "vegf_secretion_rate": None,               # VEGF dependence (see VEGF_NEGATIVE_SHARE)
    "vegf_hypoxia_induction": None,
    "mif_expression": (0.25, 4.0),             # MIF expression: 16-fold spread (assumed; the
                                               # documented 0-10 range includes knock-downs)
    "macrophage_recruitment_rate": None,
    "macrophage_m2_proliferation_rate": None,
    "m2_angiogenesis_strength": None,
}
VEGF_SECRETION = ("vegf_secretion_rate",)


@dataclass(frozen=True)
class PatientDraw:
    """One plausible patient: model parameter overrides and covariates."""

    index: int
    parameters: dict
    covariates: dict


def dose_weight(weight_kg: float) -> float:
    """Body weight used for mg/kg doses: rounded to :data:`DOSE_BAND_KG`."""
    return float(max(DOSE_BAND_KG, round(weight_kg / DOSE_BAND_KG) * DOSE_BAND_KG))


def _ranges(pset, names: Mapping[str, tuple[float, float] | None]) -> dict[str, tuple[float, float]]:
    out = {}
    for name, rng in names.items():
        if name not in pset:
            continue  # a parameter the model no longer has
        low, high = rng if rng is not None else (pset.records[name].low, pset.records[name].high)
        if not (0 < low <= high):
            raise ValueError(f"{name}: a log-uniform range needs 0 < low <= high, got [{low}, {high}]")
        out[name] = (float(low), float(high))
    return out


def sample_patient(index: int, seed: int, pset, tumor_parameters=None) -> PatientDraw:
    """Plausible patient ``index`` of the population drawn with ``seed``."""
    rng = np.random.default_rng([int(seed), int(index)])
    ranges = _ranges(pset, TUMOR_PARAMETERS if tumor_parameters is None else tumor_parameters)
    # Covariates first, in a fixed order, so adding a tumor parameter does not change them.
    lo, hi = WEIGHT_RANGE_KG
    weight = float(np.clip(WEIGHT_MEDIAN_KG * math.exp(WEIGHT_LOG_SD * rng.standard_normal()), lo, hi))
    male = bool(rng.random() < MALE_SHARE)
    etas = {name: rng.standard_normal() for name in PK}
    vegf_negative = bool(rng.random() < VEGF_NEGATIVE_SHARE)
    params: dict[str, float] = {"body_weight": dose_weight(weight)}
    for name, spec in PK.items():
        if name not in pset:
            continue
        omega = math.sqrt(math.log1p(spec["cv"] ** 2))
        value = spec["reference"] * (weight / 70.0) ** spec["weight_exponent"]
        value *= spec["male"] if male else 1.0
        params[name] = value * math.exp(omega * etas[name])
    for name, (low, high) in ranges.items():
        u = rng.random()
        value = math.exp(math.log(low) + u * (math.log(high) - math.log(low)))
        if vegf_negative and name in VEGF_SECRETION:
            value *= VEGF_NEGATIVE_FACTOR
        params[name] = value
    covariates = {"weight_kg": weight, "sex": "male" if male else "female", "vegf_negative": vegf_negative}
    return PatientDraw(int(index), params, covariates)


def sample_patients(indices, seed: int, pset, tumor_parameters=None) -> list[PatientDraw]:
    """:func:`sample_patient` for each index."""
    return [sample_patient(i, seed, pset, tumor_parameters) for i in indices]
