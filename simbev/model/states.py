"""State variables of the simbev model: public names, units, order.

The names are the public contract (docs/reference.md): scenario files, outputs and tests use them.
The order fixes the layout of the state vector ``y`` given to the right-hand side.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class StateInfo:
    """One state variable: public name, unit, description and absolute-tolerance scale."""

    name: str
    unit: str
    description: str
    atol: float


STATES: tuple[StateInfo, ...] = (
    StateInfo("tumor_normoxic", "mm^3", "vessel-proximal, oxygenated tumor cells (enhancing edge)", 1e-6),
    StateInfo("tumor_hypoxic", "mm^3", "distal hypoxic, glycolytic tumor cells", 1e-6),
    StateInfo("vessel_capacity", "mm^3", "functional vasculature: tumor volume the vessels can support", 1e-6),
    StateInfo("vegf", "nM", "free VEGF-A in the tumor interstitium", 1e-10),
    StateInfo("mif", "nM", "free MIF in the tumor interstitium", 1e-9),
    StateInfo("macrophage_m1", "1e6 cells", "M1 (anti-tumor) tumor-associated macrophages", 1e-9),
    StateInfo("macrophage_m2", "1e6 cells", "M2 (pro-tumor) tumor-associated macrophages", 1e-9),
    StateInfo("glucose", "mM", "interstitial glucose in the tumor", 1e-9),
    StateInfo("lactate", "mM", "interstitial lactate in the tumor", 1e-9),
    StateInfo("mtor_activity", "1", "mTOR signalling in normoxic cells (p-S6 readout; 1 = basal + half-maximal lactate drive)", 1e-9),
    StateInfo("glut2", "1", "GLUT2 expression in normoxic cells, fraction of maximal induction", 1e-10),
    StateInfo("mct1_expression", "1", "MCT1 expression in normoxic cells relative to basal (adaptive, induced by lactate)", 1e-9),
    StateInfo("bev_central", "nM", "free bevacizumab, central (plasma) compartment", 1e-9),
    StateInfo("bev_peripheral", "nM", "free bevacizumab, peripheral compartment", 1e-9),
    StateInfo("bev_vegf", "nM", "bevacizumab-VEGF complex in the tumor interstitium", 1e-10),
    StateInfo("bev_mif", "nM", "bevacizumab-MIF complex in the tumor interstitium", 1e-10),
    StateInfo("mtori_depot", "nmol", "mTOR inhibitor in the gut depot (bioavailable amount)", 1e-9),
    StateInfo("mtori_central", "nM", "mTOR inhibitor in plasma", 1e-10),
    StateInfo("bev_eliminated", "nmol", "cumulative bevacizumab eliminated (clearance and complex efflux); bookkeeping for mass balance", 1e-9),
    StateInfo("vessel_mature", "mm^3", "VEGF-independent part of vessel_capacity: pericyte-covered (matured) and co-opted host vessels, which VEGF withdrawal does not prune", 1e-6),
    StateInfo("vessel_permeability", "1", "fraction of the vessel-proximal tumor whose vessels leak contrast agent (VEGF-driven permeability; 0 = tight, 1 = all leaky)", 1e-9),
)

STATE_NAMES: tuple[str, ...] = tuple(s.name for s in STATES)
STATE_INDEX: dict[str, int] = {name: i for i, name in enumerate(STATE_NAMES)}
STATE_UNITS: dict[str, str] = {s.name: s.unit for s in STATES}
N_STATES = len(STATES)

# Index constants, for code that must not look names up in a hot loop.
(
    I_TUMOR_NORMOXIC, I_TUMOR_HYPOXIC, I_VESSEL_CAPACITY, I_VEGF, I_MIF, I_M1, I_M2, I_GLUCOSE,
    I_LACTATE, I_MTOR, I_GLUT2, I_MCT1, I_BEV_CENTRAL, I_BEV_PERIPHERAL, I_BEV_VEGF, I_BEV_MIF,
    I_MTORI_DEPOT, I_MTORI_CENTRAL, I_BEV_ELIMINATED, I_VESSEL_MATURE, I_VESSEL_PERMEABILITY,
) = range(N_STATES)


@dataclass(frozen=True)
class DerivedInfo:
    name: str
    unit: str
    description: str


DERIVED: tuple[DerivedInfo, ...] = (
    DerivedInfo("tumor_volume", "mm^3", "tumor_normoxic + tumor_hypoxic"),
    DerivedInfo("hypoxic_fraction", "1", "tumor_hypoxic / tumor_volume"),
    DerivedInfo("macrophage_total", "1e6 cells", "macrophage_m1 + macrophage_m2"),
    DerivedInfo("m2_m1_ratio", "1", "macrophage_m2 / macrophage_m1"),
    DerivedInfo("macrophage_density", "1e6 cells/mm^3", "macrophage_total / tumor_volume (TAMs per tumor volume)"),
    DerivedInfo("free_vegf_fraction", "1", "vegf / (vegf + bev_vegf): VEGF not bound by bevacizumab"),
    DerivedInfo("enhancing_volume", "mm^3", "contrast-enhancing tumor volume, what a T1-contrast MRI measures: "
                "tumor_normoxic x vessel_permeability (vessel-proximal tumor with leaky, VEGF-driven vessels)"),
)
DERIVED_NAMES: tuple[str, ...] = tuple(d.name for d in DERIVED)
DERIVED_UNITS: dict[str, str] = {d.name: d.unit for d in DERIVED}

ATOL = np.array([s.atol for s in STATES])


def pack(values: dict[str, float], base: np.ndarray | None = None) -> np.ndarray:
    """Return a state vector from ``{name: value}``; names not given come from ``base``.

    Raises ``KeyError`` naming the unknown state.
    """
    y = np.zeros(N_STATES) if base is None else np.array(base, dtype=float)
    for name, value in values.items():
        if name not in STATE_INDEX:
            raise KeyError(f"unknown state {name!r}")
        y[STATE_INDEX[name]] = float(value)
    return y


def unpack(y: np.ndarray) -> dict[str, np.ndarray]:
    """Return ``{name: y[i]}`` for a state vector (or a states x times array)."""
    return {name: y[i] for i, name in enumerate(STATE_NAMES)}


def derived(y: np.ndarray) -> dict[str, np.ndarray]:
    """Derived outputs from states (works on a vector or a states x times array)."""
    n, h = y[I_TUMOR_NORMOXIC], y[I_TUMOR_HYPOXIC]
    m1, m2 = y[I_M1], y[I_M2]
    v = n + h
    with np.errstate(divide="ignore", invalid="ignore"):
        return {
            "tumor_volume": v,
            "hypoxic_fraction": np.where(v > 0, h / np.where(v > 0, v, 1.0), np.nan),
            "macrophage_total": m1 + m2,
            "m2_m1_ratio": np.where(m1 > 0, m2 / np.where(m1 > 0, m1, 1.0), np.inf),
            "macrophage_density": np.where(v > 0, (m1 + m2) / np.where(v > 0, v, 1.0), np.nan),
            "free_vegf_fraction": y[I_VEGF] / np.where(y[I_VEGF] + y[I_BEV_VEGF] > 0, y[I_VEGF] + y[I_BEV_VEGF], 1.0),
            # Enhancing tumor: vessel-proximal (normoxic) tumor whose vessels leak contrast.
            # Distal hypoxic tumor and tumor on tight (VEGF-deprived) vessels do not enhance.
            "enhancing_volume": n * y[I_VESSEL_PERMEABILITY],
        }
