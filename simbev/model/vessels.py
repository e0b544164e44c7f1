"""Vessel capacity K, after Hahnfeldt et al. (1999), with VEGF-dependent stimulation and pruning.

    S_V   = VEGF^n / (VEGF^n + EC50_V^n)                         VEGFR2 signal on endothelium
    drive = S_V + a_ang * m2 / (m2 + k_mac)                      VEGF-dependent + M2-supported (C4)
    dK/dt = b * drive * V - d * K * V^(2/3) - lambda2 * K - k_prune * (1 - S_V) * K

``b`` and ``d`` are Hahnfeldt's stimulation and inhibition constants; ``drive`` scales the
stimulation by the free VEGF signal, so VEGF neutralisation prunes vessels (A1, A2), while M2
macrophages support VEGF-independent angiogenesis (Castro 2017), one of the escape routes.
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
    "macrophage_effect_density",
)


def vessel_rate(n, h, k, vegf, m2d, p):
    """Return dK/dt in mm^3/day."""
    v = n + h
    s_v = hill(vegf, p.vegf_vessel_ec50, p.vegf_vessel_hill)
    drive = s_v + p.m2_angiogenesis_strength * saturation(m2d, p.macrophage_effect_density)
    return (p.vessel_stimulation_rate * drive * v
            - p.vessel_inhibition_rate * k * v ** (2.0 / 3.0)
            - p.vessel_loss_rate * k
            - p.vessel_pruning_rate * (1.0 - s_v) * k)
