"""Tumor-associated macrophages, M1 and M2 (amounts, 1e6 cells).

    S_F    = MIF / (MIF + EC50_F)                                 MIF signal (C6)
    q      = q0 - (q0 - q_MIF) * S_F                              fraction of recruits polarised M2
    R      = k_rec * rho_c * V                                    recruitment, proportional to tumor cells
    crowd  = 1 - (M1 + M2) / (cap * rho_c * V)                    niche limit for M2 proliferation
    dM1/dt = (1 - q) R - mu M1 - k12 M1 + k21 M2 + k_pol S_F M2
    dM2/dt = q R + r_M2 (1 - S_F) crowd M2 - mu M2 + k12 M1 - k21 M2 - k_pol S_F M2

MIF drives M1 polarisation of recruits and repolarises M2 to M1; low MIF lets M2 accumulate and
proliferate (Castro 2017; C1, C3, C4, C6). Polarisation and death rates after Mongeon et al.
and den Breems & Eftimie (2016).
"""
from __future__ import annotations

from .ratelaws import saturation

PARAMETERS = (
    "macrophage_recruitment_rate",
    "macrophage_death_rate",
    "macrophage_m1_to_m2_rate",
    "macrophage_m2_to_m1_rate",
    "macrophage_m2_fraction_basal",
    "macrophage_m2_fraction_mif",
    "mif_m1_ec50",
    "mif_repolarization_rate",
    "macrophage_m2_proliferation_rate",
    "macrophage_capacity",
    "tumor_cell_density",
)


def macrophage_rates(n, h, m1, m2, mif, p):
    """Return (dM1/dt, dM2/dt) in 1e6 cells/day."""
    cells = (n + h) * p.tumor_cell_density
    s_f = saturation(mif, p.mif_m1_ec50)
    q = p.macrophage_m2_fraction_basal - (p.macrophage_m2_fraction_basal - p.macrophage_m2_fraction_mif) * s_f
    recruit = p.macrophage_recruitment_rate * cells
    crowd = 1.0 - (m1 + m2) / (p.macrophage_capacity * cells)
    polarise = p.macrophage_m1_to_m2_rate * m1 - p.macrophage_m2_to_m1_rate * m2 - p.mif_repolarization_rate * s_f * m2
    dm1 = (1.0 - q) * recruit - p.macrophage_death_rate * m1 - polarise
    dm2 = q * recruit + p.macrophage_m2_proliferation_rate * (1.0 - s_f) * crowd * m2 \
        - p.macrophage_death_rate * m2 + polarise
    return dm1, dm2
