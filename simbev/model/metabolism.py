"""Glucose, lactate, mTOR activity and GLUT2 (Allen et al. 2016).

    phi    = K / (K + V)                                          perfused fraction
    U_N    = Vmax_N * (N/V) * G / (Km_G1 + G)                     normoxic uptake (GLUT1)
    U_H    = Vmax_H * (H/V) * G / (Km_G1 + G)                     hypoxic glycolytic uptake (GLUT1, A3)
    U_G2   = Vmax_G2 * glut2 * (N/V) * G / (Km_G2 + G)            GLUT2 uptake in normoxic cells (A7)
    I_L    = Vmax_MCT1 * mct1 * (N/V) * L / (Km_MCT1 + L)         normoxic lactate import (MCT1, A4)
    dG/dt  = k_G * phi * (G_p - G) - U_N - U_H - U_G2 - g G
    dL/dt  = y_L * U_H - I_L - k_L * phi * (L - L_p) - g L        hypoxic export (MCT4, A3)
    I      = Imax * C^n / (C^n + IC50^n)                          mTOR inhibition by drug
    mtor*  = (m_0 + lactate_mtor_coupling * m_L * mct1 * L / (EC50_L + L)) * (1 - I)   (A4, A5, A6)
    dmtor  = k_m (mtor* - mtor)
    dglut2 = k_G2 (glut2_induction * I - glut2)                   GLUT2 under mTOR inhibition (A7)
    dmct1  = k_T (1 + a_T * L^2 / (EC50_T^2 + L^2) - mct1)        adaptive MCT1 induction by lactate

MCT1 in normoxic cells is adaptive: lactate induces it over days to weeks, so the metabolic
symbiosis, and the mTOR-driven regrowth it feeds, builds up after anti-VEGF therapy has raised
tumor lactate (Allen 2016: vessel-proximal cells come to express MCT1 under therapy). Lactate
drives mTOR in proportion to its import per normoxic cell, ``mct1 * L / (EC50_L + L)``.

Lactate export through MCT4 is taken as non-limiting (its Km, ~28 mM, is above tumor lactate),
so hypoxic cells export the lactate they make at the rate they make it.
"""
from __future__ import annotations

from .ratelaws import hill, saturation

PARAMETERS = (
    "plasma_glucose",
    "plasma_lactate",
    "glucose_exchange_rate",
    "lactate_exchange_rate",
    "glut1_km",
    "glut2_km",
    "normoxic_glucose_vmax",
    "hypoxic_glucose_vmax",
    "glut2_glucose_vmax",
    "lactate_yield",
    "mct1_km",
    "mct1_vmax",
    "mtor_relaxation_rate",
    "mtor_basal",
    "mtor_lactate_max",
    "mtor_lactate_ec50",
    "glut2_induction_rate",
    "mct1_induction_rate",
    "mct1_induction_max",
    "mct1_lactate_ec50",
    "mtori_ic50",
    "mtori_hill",
    "mtori_max_inhibition",
    "lactate_mtor_coupling",
    "glut2_induction",
)


def mtor_inhibition(c, p):
    """Fractional inhibition of mTOR by the inhibitor at plasma concentration ``c`` (nM)."""
    return p.mtori_max_inhibition * hill(c, p.mtori_ic50, p.mtori_hill)


def metabolism_rates(n, h, k, glucose, lactate, mtor, glut2, mct1, c_mtori, p):
    """Return (dG/dt, dL/dt, dmtor/dt, dglut2/dt, dmct1/dt) without growth dilution."""
    v = n + h
    phi = k / (k + v)
    fn, fh = n / v, h / v
    s_g1 = saturation(glucose, p.glut1_km)
    u_n = p.normoxic_glucose_vmax * fn * s_g1
    u_h = p.hypoxic_glucose_vmax * fh * s_g1
    u_g2 = p.glut2_glucose_vmax * glut2 * fn * saturation(glucose, p.glut2_km)
    i_l = p.mct1_vmax * mct1 * fn * saturation(lactate, p.mct1_km)
    dg = p.glucose_exchange_rate * phi * (p.plasma_glucose - glucose) - u_n - u_h - u_g2
    dl = p.lactate_yield * u_h - i_l - p.lactate_exchange_rate * phi * (lactate - p.plasma_lactate)
    inhibition = mtor_inhibition(c_mtori, p)
    target = (p.mtor_basal + p.lactate_mtor_coupling * p.mtor_lactate_max * mct1
              * saturation(lactate, p.mtor_lactate_ec50)) * (1.0 - inhibition)
    dmtor = p.mtor_relaxation_rate * (target - mtor)
    dglut2 = p.glut2_induction_rate * (p.glut2_induction * inhibition - glut2)
    dmct1 = p.mct1_induction_rate * (1.0 + p.mct1_induction_max * hill(lactate, p.mct1_lactate_ec50, 2.0) - mct1)
    return dg, dl, dmtor, dglut2, dmct1
