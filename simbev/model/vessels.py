"""Vessel capacity K, after Hahnfeldt et al. (1999), in two pools, and vessel permeability.

``K`` (public ``vessel_capacity``) is the total functional vasculature, in the tumor volume it
can support. Part of it, ``K_m`` (``vessel_mature``), no longer depends on VEGF: vessels that
pericytes have covered, and host vessels the tumor has co-opted. The rest, ``K_i = K - K_m``,
is immature, VEGF-dependent vasculature.

    S_V    = VEGF^n / (VEGF^n + EC50_V^n)                         VEGFR2 signal on endothelium
    drive  = S_V + a_ang * m2^n_a / (m2^n_a + K_a^n_a)            VEGF-dependent + M2-supported (C4)
    K_i    = K - K_m
    dK_i   = b * drive * V - d * K_i * V^(2/3) - lambda2 * K_i - k_prune * (1 - S_V) * K_i
             - k_mat * K_i
    dK_m   = k_mat * K_i + c_co * P_N - lambda_m * K_m             maturation, co-option, loss
    dK/dt  = dK_i + dK_m

``b`` and ``d`` are Hahnfeldt's stimulation and inhibition constants; ``drive`` scales the
stimulation by the free VEGF signal, so VEGF neutralisation prunes the immature vessels (A1,
A2), while M2 macrophages support VEGF-independent angiogenesis (Castro 2017), the immune
escape route. New vessels mature at ``k_mat`` as pericytes cover them; mature vessels survive
VEGF withdrawal (Benjamin et al. 1998; Inai et al. 2004: at most ~70 % of tumor capillaries
regress under VEGF inhibition) and are not subject to Hahnfeldt's endogenous inhibition, which
acts on growing endothelium. ``P_N`` is the proliferation flux of the vessel-proximal normoxic
cells (mm^3/day, from :func:`simbev.model.tumor.normoxic_proliferation`): as they proliferate
and invade along host vessels they co-opt them (``c_co`` mm^3 of supported tumor per mm^3 of
new normoxic tumor; Rubenstein et al. 2000 and de Groot et al. 2010 saw glioma co-opt host
vessels under anti-VEGF therapy). Co-opted and mature vessels are lost at ``lambda_m``
(co-opted vessels regress over weeks, Holash et al. 1999). Because ``P_N`` rises with mTOR
activity, the lactate -> mTOR coupling lets the normoxic cells around the spared vessels grow
on that residual supply and extend it: the metabolic escape route (Allen 2016).

The M2 support is a threshold (Hill coefficient ``n_a`` = 2, half-maximal at ``K_a`` M2 per
tumor cell, above the untreated density): the few M2 of an untreated tumor add little, the M2
that accumulate once bevacizumab has lowered MIF add a lot.

Permeability (what contrast-enhanced MRI sees): VEGF is the vascular permeability factor; the
fraction of the vessel-proximal tumor whose vessels leak relaxes within a day or two to a VEGF
signal, so bevacizumab lowers contrast enhancement within days (Batchelor et al. 2007):

    dP/dt  = k_P * (VEGF / (VEGF + EC50_P) - P)
"""
from __future__ import annotations

from .ratelaws import hill, saturation

PARAMETERS = (
    "vessel_stimulation_rate",
    "vessel_inhibition_rate",
    "vessel_loss_rate",
    "vessel_pruning_rate",
    "vegf_vessel_ec50",
    "vegf_vessel_hill",
    "m2_angiogenesis_strength",
    "m2_angiogenesis_ec50",
    "m2_angiogenesis_hill",
    "vessel_maturation_rate",
    "vessel_cooption_yield",
    "vessel_mature_loss_rate",
    "permeability_vegf_ec50",
    "permeability_relaxation_rate",
)


def vessel_rates(n, h, k, km, vegf, m2d, prolif_n, p):
    """Return (dK/dt, dK_m/dt) in mm^3/day; ``prolif_n`` is the normoxic proliferation flux."""
    v = n + h
    ki = k - km
    s_v = hill(vegf, p.vegf_vessel_ec50, p.vegf_vessel_hill)
    drive = s_v + p.m2_angiogenesis_strength * hill(m2d, p.m2_angiogenesis_ec50, p.m2_angiogenesis_hill)
    mature = p.vessel_maturation_rate * ki
    dki = (p.vessel_stimulation_rate * drive * v
           - (p.vessel_inhibition_rate * v ** (2.0 / 3.0) + p.vessel_loss_rate
              + p.vessel_pruning_rate * (1.0 - s_v)) * ki
           - mature)
    dkm = mature + p.vessel_cooption_yield * prolif_n - p.vessel_mature_loss_rate * km
    return dki + dkm, dkm


def permeability_rate(vegf, perm, p):
    """Return dP/dt (1/day): leakiness relaxes to the free-VEGF signal."""
    return p.permeability_relaxation_rate * (saturation(vegf, p.permeability_vegf_ec50) - perm)
