"""Selection of virtual patients from plausible patients: acceptance–rejection after Allen,
Rieger & Musante (CPT Pharmacometrics Syst Pharmacol 2016;5:140).

Why this method (and not prevalence weighting, Schmidt 2013 / Cheng 2017): a trial needs
discrete patients with equal weight, so that ``patients.csv`` lists people, the Kaplan–Meier
curves and their Greenwood intervals count real numbers at risk, and no single plausible patient
can carry a large weight (Allen et al.'s argument: weighting lets a few spurious virtual patients
dominate).

The method: each plausible patient ``i`` has observables :math:`x_i` (here the simulated
clinical outcomes). With :math:`g` the density of the observables over the plausible population
(estimated by a Gaussian kernel density, Scott's bandwidth, on up to
:data:`KDE_POINTS` patients) and :math:`f` the target (clinical)
density, patient ``i`` is included with probability

.. math:: p_i = \\min\\left(1, \\beta \\frac{f(x_i)/g(x_i)}{\\max_j f(x_j)/g(x_j)}\\right)

With :math:`\\beta = 1` this is plain rejection sampling: the selected observables are a sample
of :math:`f` (within the support the plausible patients cover). Allen et al. let
:math:`\\beta > 1` trade fidelity for more virtual patients and choose it by goodness of fit;
:func:`choose_scale` does this with a caller's fit criterion.
"""
from __future__ import annotations

from typing import Callable, Sequence

import numpy as np
from scipy.stats import gaussian_kde

__all__ = ["log_density_ratio", "density_ratio", "inclusion_probability", "select", "choose_scale", "KDE_POINTS"]

#: Plausible patients used to estimate their density g (the rest are only evaluated).
KDE_POINTS = 2000


def _as_matrix(observables) -> np.ndarray:
    x = np.asarray(observables, dtype=float)
    if x.ndim == 1:
        x = x[:, None]
    if x.ndim != 2 or x.shape[0] < 2:
        raise ValueError("observables must be (patients, dimensions) with at least 2 patients")
    if not np.all(np.isfinite(x)):
        raise ValueError("observables must be finite")
    return x


def log_density_ratio(observables, target_logpdf: Callable[[np.ndarray], np.ndarray],
                      bandwidth: float | str | None = None) -> np.ndarray:
    """``log f(x_i) - log g(x_i)`` for each plausible patient (``-inf`` where ``f`` is 0).

    Parameters
    ----------
    observables : array (patients, dimensions).
    target_logpdf : ``x (patients, dimensions) -> log f`` (unnormalised is fine).
    bandwidth : passed to :class:`scipy.stats.gaussian_kde` (default Scott's rule).
    """
    x = _as_matrix(observables)
    # The density is estimated on at most KDE_POINTS patients (evenly spaced in index, so it
    # is deterministic): evaluation costs points x patients.
    fit_on = x if x.shape[0] <= KDE_POINTS else x[np.linspace(0, x.shape[0] - 1, KDE_POINTS).astype(int)]
    log_f = np.asarray(target_logpdf(x), dtype=float)
    if log_f.shape != (x.shape[0],):
        raise ValueError("target_logpdf must return one value per patient")
    # A dimension on which every plausible patient agrees (e.g. overall survival censored at the
    # end of follow-up for all) is a point mass of g: it scales every ratio alike, so g is
    # estimated on the other dimensions.
    varying = np.ptp(fit_on, axis=0) > 0
    if not varying.any():
        return log_f
    try:
        kde = gaussian_kde(fit_on[:, varying].T, bw_method=bandwidth)
    except np.linalg.LinAlgError:
        # collinear observables: a jitter far below the bandwidth makes the covariance regular
        scale = np.std(fit_on[:, varying], axis=0) * 1e-6 + 1e-12
        jitter = np.random.default_rng(0).standard_normal(fit_on[:, varying].shape) * scale
        kde = gaussian_kde((fit_on[:, varying] + jitter).T, bw_method=bandwidth)
    return log_f - kde.logpdf(x[:, varying].T)


def density_ratio(observables, target_logpdf: Callable[[np.ndarray], np.ndarray],
                  bandwidth: float | str | None = None) -> np.ndarray:
    """``f(x_i) / g(x_i)`` for each plausible patient, scaled so that the largest is 1."""
    log_r = log_density_ratio(observables, target_logpdf, bandwidth)
    finite = np.isfinite(log_r)
    out = np.zeros(log_r.size)
    if finite.any():
        out[finite] = np.exp(log_r[finite] - log_r[finite].max())
    return out


def inclusion_probability(observables, target_logpdf, scale: float = 1.0,
                          bandwidth: float | str | None = None) -> np.ndarray:
    """Allen et al.'s probability of inclusion ``min(1, scale * r_i / max r)``."""
    if not scale > 0:
        raise ValueError("scale must be > 0")
    r = density_ratio(observables, target_logpdf, bandwidth)
    return np.minimum(1.0, scale * r)


def select(probabilities: Sequence[float], rng: np.random.Generator) -> np.ndarray:
    """Indices of the included patients: patient ``i`` is kept if ``U_i < p_i`` (one uniform
    draw per patient from ``rng``, so a seed fixes the selection)."""
    p = np.asarray(probabilities, dtype=float)
    u = rng.random(p.size)
    return np.nonzero(u < p)[0]


def choose_scale(observables, target_logpdf, fit: Callable[[np.ndarray], float],
                 rng_factory: Callable[[], np.random.Generator], scales: Sequence[float] = (1, 2, 4, 8, 16, 32),
                 min_selected: int = 0, bandwidth: float | str | None = None) -> tuple[float, np.ndarray, list]:
    """Choose Allen et al.'s scaling factor by goodness of fit.

    For each scale, select with a fresh generator from ``rng_factory`` (the same seed each time)
    and score the selection with ``fit(indices)`` (higher is better). Among scales that select at
    least ``min_selected`` patients the best-scoring one wins; ties go to the larger selection.

    Returns ``(scale, indices, table)`` with ``table`` = ``[(scale, n_selected, score), ...]``.
    """
    r = density_ratio(observables, target_logpdf, bandwidth)
    table, best = [], None
    for s in scales:
        idx = select(np.minimum(1.0, s * r), rng_factory())
        score = float(fit(idx)) if idx.size else -np.inf
        table.append((float(s), int(idx.size), score))
        if idx.size >= min_selected and (best is None or (score, idx.size) > (best[2], best[1].size)):
            best = (float(s), idx, score)
    if best is None:
        raise ValueError(f"no scale selects at least {min_selected} patients "
                         f"(largest selection: {max(t[1] for t in table)}); screen more plausible patients")
    return best[0], best[1], table
