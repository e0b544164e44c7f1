"""Figures: of one or several runs (:mod:`.run`) and of sweeps (:mod:`.sweep`), with shared
labels. Functions return matplotlib Figures or Axes; nothing here calls ``show()``.

May import: :mod:`simbev.model`, :mod:`simbev.analysis` (metrics, survival) and the data
classes it draws (result, sweeps' records); never :mod:`simbev.cli`.
"""
from __future__ import annotations

from .run import (DRUG_STYLE, HYPOXIC_COLOR, NORMOXIC_COLOR, mark_doses, plot_comparison, plot_compartments,
                  plot_tumor_burden, treatment_windows, unit_label)

__all__ = ["DRUG_STYLE", "HYPOXIC_COLOR", "NORMOXIC_COLOR", "mark_doses", "plot_comparison", "plot_compartments",
           "plot_tumor_burden", "treatment_windows", "unit_label"]
