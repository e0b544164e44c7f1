"""The simbev right-hand side: one coupled ODE system, assembled from the process modules.

``rhs(t, y, p, u)`` follows scipy's argument order. ``y`` holds the states in the order of
:mod:`simbev.model.states` (a vector, or states x k for a batch); ``p`` is a :class:`ModelParameters`
tuple; ``u`` is the bevacizumab infusion rate into the central compartment (nmol/day), an
input that the dosing protocol sets per segment (the model never sees the schedule).

Growth dilution: every tumor-local concentration (VEGF, MIF, complexes, glucose, lactate) loses
``g * C`` with ``g = (dV/dt)/V``, because the interstitium grows with the tumor. This is what
keeps the amount of the bevacizumab complexes, ``V_int * C``, exact in the mass balance.
"""
from __future__ import annotations

from collections import namedtuple

import numpy as np

from . import macrophages, metabolism, pharmacology, signalling, tumor, vessels

# Parameters used outside the right-hand side: dose conversion.
DOSING_PARAMETERS = ("body_weight", "bev_molecular_weight", "mtori_molecular_weight", "mtori_bioavailability")
# Parameters used by analyses only: the tumor volume at which an experiment ends (mouse humane
# end point) or a patient dies (lethal tumor burden).
OUTCOME_PARAMETERS = ("endpoint_tumor_volume",)

PARAMETER_NAMES: tuple[str, ...] = tuple(dict.fromkeys(
    tumor.PARAMETERS + vessels.PARAMETERS + signalling.PARAMETERS + macrophages.PARAMETERS
    + metabolism.PARAMETERS + pharmacology.PARAMETERS + DOSING_PARAMETERS + OUTCOME_PARAMETERS
))

KNOBS = ("mif_expression", "vegf_mif_induction", "bev_mif_binding", "lactate_mtor_coupling", "glut2_induction")

ModelParameters = namedtuple("ModelParameters", PARAMETER_NAMES)
ModelParameters.__doc__ = "Parameter values in model units, in the fixed order PARAMETER_NAMES."


def rhs(t, y, p, u=0.0):
    """Time derivative of the state (per day). Pure: no I/O, no name look-ups.

    Parameters
    ----------
    t : float
        Time in days (the system is autonomous; kept for scipy's signature).
    y : ndarray, shape (n_states,) or (n_states, k)
        States, ordered as :data:`simbev.model.states.STATE_NAMES`.
    p : ModelParameters
    u : float
        Bevacizumab infusion rate into the central compartment, nmol/day.
    """
    (n, h, k, vegf, mif, m1, m2, glucose, lactate, mtor, glut2, mct1,
     cc, cp, bv, bf, depot, c_mtori, _eliminated, km, perm) = y.tolist() if y.ndim == 1 else y

    v = n + h
    m1d, m2d = tumor.macrophage_densities(n, h, m1, m2, p)
    prolif_n = tumor.normoxic_proliferation(n, m2d, glucose, mtor, glut2, p)
    dn, dh = tumor.tumor_rates(n, h, k, m1d, m2d, glucose, mtor, glut2, p, prolif_n)
    g = (dn + dh) / v  # growth dilution rate, 1/day

    dk, dkm = vessels.vessel_rates(n, h, k, km, vegf, m2d, prolif_n, p)
    dperm = vessels.permeability_rate(vegf, perm, p)

    bev_tumor = p.bev_tumor_partition * cc
    j_v, j_f = signalling.binding_fluxes(bev_tumor, vegf, mif, bv, bf, p)
    dvegf, dmif = signalling.signalling_rates(n, h, vegf, mif, j_v, j_f, p)

    dm1, dm2 = macrophages.macrophage_rates(n, h, m1, m2, mif, p)
    dg, dl, dmtor, dglut2, dmct1 = metabolism.metabolism_rates(n, h, k, glucose, lactate, mtor, glut2, mct1, c_mtori, p)

    v_int = pharmacology.interstitial_volume(v, p)
    dcc, dcp, dbv, dbf, de = pharmacology.bev_rates(cc, cp, bv, bf, j_v, j_f, v_int, u, p)
    ddepot, dc = pharmacology.mtori_rates(depot, c_mtori, p)

    return np.array([
        dn, dh, dk,
        dvegf - g * vegf, dmif - g * mif,
        dm1, dm2,
        dg - g * glucose, dl - g * lactate,
        dmtor, dglut2, dmct1,
        dcc, dcp, dbv - g * bv, dbf - g * bf,
        ddepot, dc, de,
        dkm, dperm,
    ])


def jacobian(t, y, p, u=0.0):
    """Exact Jacobian d(rhs)/dy by complex-step differentiation.

    ``J[:, j] = Im(rhs(y + i h e_j)) / h``, with no subtractive cancellation, so the result is
    accurate to machine precision (Squire & Trapp 1998) for any step ``h`` far below the
    state scale. All ``n`` perturbations are evaluated in one vectorised call.
    """
    y = np.asarray(y, dtype=float)
    step = 1e-30 * np.maximum(np.abs(y), 1.0)
    yc = y[:, None] + 1j * np.diag(step)
    return rhs(t, yc, p, u).imag / step[None, :]
