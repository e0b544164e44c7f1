"""Best radiological response from a tumor-volume series: a volumetric Macdonald/RANO analogue.

Macdonald (1990) and RANO (Wen 2010) measure the product of the two largest perpendicular
diameters of the enhancing tumor. For a sphere the volume goes with the product to the power
3/2, so their bidimensional thresholds become volumetric ones:

- **partial response (PR)**: >= 50 % decrease of the product from baseline, i.e.
  :math:`1 - 0.5^{3/2} = 65\\,\\%` decrease of the volume;
- **progression (PD)**: >= 25 % increase of the product over its smallest value (the nadir,
  baseline included), i.e. :math:`1.25^{3/2} - 1 = 40\\,\\%` increase of the volume;
- **complete response (CR)**: no measurable enhancing tumor left. RANO calls a lesion measurable
  from 10 mm x 10 mm; the volumetric analogue used here is a volume at or below that of a 10 mm
  sphere (524 mm^3), unless another ``complete_response_volume`` is given, and at least the
  partial-response decrease (disappearance implies it; a small baseline tumor that shrinks a
  little is not a complete response). Trials enrol patients with measurable disease, so the
  baseline should be above that volume;
- **confirmation**: a CR or PR counts only if the next assessment at least 4 weeks later
  (``confirmation_days``) still shows it (CR confirmed by CR; PR by PR or CR), with no
  progression in between (Macdonald: response sustained >= 1 month);
- **stable disease (SD)**: neither a confirmed response nor progression at the first assessment
  (an unconfirmed response counts as SD);
- assessments stop at the first progression.

Clinical criteria also use new lesions, non-enhancing (T2/FLAIR) disease, steroid dose and
clinical status; a simulation has none of these, so the classifier reads the volume only. It
takes any volume series: the trial passes the contrast-enhancing volume when the model provides
it, else the tumor cell volume (and says which).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence

import numpy as np

__all__ = ["ResponseCriteria", "ResponseAssessment", "classify", "CATEGORIES", "MEASURABLE_SPHERE_MM3",
           "assessment_days"]

CATEGORIES = ("CR", "PR", "SD", "PD", "NE")
#: Volume of a sphere of 10 mm diameter (mm^3): RANO's smallest measurable lesion (10 x 10 mm).
MEASURABLE_SPHERE_MM3 = math.pi / 6.0 * 10.0 ** 3


@dataclass(frozen=True)
class ResponseCriteria:
    """Thresholds of the volumetric criteria (fractions, days, mm^3)."""

    partial_response_decrease: float = 0.65
    progression_increase: float = 0.40
    confirmation_days: float = 28.0
    complete_response_volume: float = MEASURABLE_SPHERE_MM3

    def __post_init__(self):
        if not 0 < self.partial_response_decrease < 1:
            raise ValueError("partial_response_decrease must be in (0, 1)")
        if not self.progression_increase > 0:
            raise ValueError("progression_increase must be > 0")
        if not self.confirmation_days >= 0:
            raise ValueError("confirmation_days must be >= 0")
        if not self.complete_response_volume >= 0:
            raise ValueError("complete_response_volume must be >= 0")


@dataclass(frozen=True)
class ResponseAssessment:
    """Outcome of :func:`classify`.

    Attributes
    ----------
    best_response : one of ``CR PR SD PD`` (``NE`` without any assessment after baseline).
    statuses : status at each assessment after baseline, up to and including the first PD.
    progression_day : time of the first PD assessment (same clock as ``times``), or None.
    best_change : smallest relative change from baseline over those assessments (e.g. -0.7).
    response_day : time of the first confirmed CR/PR assessment, or None.
    """

    best_response: str
    statuses: tuple[str, ...]
    progression_day: float | None
    best_change: float
    response_day: float | None

    @property
    def objective_response(self) -> bool:
        return self.best_response in ("CR", "PR")


def classify(times: Sequence[float], volumes: Sequence[float],
             criteria: ResponseCriteria = ResponseCriteria()) -> ResponseAssessment:
    """Classify a series of volume assessments.

    Parameters
    ----------
    times : assessment times, ascending; ``times[0]`` is the baseline scan.
    volumes : volume at each time (any unit consistent with ``complete_response_volume``, mm^3
        by default), ``volumes[0] > 0``.
    criteria : thresholds (defaults: PR -65 %, PD +40 % over the nadir, confirmation 28 days).
    """
    t = np.asarray(times, dtype=float)
    v = np.asarray(volumes, dtype=float)
    if t.shape != v.shape or t.ndim != 1 or t.size == 0:
        raise ValueError("times and volumes must be 1-D of equal, non-zero length")
    if np.any(np.diff(t) <= 0):
        raise ValueError("assessment times must be strictly increasing")
    if not (np.all(np.isfinite(v)) and np.all(v >= 0) and v[0] > 0):
        raise ValueError("volumes must be finite, >= 0, and the baseline > 0")
    base = v[0]
    pr_limit = (1.0 - criteria.partial_response_decrease) * base
    statuses: list[str] = []
    nadir = base
    progression_day = None
    for vi in v[1:]:
        if vi >= (1.0 + criteria.progression_increase) * nadir:
            statuses.append("PD")
            progression_day = float(t[len(statuses)])
            break
        if vi <= criteria.complete_response_volume and vi <= pr_limit:
            statuses.append("CR")
        elif vi <= pr_limit:
            statuses.append("PR")
        else:
            statuses.append("SD")
        nadir = min(nadir, vi)
    if not statuses:
        return ResponseAssessment("NE", (), None, 0.0, None)
    assessed = v[1:1 + len(statuses)]
    best_change = float(np.min(assessed) / base - 1.0)
    at = t[1:1 + len(statuses)]
    best, response_day = None, None
    for k, status in enumerate(statuses):
        if status not in ("CR", "PR"):
            continue
        later = np.nonzero(at >= at[k] + criteria.confirmation_days - 1e-9)[0]
        if later.size == 0:
            continue
        confirm = statuses[int(later[0])]
        level = "CR" if status == "CR" and confirm == "CR" else ("PR" if confirm in ("CR", "PR") else None)
        if level is None:
            continue
        if response_day is None:
            response_day = float(at[k])
        if best is None or (level == "CR" and best == "PR"):
            best = level
    if best is None:
        best = "PD" if statuses[0] == "PD" else "SD"
    return ResponseAssessment(best, tuple(statuses), progression_day, best_change, response_day)


def assessment_days(follow_up_days: float, every_days: float = 28.0) -> np.ndarray:
    """Scan schedule: baseline (day 0) and every ``every_days`` up to ``follow_up_days``."""
    if every_days <= 0:
        raise ValueError("every_days must be > 0")
    n = int(math.floor(follow_up_days / every_days + 1e-9))
    return np.arange(n + 1) * float(every_days)
