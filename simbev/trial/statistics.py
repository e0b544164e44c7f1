"""Trial statistics of a set of patient outcomes, each with its 95 % interval, and the clinical
target density used to select virtual patients.

Statistics (:func:`summarize`)
    objective_response_rate   CR + PR among all patients; exact (Clopper–Pearson) interval.
    progression_free_6mo      Kaplan–Meier PFS at 26 weeks (182 days); Greenwood, log-log.
    overall_survival_6mo      the same for overall survival.
    median_pfs_weeks          Kaplan–Meier median; Brookmeyer–Crowley interval.
    median_os_weeks           the same for overall survival.
    responders_progressing    share of objective responders who progress within follow-up;
                              Clopper–Pearson.

Target density (:func:`target_log_density`)
    Kreisl 2009 reports the median and the 6-month value of PFS and OS, not their distributions.
    The target is log-normal in each: the median fixes the location, the 6-month value the
    spread (PFS: median 16 weeks, 29 % at 26 weeks gives sigma 0.88; OS: 31 weeks and 57 % give
    sigma 1.0), joined by a correlation ``rho`` of log PFS and log OS (assumed 0.7: no
    patient-level correlation in recurrent glioblastoma was found). Objective response enters as
    a tilt: responders' density is multiplied by the factor that makes the expected response rate
    of the selection equal to the target (see :func:`response_tilt`).
"""
from __future__ import annotations

import math
from typing import Iterable, Mapping, Sequence

import numpy as np
from scipy.stats import norm

from ..analysis import survival as sv

__all__ = ["summarize", "lognormal_from_median_and_landmark", "target_log_density", "response_tilt",
           "fit_score", "STATISTICS", "observables"]

STATISTICS = ("objective_response_rate", "progression_free_6mo", "overall_survival_6mo", "median_pfs_weeks",
              "median_os_weeks", "responders_progressing")
SIX_MONTHS_DAYS = 182.0


def _weeks(x):
    return None if x is None else x / 7.0


def summarize(outcomes: Iterable[Mapping], conf_level: float = 0.95) -> dict:
    """``{statistic: {"value", "low", "high"}}`` plus ``n_patients`` for a list of outcomes
    (dicts from :func:`simbev.trial.outcomes.patient_outcome`)."""
    rows = list(outcomes)
    n = len(rows)
    if n == 0:
        raise ValueError("no patients")
    responders = [r for r in rows if r["best_response"] in ("CR", "PR")]
    out: dict = {"n_patients": n}
    p, lo, hi = sv.proportion_ci(len(responders), n, conf_level)
    out["objective_response_rate"] = {"value": p, "low": lo, "high": hi}
    for kind in ("pfs", "os"):
        km = sv.kaplan_meier([r[f"{kind}_days"] for r in rows], [r[f"{kind}_event"] for r in rows], conf_level)
        s, slo, shi = sv.survival_at(km, SIX_MONTHS_DAYS)
        key6 = "progression_free_6mo" if kind == "pfs" else "overall_survival_6mo"
        out[key6] = {"value": s, "low": slo, "high": shi}
        m, mlo, mhi = sv.median(km)
        out[f"median_{kind}_weeks"] = {"value": _weeks(m), "low": _weeks(mlo), "high": _weeks(mhi)}
    if responders:
        k = sum(1 for r in responders if r["progression_day"] is not None)
        p, lo, hi = sv.proportion_ci(k, len(responders), conf_level)
        out["responders_progressing"] = {"value": p, "low": lo, "high": hi, "n_responders": len(responders)}
    else:
        out["responders_progressing"] = {"value": None, "low": None, "high": None, "n_responders": 0}
    return out


def lognormal_from_median_and_landmark(median_days: float, landmark_days: float, surviving: float):
    """``(mu, sigma)`` of a log-normal time with the given median and ``P(T > landmark)``."""
    if not (0 < surviving < 1) or median_days <= 0 or landmark_days <= 0:
        raise ValueError("need 0 < surviving < 1 and positive times")
    mu = math.log(median_days)
    z = norm.ppf(1.0 - surviving)  # P(T > L) = s  <=>  (ln L - mu)/sigma = z_{1-s}
    if abs(z) < 1e-12 or (math.log(landmark_days) - mu) / z <= 0:
        raise ValueError("median and landmark survival are inconsistent (landmark on the wrong side of the median)")
    return mu, (math.log(landmark_days) - mu) / z


def observables(outcomes: Iterable[Mapping], which: Sequence[str] = ("pfs", "os")) -> np.ndarray:
    """``(patients, len(which))`` array of log PFS and/or log OS days (censored values at their
    follow-up)."""
    rows = list(outcomes)
    return np.array([[math.log(max(r[f"{k}_days"], 1.0)) for k in which] for r in rows])


def target_log_density(targets: Mapping, rho: float = 0.7, which: Sequence[str] = ("pfs", "os")):
    """Log-density of the log-normal target of log PFS and/or log OS (``which``), fitted to the
    targets' medians and 6-month values; correlation ``rho`` between the two."""
    marg = {}
    if "pfs" in which:
        marg["pfs"] = lognormal_from_median_and_landmark(7 * targets["median_pfs_weeks"]["value"], SIX_MONTHS_DAYS,
                                                         targets["progression_free_6mo"]["value"])
    if "os" in which:
        marg["os"] = lognormal_from_median_and_landmark(7 * targets["median_os_weeks"]["value"], SIX_MONTHS_DAYS,
                                                        targets["overall_survival_6mo"]["value"])
    mean = np.array([marg[k][0] for k in which])
    sd = np.array([marg[k][1] for k in which])
    corr = np.eye(len(which))
    if len(which) == 2:
        corr[0, 1] = corr[1, 0] = rho
    inv = np.linalg.inv(corr * np.outer(sd, sd))

    def logpdf(x):
        d = np.asarray(x, dtype=float)[:, :len(which)] - mean
        return -0.5 * np.einsum("ij,jk,ik->i", d, inv, d)

    logpdf.parameters = {**{f"log_{k}_mean": marg[k][0] for k in which},
                         **{f"log_{k}_sd": marg[k][1] for k in which}, "rho": rho, "observables": list(which)}
    return logpdf


def response_tilt(ratio: np.ndarray, responder: np.ndarray, target_rate: float) -> float:
    """Factor ``c`` on responders' density ratios so that rejection sampling with ratios
    ``ratio * c**responder`` selects responders at ``target_rate`` in expectation:
    ``c A / (c A + B) = target_rate`` with ``A``, ``B`` the ratio sums of responders and others."""
    a = float(np.sum(ratio[responder]))
    b = float(np.sum(ratio[~responder]))
    if a <= 0 or b <= 0:
        raise ValueError("the plausible population needs responders and non-responders to select from")
    return target_rate * b / ((1.0 - target_rate) * a)


def fit_score(stats: Mapping, targets: Mapping, names: Iterable[str]) -> float:
    """``-sum(((value - target) / half-width of the target's interval)^2)``: 0 is a perfect fit.
    A statistic that is not reached (``None``) counts as 9 (3 half-widths off)."""
    total = 0.0
    for name in names:
        t = targets[name]
        half = max((t["high"] - t["low"]) / 2.0, 1e-9)
        v = stats[name]["value"]
        total += 9.0 if v is None else ((v - t["value"]) / half) ** 2
    return -total
