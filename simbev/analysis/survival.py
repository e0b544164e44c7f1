"""Kaplan–Meier survival estimates with Greenwood confidence intervals.

Conventions (documented in ``docs/trial.md``):

- **Estimate.** At each distinct event time :math:`t_j` with :math:`d_j` events among
  :math:`n_j` subjects at risk (time >= :math:`t_j`),
  :math:`\\hat S(t) = \\prod_{t_j \\le t} (1 - d_j / n_j)`. A subject censored at the same time as
  an event is still at risk for that event (the usual convention).
- **Variance** (Greenwood 1926):
  :math:`\\widehat{\\mathrm{Var}}\\,\\hat S(t) = \\hat S(t)^2 \\sum_{t_j \\le t} d_j / (n_j (n_j - d_j))`.
- **Pointwise interval**: on the log(-log) scale (Kalbfleisch & Prentice 2002), so that it stays
  inside [0, 1]: with :math:`\\sigma(t)^2 = \\sum d_j/(n_j(n_j-d_j))` and
  :math:`s = \\sigma / |\\log \\hat S|`, the bounds are :math:`\\hat S^{\\exp(\\pm z s)}`.
- **Median and its interval** (Brookmeyer & Crowley 1982): the median is the first time at which
  :math:`\\hat S \\le 0.5` (the midpoint of the flat stretch where :math:`\\hat S` equals 0.5 exactly,
  as R's ``survfit`` does); its interval is the set of times whose pointwise interval contains 0.5,
  i.e. from the first time the lower band reaches 0.5 to the first time the upper band does
  (``None`` = not reached within follow-up).

Everything here is a plain function of arrays (plotting lives in :mod:`simbev.plotting`);
:func:`metric_matrix` turns a sweep store's rows into censored times for these estimates.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence

import numpy as np
from scipy.stats import norm

__all__ = ["KaplanMeier", "kaplan_meier", "survival_at", "quantile", "median", "numbers_at_risk",
           "proportion_ci", "metric_matrix"]


@dataclass(frozen=True)
class KaplanMeier:
    """A Kaplan–Meier estimate as step functions, right-continuous, starting at time 0.

    Attributes
    ----------
    time : distinct event times, ascending (only times with at least one event).
    at_risk, events : subjects at risk and events at each of those times.
    survival : :math:`\\hat S` just after each time.
    greenwood : :math:`\\sum d_j/(n_j(n_j-d_j))` up to each time (``inf`` once all at risk died).
    lower, upper : pointwise ``conf_level`` interval (log-log scale) after each time.
    n : number of subjects; censor_times : times of censored subjects (for plots).
    conf_level : level of the intervals; max_time : longest follow-up (event or censoring).
    """

    time: np.ndarray
    at_risk: np.ndarray
    events: np.ndarray
    survival: np.ndarray
    greenwood: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    n: int
    censor_times: np.ndarray
    conf_level: float = 0.95
    max_time: float = math.inf

    @property
    def std_error(self) -> np.ndarray:
        """Greenwood standard error of :math:`\\hat S` after each event time."""
        with np.errstate(invalid="ignore"):
            return np.where(self.survival > 0, self.survival * np.sqrt(self.greenwood), 0.0)

    def __iter__(self):
        """``t, s = kaplan_meier(...)`` unpacks the survival step function (see :meth:`step`)."""
        return iter(self.step("survival"))

    def step(self, which: str = "survival") -> tuple[np.ndarray, np.ndarray]:
        """``(t, y)`` with a leading ``(0, 1)``, for ``plt.step(t, y, where="post")``."""
        y = getattr(self, which)
        return np.concatenate([[0.0], self.time]), np.concatenate([[1.0], y])


def _validate(times, events) -> tuple[np.ndarray, np.ndarray]:
    t = np.asarray(times, dtype=float).ravel()
    e = np.asarray(events).ravel()
    if t.shape != e.shape:
        raise ValueError(f"times and events differ in length ({t.size} vs {e.size})")
    if not np.all(np.isfinite(t)) or np.any(t < 0):
        raise ValueError("times must be finite and >= 0 (censor a subject without an event at its last "
                         "follow-up time)")
    if not np.all(np.isin(e, (0, 1, True, False))):
        raise ValueError("events must be 0/1 (1 = event observed, 0 = censored)")
    return t, e.astype(bool)


def kaplan_meier(times: Sequence[float], events: Sequence[bool], conf_level: float = 0.95) -> KaplanMeier:
    """Kaplan–Meier estimate with Greenwood variance and log-log pointwise intervals.

    Parameters
    ----------
    times : follow-up time of each subject (event or censoring), >= 0.
    events : 1 (True) where the event was observed at ``times``, 0 where the subject was censored.
    conf_level : level of the pointwise intervals (default 0.95).
    """
    t, e = _validate(times, events)
    z = float(norm.ppf(0.5 + conf_level / 2))
    event_times = np.unique(t[e])
    at_risk = np.array([(t >= u).sum() for u in event_times], dtype=int)
    d = np.array([((t == u) & e).sum() for u in event_times], dtype=int)
    surv = np.cumprod(1.0 - d / at_risk)
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(at_risk > d, d / (at_risk * (at_risk - d)), np.inf)
    gw = np.cumsum(terms)
    lower, upper = np.empty_like(surv), np.empty_like(surv)
    for k, (s, g) in enumerate(zip(surv, gw)):
        if s <= 0 or not np.isfinite(g):
            lower[k] = upper[k] = 0.0
        elif s >= 1:
            lower[k] = upper[k] = 1.0
        else:
            spread = z * math.sqrt(g) / abs(math.log(s))
            lower[k] = s ** math.exp(spread)
            upper[k] = s ** math.exp(-spread)
    return KaplanMeier(event_times, at_risk, d, surv, gw, lower, upper, int(t.size), np.sort(t[~e]),
                       float(conf_level), float(t.max()) if t.size else 0.0)


def survival_at(km: KaplanMeier, t: float) -> tuple[float, float, float]:
    """``(S(t), lower, upper)``: the estimate and its pointwise interval at time ``t``.

    Beyond the longest follow-up the estimate is undefined: ``(nan, nan, nan)``.
    """
    if float(t) > km.max_time:
        return math.nan, math.nan, math.nan
    k = int(np.searchsorted(km.time, float(t), side="right")) - 1
    if k < 0:
        return 1.0, 1.0, 1.0
    return float(km.survival[k]), float(km.lower[k]), float(km.upper[k])


def _first_at_or_below(times: np.ndarray, curve: np.ndarray, p: float, tol: float = 1e-12) -> float | None:
    """First time a right-continuous step curve (value 1 before ``times[0]``) is <= ``p``; where it
    equals ``p`` exactly over a stretch, the midpoint of that stretch and the next drop."""
    idx = np.nonzero(curve <= p + tol)[0]
    if idx.size == 0:
        return None
    k = int(idx[0])
    if abs(curve[k] - p) <= tol:
        below = np.nonzero(curve < p - tol)[0]
        if below.size == 0:
            return None if k + 1 >= times.size else float(times[k])
        return float((times[k] + times[int(below[0])]) / 2.0)
    return float(times[k])


def quantile(km: KaplanMeier, q: float = 0.5) -> tuple[float | None, float | None, float | None]:
    """Time by which a fraction ``q`` had the event, with its Brookmeyer–Crowley interval.

    Returns ``(estimate, lower, upper)``; each is ``None`` where the curve does not reach
    ``1 - q`` within follow-up.
    """
    p = 1.0 - float(q)
    est = _first_at_or_below(km.time, km.survival, p)
    lo = _first_at_or_below(km.time, km.lower, p)
    hi = _first_at_or_below(km.time, km.upper, p)
    return est, lo, hi


def median(km: KaplanMeier) -> tuple[float | None, float | None, float | None]:
    """Median survival time with its Brookmeyer–Crowley interval (see :func:`quantile`)."""
    return quantile(km, 0.5)


def numbers_at_risk(times: Sequence[float], grid: Sequence[float]) -> np.ndarray:
    """Subjects still followed and event-free (time >= g) at each grid time ``g``."""
    t = np.asarray(times, dtype=float)
    return np.array([(t >= g).sum() for g in np.asarray(grid, dtype=float)], dtype=int)


def proportion_ci(successes: int, n: int, conf_level: float = 0.95) -> tuple[float, float, float]:
    """A proportion with its exact (Clopper–Pearson) interval: ``(p, lower, upper)``."""
    from scipy.stats import beta

    if n <= 0:
        raise ValueError("n must be > 0")
    a = 1.0 - conf_level
    lo = 0.0 if successes == 0 else float(beta.ppf(a / 2, successes, n - successes + 1))
    hi = 1.0 if successes == n else float(beta.ppf(1 - a / 2, successes + 1, n - successes))
    return successes / n, lo, hi


def metric_matrix(rows: list[dict], sweep, metric: str, arm: int):
    """Values of ``metric`` in ``arm`` in sample order: ``(y, censored)``.

    A ``time_to_progression`` of ``None`` (no progression) counts as the follow-up time and is
    flagged as censored; a failed or pending sample gives NaN. ``rows`` are a sweep store's
    rows (status ``"ok"``, ``"failed"`` or ``"pending"``); ``sweep`` has the number of samples
    as ``size``.
    """
    y = np.full(sweep.size, np.nan)
    censored = np.zeros(sweep.size, dtype=bool)
    for row in rows:
        if row["arm"] != arm or row["status"] != "ok":
            continue
        v = row["metrics"].get(metric)
        if v is None and metric == "time_to_progression" and "followup_days" in row["info"]:
            v, censored[row["sample_id"]] = row["info"]["followup_days"], True
        y[row["sample_id"]] = np.nan if v is None else v
    return y, censored
