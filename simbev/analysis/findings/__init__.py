"""The published findings as checks that run the model, each with a negative control.

Each check compares simulated arms and returns a :class:`Check`: what was compared, the numbers
measured, the criterion (direction and a minimum effect size) and whether it holds. Nothing is
typed in: a finding that the model does not reproduce comes back with ``holds=False``.

Negative controls
-----------------
A check that holds whatever the model does is no evidence. Every finding check therefore names
the mechanism it stands for and is evaluated a second time, in the same call, with that
mechanism removed (``Check.control``, ``Check.control_measured``, ``Check.control_holds``). A
check *discriminates* when it holds at the defaults and fails without its mechanism.
Statements that only restate one of the model's own terms are not findings: they are kept
apart as *model-structure statements* (:data:`STRUCTURE`, :func:`evaluate_structure`) and are
not evidence.

Definitions
-----------
*Humane end point*: a mouse arm is read only while its tumor is below the end point
(:func:`humane_end_point_mm3`); a comparison of arms at one time is read no later than the
first of the compared arms reaches it. Readouts that would fall later are moved to that day
(the measured values say which day was read).

*Resistant tumor*: a tumor sampled after it has escaped bevacizumab, i.e. at the first output
time at which its volume exceeds its running on-treatment nadir by 40 % (the volumetric
progression criterion of :mod:`simbev.analysis.metrics`) before it reaches the humane end point; at the
last readable time if it never does (then ``escaped`` is False and C1-C3 fail).

*Comparator*: an untreated tumor **of the same volume** (the untreated run interpolated at the
time it had the resistant tumor's volume). Castro et al. compared resistant with naive
xenografts harvested at similar sizes; hypoxia, lactate and macrophage density all depend on
tumor size in the model, so equal volume is the fair comparison for C1-C3. Findings about the course of therapy (A2, A3, C7, C8) are
compared at the same time, 14 days after the first dose.

*Escape* (route sufficiency R1-R3): progression (40 % over the running nadir) within eight
weeks of the first dose, before the treated tumor reaches the humane end point. R1-R3 run the
route experiment of experiments/e05_routes.py (the setting's bevacizumab schedule from day 14,
a ~700 mm^3 tumor, for eight weeks), the experiment of docs/figures/routes.png.

Intensive quantities are used throughout: MIF concentration, macrophages per tumor volume,
M2:M1 ratio, hypoxic fraction.
"""
from __future__ import annotations

# the private helpers _at, _density and _resistant_vs_naive are re-exported for experiments/e01 (its figures)
from .arms import (ENDPOINT_PARAMETER, ESCAPE_HORIZON_DAYS, FIXED, MOUSE_HUMANE_END_POINT_MM3, ROUTE_START_DAY,
                   SETTINGS, Arms, Setting, _at, _density, growth_rates, humane_end_point_mm3, m1_fraction,
                   perturbed_parameters, resistant_sample, time_of_volume)  # noqa: F401
from .checks import (FINDINGS, NO_COUPLING, NO_LACTATE_EXPORT, NO_MACROPHAGE_EFFECTS, NO_MIF_LOWERING, NO_MIF_SIGNAL,
                     NO_ROUTES, NO_VEGF_BINDING, REVISIONS, SPECS, STRUCTURE, Check, Spec, _resistant_vs_naive, applies,
                     evaluate, evaluate_structure, route_escape)  # noqa: F401

__all__ = ["ENDPOINT_PARAMETER", "ESCAPE_HORIZON_DAYS", "FIXED", "MOUSE_HUMANE_END_POINT_MM3", "ROUTE_START_DAY",
           "SETTINGS", "Arms", "Setting", "growth_rates", "humane_end_point_mm3", "m1_fraction", "perturbed_parameters",
           "resistant_sample", "time_of_volume", "FINDINGS", "NO_COUPLING", "NO_LACTATE_EXPORT",
           "NO_MACROPHAGE_EFFECTS", "NO_MIF_LOWERING", "NO_MIF_SIGNAL", "NO_ROUTES", "NO_VEGF_BINDING", "REVISIONS",
           "SPECS", "STRUCTURE", "Check", "Spec", "applies", "evaluate", "evaluate_structure", "route_escape"]
