"""Vessel capacity K, after Hahnfeldt et al. (1999), with VEGF-dependent stimulation and pruning.

    S_V   = VEGF^n / (VEGF^n + EC50_V^n)                         VEGFR2 signal on endothelium
    drive = S_V + a_ang * m2^n_a / (m2^n_a + K_a^n_a)            VEGF-dependent + M2-supported (C4)
    dK/dt = b * drive * V - d * K * V^(2/3) - lambda2 * K - k_prune * (1 - S_V) * K

``b`` and ``d`` are Hahnfeldt's stimulation and inhibition constants; ``drive`` scales the
stimulation by the free VEGF signal, so VEGF neutralisation prunes vessels (A1, A2), while M2
macrophages support VEGF-independent angiogenesis (Castro 2017), one of the escape routes.

The M2 support is a threshold (Hill coefficient ``n_a`` = 2, half-maximal at ``K_a`` M2 per
tumor cell, above the untreated density): the few M2 of an untreated tumor add little, the M2
that accumulate once bevacizumab has lowered MIF add a lot. With a hyperbolic form (n_a = 1)
the M2 support was either too weak for the tumor to escape or too strong for it to respond,
depending on +-20 % changes in the kinetic parameters; the threshold separates the two.
"""
from __future__ import annotations

from .ratelaws import hill

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
)


def vessel_rate(n, h, k, vegf, m2d, p):
    """Return dK/dt in mm^3/day."""
    v = n + h
    s_v = hill(vegf, p.vegf_vessel_ec50, p.vegf_vessel_hill)
    drive = s_v + p.m2_angiogenesis_strength * hill(m2d, p.m2_angiogenesis_ec50, p.m2_angiogenesis_hill)
    return (p.vessel_stimulation_rate * drive * v
            - p.vessel_inhibition_rate * k * v ** (2.0 / 3.0)
            - p.vessel_loss_rate * k
            - p.vessel_pruning_rate * (1.0 - s_v) * k)
