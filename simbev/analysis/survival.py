"""Survival curves: the Kaplan-Meier estimate from event times and censoring flags.
"""
from __future__ import annotations


import numpy as np

__all__ = ["kaplan_meier", "metric_matrix"]


# --- analysis helpers --------------------------------------------------------------------------

def kaplan_meier(times, events) -> tuple[np.ndarray, np.ndarray]:
    """Kaplan–Meier estimate of the progression-free fraction.

    Parameters
    ----------
    times : array
        Time of progression, or of censoring (end of follow-up) where ``events`` is False.
    events : array of bool
        True where progression was observed.

    Returns
    -------
    t, s : arrays
        Step function: ``s[k]`` is the fraction free of progression on ``[t[k], t[k+1])``;
        ``t[0] = 0``, ``s[0] = 1``.
    """
    times = np.asarray(times, dtype=float)
    events = np.asarray(events, dtype=bool)
    t_out, s_out = [0.0], [1.0]
    s = 1.0
    for t in np.unique(times[events]):
        at_risk = np.count_nonzero(times >= t)
        d = np.count_nonzero((times == t) & events)
        s *= 1.0 - d / at_risk
        t_out.append(float(t))
        s_out.append(s)
    return np.array(t_out), np.array(s_out)


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
