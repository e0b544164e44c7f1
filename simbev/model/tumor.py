"""Tumor cells: normoxic and hypoxic compartments.

Equations (V = N + H, rho = K / V, m1 and m2 = macrophages per tumor cell):

    hyp    = 1 / (1 + (rho / rho_h)^n_h)                     hypoxic drive (vessel support)
    boost  = 1 + a_M2 * m2 / (m2 + k_mac)                     M2-derived growth factors   (C9, C4)
    kill   = k_M1 * m1 / (m1 + k_mac)                         M1 cytotoxicity             (C5)
    fuel   = f_0 + mtor + g_G2 * glut2 * G / (Km_G2 + G)      mTOR-independent share, mTOR (lactate) and
                                                              GLUT2 glucose (A4, A6, A7)
    dN/dt  = r_N * fuel * boost * N - (d_N + kill) N - k_NH hyp N + k_HN (1 - hyp) H
    dH/dt  = r_H * boost * H - (d_H * Ks / (Ks + G) + kill) H + k_NH hyp N - k_HN (1 - hyp) H

Falling vascular support (low rho) moves cells from normoxic to hypoxic (A2); hypoxic cells die
when glucose runs out, which gives the response to anti-VEGF therapy (A1); normoxic growth is
driven by mTOR activity, which lactate raises (A4, A5), and by M2 macrophages (C4, C9).
"""
from __future__ import annotations

from .ratelaws import repression, saturation

PARAMETERS = (
    "tumor_normoxic_growth_rate",
    "tumor_hypoxic_growth_rate",
    "tumor_normoxic_death_rate",
    "tumor_starvation_death_rate",
    "tumor_starvation_glucose",
    "tumor_hypoxia_rate",
    "tumor_reoxygenation_rate",
    "tumor_hypoxia_vessel_ratio",
    "tumor_hypoxia_hill",
    "tumor_m2_growth_boost",
    "tumor_m1_kill_rate",
    "macrophage_effect_density",
    "tumor_glut2_growth_gain",
    "tumor_mtor_independent_growth",
    "glut2_km",
    "tumor_cell_density",
)


def macrophage_densities(n, h, m1, m2, p):
    """Macrophages per tumor cell (M1, M2)."""
    cells = (n + h) * p.tumor_cell_density
    return m1 / cells, m2 / cells


def m2_boost(m2d, p):
    """Growth factor multiplier from M2 macrophages, ``1 + a_M2 * m2 / (m2 + k_mac)``."""
    return 1.0 + p.tumor_m2_growth_boost * saturation(m2d, p.macrophage_effect_density)


def normoxic_proliferation(n, m2d, glucose, mtor, glut2, p):
    """Proliferation flux of normoxic cells, ``r_N * fuel * boost * N`` (mm^3/day).

    Also drives vessel co-option (:mod:`simbev.model.vessels`)."""
    fuel = p.tumor_mtor_independent_growth + mtor + p.tumor_glut2_growth_gain * glut2 * saturation(glucose, p.glut2_km)
    return p.tumor_normoxic_growth_rate * fuel * m2_boost(m2d, p) * n


def tumor_rates(n, h, k, m1d, m2d, glucose, mtor, glut2, p, prolif_n=None):
    """Return (dN/dt, dH/dt) in mm^3/day; see the module docstring for the equations.

    ``prolif_n`` is :func:`normoxic_proliferation` if the caller has it already."""
    v = n + h
    if prolif_n is None:
        prolif_n = normoxic_proliferation(n, m2d, glucose, mtor, glut2, p)
    hyp = repression(k / v, p.tumor_hypoxia_vessel_ratio, p.tumor_hypoxia_hill)
    kill = p.tumor_m1_kill_rate * saturation(m1d, p.macrophage_effect_density)
    to_hypoxic = p.tumor_hypoxia_rate * hyp * n
    to_normoxic = p.tumor_reoxygenation_rate * (1.0 - hyp) * h
    starvation = p.tumor_starvation_death_rate * (1.0 - saturation(glucose, p.tumor_starvation_glucose))
    dn = prolif_n - (p.tumor_normoxic_death_rate + kill) * n - to_hypoxic + to_normoxic
    dh = (p.tumor_hypoxic_growth_rate * m2_boost(m2d, p) - starvation - kill) * h + to_hypoxic - to_normoxic
    return dn, dh
