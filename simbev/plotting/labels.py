"""One registry of display names and units for every output, metric and sweep key; every
figure labels its axes, colour bars and legends through it.

``axis_label("treatments.0.dose", "mg/kg", drugs=["bevacizumab"])`` -> ``"bevacizumab dose (mg/kg)"``;
``axis_label("tumor_volume@28", "mm^3")`` -> ``"tumor volume on day 28 (mm³)"``;
``axis_label("mif_expression", "1")`` -> ``"MIF expression"`` (dimensionless: no unit).
"""
from __future__ import annotations

import re
from typing import Sequence

__all__ = ["DISPLAY", "display_name", "unit_text", "axis_label", "number_format"]

#: Display names of outputs (states, derived) and metrics; anything else is spelt out from its
#: key (underscores to spaces, acronyms in capitals, see :func:`display_name`).
DISPLAY: dict[str, str] = {
    "time_days": "time",
    "tumor_normoxic": "normoxic tumor cells", "tumor_hypoxic": "hypoxic tumor cells",
    "tumor_volume": "tumor volume", "vessel_capacity": "vessel capacity",
    "vegf": "free VEGF", "mif": "free MIF", "macrophage_m1": "M1 macrophages", "macrophage_m2": "M2 macrophages",
    "macrophage_total": "macrophages (M1 + M2)", "m2_m1_ratio": "M2:M1 ratio",
    "hypoxic_fraction": "hypoxic fraction", "mtor_activity": "mTOR activity", "glut2": "GLUT2 expression",
    "mct1_expression": "MCT1 expression", "bev_central": "bevacizumab (plasma)",
    "bev_peripheral": "bevacizumab (peripheral)", "bev_vegf": "bevacizumab-VEGF complex",
    "bev_mif": "bevacizumab-MIF complex", "mtori_depot": "mTOR inhibitor (gut depot)",
    "mtori_central": "mTOR inhibitor (plasma)",
    # metrics: the name says the clock (day of the run, or days since treatment start)
    "final_tumor_volume": "final tumor volume", "min_tumor_volume": "on-treatment nadir volume",
    "nadir_day": "nadir, day of the run", "day_of_min": "nadir, day of the run",
    "time_to_progression": "time to progression since first dose",
    "progression_day": "progression, day of the run",
    "treatment_start_day": "first dose, day of the run",
    "m2_m1_ratio_end": "final M2:M1 ratio", "mif_end": "final free MIF",
    "hypoxic_fraction_end": "final hypoxic fraction", "macrophage_total_end": "final macrophages (M1 + M2)",
    "tumor_volume_auc": "tumor-volume AUC",
}

_ACRONYMS = {"mif": "MIF", "vegf": "VEGF", "mtor": "mTOR", "mtori": "mTOR inhibitor", "glut2": "GLUT2",
             "mct1": "MCT1", "m1": "M1", "m2": "M2", "bev": "bevacizumab", "pk": "PK", "ec50": "EC50",
             "km": "Km", "vmax": "Vmax", "ic50": "IC50"}

_TREATMENT_FIELD = {"dose": "dose", "every_days": "dosing interval", "start_day": "start day",
                    "doses": "number of doses", "stop_day": "last day", "infusion_hours": "infusion duration"}

_AT = re.compile(r"^(?P<name>[A-Za-z_][A-Za-z0-9_]*)@(?P<day>[-+0-9.eE]+)$")
_TREATMENT = re.compile(r"^treatments\.(?P<i>\d+)\.(?P<field>\w+)$")


def display_name(key: str, drugs: Sequence[str] | None = None) -> str:
    """A readable name for an output, metric, parameter or sweep key.

    ``drugs``: the drug of each ``treatments`` entry, to name ``treatments.<i>.<field>``.
    """
    if key in DISPLAY:
        return DISPLAY[key]
    m = _AT.match(key)
    if m:
        return f"{display_name(m['name'])} on day {float(m['day']):g}"
    m = _TREATMENT.match(key)
    if m:
        i = int(m["i"])
        drug = drugs[i] if drugs is not None and i < len(drugs) else f"treatment {i + 1}"
        return f"{display_name(drug)} {_TREATMENT_FIELD.get(m['field'], m['field'].replace('_', ' '))}"
    if key == "bevacizumab":
        return "bevacizumab"
    if key == "mtor_inhibitor":
        return "mTOR inhibitor"
    return " ".join(_ACRONYMS.get(w, w) for w in key.split("_"))


def unit_text(unit: str) -> str:
    """A unit as printed: ``mm^3`` -> mm³, ``1e6 cells`` -> 10⁶ cells, ``mm^3*day`` -> mm³·day;
    ``""`` for dimensionless (``"1"``)."""
    if unit in ("1", "", None):
        return ""
    out = unit.replace("1e6 ", "10⁶ ").replace("^3", "³").replace("^2", "²").replace("^-1", "⁻¹").replace("*", "·")
    return out


def axis_label(key: str, unit: str = "", drugs: Sequence[str] | None = None) -> str:
    """``"<display name> (<unit>)"``, or the display name alone for a dimensionless quantity."""
    u = unit_text(unit)
    name = display_name(key, drugs)
    return f"{name} ({u})" if u else name


def number_format(values) -> str:
    """One format for all ``values`` of a figure: fixed decimals chosen from the range (no
    mixing of ``2.25e+03`` and ``335``). Returns a ``str.format`` spec like ``"{:.1f}"``."""
    import numpy as np
    v = np.abs(np.asarray([x for x in values if x is not None and np.isfinite(x)], dtype=float))
    if v.size == 0:
        return "{:g}"
    top = float(v.max())
    if top == 0:
        return "{:.0f}"
    if top >= 1e5 or top < 1e-3:
        return "{:.2e}"
    small = float(v[v > 0].min()) if np.any(v > 0) else top
    decimals = max(0, min(3, 2 - int(np.floor(np.log10(small)))))  # 3 significant digits for the smallest
    if top >= 100:
        decimals = min(decimals, 1 if small < 10 else 0)
    return "{:,.%df}" % decimals
