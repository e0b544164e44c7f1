"""VEGF and MIF in the tumor interstitium, and their binding by bevacizumab.

    prod_V = p_V * (N + h_V * H) / V                                   HIF1a raises VEGF in hypoxic cells
    J_V    = kon_V * B_t * VEGF - koff_V * BV                          bevacizumab-VEGF binding
    dVEGF  = prod_V - kdeg_V * VEGF - J_V - g * VEGF
    S_R2   = VEGF / (VEGF + EC50_R2)                                    VEGFR2 on tumor cells
    S_ref  = VEGF_ref / (VEGF_ref + EC50_R2)                           untreated VEGFR2 signal
    prod_F = p_F * mif_expression * (1 + i_F * (k * S_R2 + (1 - k) * S_ref)),  k = vegf_mif_induction   (C8)
    J_F    = bev_mif_binding * kon_F * B_t * MIF - koff_F * BF          bevacizumab-MIF binding (C7)
    dMIF   = prod_F - kdeg_F * MIF - J_F - g * MIF

The knob ``vegf_mif_induction`` (k) scales how much MIF production follows VEGF. At 0 the
production no longer depends on VEGF and stays at the level the untreated tumor's VEGF gives
(``VEGF_ref``): the mechanism is removed, not the MIF. (Were the induced part simply dropped,
an untreated tumor would lose ~60 % of its MIF, and the "MIF lowering removed" arm would carry
a tumor with constitutively low MIF, i.e. the immune route switched on before any therapy.)

``B_t`` is the free bevacizumab concentration in the tumor interstitium (a fixed fraction of the
plasma concentration, see ``pharmacology``); ``g = (dV/dt)/V`` is dilution by tumor growth.
"""
from __future__ import annotations

from .ratelaws import saturation

PARAMETERS = (
    "vegf_secretion_rate",
    "vegf_hypoxia_induction",
    "vegf_degradation_rate",
    "bev_vegf_kon",
    "bev_vegf_koff",
    "mif_secretion_rate",
    "mif_degradation_rate",
    "mif_vegf_induction_max",
    "vegfr2_mif_ec50",
    "vegf_mif_reference",
    "bev_mif_kon",
    "bev_mif_koff",
    "mif_expression",
    "vegf_mif_induction",
    "bev_mif_binding",
)


def binding_fluxes(bev_tumor, vegf, mif, bv, bf, p):
    """Net association fluxes (nM/day) of bevacizumab with VEGF and with MIF."""
    j_v = p.bev_vegf_kon * bev_tumor * vegf - p.bev_vegf_koff * bv
    j_f = p.bev_mif_binding * p.bev_mif_kon * bev_tumor * mif - p.bev_mif_koff * bf
    return j_v, j_f


def signalling_rates(n, h, vegf, mif, j_v, j_f, p):
    """Return (dVEGF/dt, dMIF/dt) in nM/day, without growth dilution."""
    v = n + h
    prod_v = p.vegf_secretion_rate * (n + p.vegf_hypoxia_induction * h) / v
    k = p.vegf_mif_induction
    signal = k * saturation(vegf, p.vegfr2_mif_ec50) + (1.0 - k) * saturation(p.vegf_mif_reference, p.vegfr2_mif_ec50)
    induction = 1.0 + p.mif_vegf_induction_max * signal
    prod_f = p.mif_secretion_rate * p.mif_expression * induction
    dvegf = prod_v - p.vegf_degradation_rate * vegf - j_v
    dmif = prod_f - p.mif_degradation_rate * mif - j_f
    return dvegf, dmif
