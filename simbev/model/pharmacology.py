"""Bevacizumab (two-compartment, binding in the tumor) and an oral mTOR inhibitor.

Bevacizumab, concentrations in nM, volumes in L, V_int = phi_int * V * 1e-6 L (V in mm^3):

    B_t     = f_p * Cc                                            free bevacizumab in the tumor
    dCc/dt  = -(CL + Q)/Vc Cc + Q/Vc Cp - V_int/Vc (J_V + J_F) + u/Vc
    dCp/dt  = Q/Vp (Cc - Cp)
    dBV/dt  = J_V - k_cx BV - g BV ;   dBF/dt = J_F - k_cx BF - g BF
    dE/dt   = CL Cc + k_cx V_int (BV + BF)                        eliminated amount, nmol

Binding in the tumor draws bevacizumab from the central compartment, so that
Vc Cc + Vp Cp + V_int (BV + BF) + E equals the dosed amount exactly (mass balance). Free
bevacizumab in the tumor is counted within the central amount (the tumor interstitium is a
small part of the distribution volume). Complexes leave the tumor at ``k_cx`` (convective and
lymphatic washout) and are then counted as eliminated.

mTOR inhibitor, one compartment with first-order absorption; the bioavailable fraction F is
applied when an oral dose enters the depot:

    dD/dt = -ka D ;   dC/dt = ka D / V_m - ke C
"""
from __future__ import annotations

PARAMETERS = (
    "bev_clearance",
    "bev_central_volume",
    "bev_intercompartmental_clearance",
    "bev_peripheral_volume",
    "bev_tumor_partition",
    "bev_complex_efflux_rate",
    "tumor_interstitial_fraction",
    "mtori_absorption_rate",
    "mtori_elimination_rate",
    "mtori_volume",
)

MM3_TO_L = 1e-6


def interstitial_volume(v, p):
    """Tumor interstitial volume in L for a tumor volume ``v`` in mm^3."""
    return p.tumor_interstitial_fraction * v * MM3_TO_L


def bev_rates(cc, cp, bv, bf, j_v, j_f, v_int, infusion, p):
    """Return (dCc, dCp, dBV, dBF, dE) without growth dilution of the complexes."""
    vc = p.bev_central_volume
    dcc = (-(p.bev_clearance + p.bev_intercompartmental_clearance) * cc
           + p.bev_intercompartmental_clearance * cp - v_int * (j_v + j_f) + infusion) / vc
    dcp = p.bev_intercompartmental_clearance / p.bev_peripheral_volume * (cc - cp)
    dbv = j_v - p.bev_complex_efflux_rate * bv
    dbf = j_f - p.bev_complex_efflux_rate * bf
    de = p.bev_clearance * cc + p.bev_complex_efflux_rate * v_int * (bv + bf)
    return dcc, dcp, dbv, dbf, de


def mtori_rates(depot, c, p):
    """Return (dD/dt in nmol/day, dC/dt in nM/day)."""
    absorbed = p.mtori_absorption_rate * depot
    return -absorbed, absorbed / p.mtori_volume - p.mtori_elimination_rate * c
