"""Response metrics: plain functions of a :class:`~simbev.result.Result`.

Every metric takes a Result (and, for some, a keyword option) and returns a float, or ``None``
where the event it measures never happens. They read only the sampled output grid
(``result.time``), so a metric is exact for the series written to ``timeseries.csv``; a finer
``output_every_days`` resolves event times more finely.

Times: the name says which clock
    A name ending in ``_day`` is a *day of the run* (days since the simulation's start, the
    clock of ``time_days`` in ``timeseries.csv``): ``nadir_day``, ``progression_day``,
    ``treatment_start_day``. A name beginning ``time_to_`` counts *days since treatment
    start*, the time of the first applied dose of any drug: ``time_to_progression``.
    ``progression_day = treatment_start_day + time_to_progression``.
    Metrics that need a treatment (``time_to_progression``, ``progression_day``) are ``None``
    for an untreated run; the nadir of an untreated run is the minimum over the whole run.
    ``day_of_min`` is the deprecated name of ``nadir_day`` (kept for one release).

The registry :data:`METRICS` maps each name to ``(function, unit, description)``; sweeps and the
CLI look metrics up there with :func:`compute`. :func:`response_metrics` is the standard set
written to ``summary.json``.
"""
from __future__ import annotations

import difflib
import math
import re
from typing import Callable, Iterable, NamedTuple

import numpy as np

#: Default progression margin: a 40 % volume increase over the nadir, the volumetric analogue
#: of the RANO criterion (+25 % in the product of diameters ~ +40 % in volume).
PROGRESSION_MARGIN = 0.40


# --- helpers ----------------------------------------------------------------------------------

def treatment_start(result) -> float | None:
    """Day of the first applied dose of any drug, or ``None`` for an untreated run."""
    if not result.doses:
        return None
    return float(min(d.time for d in result.doses))


def reference_start(result) -> float:
    """Day from which responses are measured: the first dose, or the first output time of an
    untreated run."""
    start = treatment_start(result)
    return float(result.time[0]) if start is None else start


def _on_treatment(result) -> tuple[np.ndarray, np.ndarray]:
    """Output times and tumour volumes at or after the reference start."""
    t = np.asarray(result.time, dtype=float)
    v = np.asarray(result["tumor_volume"], dtype=float)
    mask = t >= reference_start(result)
    if not mask.any():  # cannot happen for applied doses (they lie within the run); be safe
        mask[-1] = True
    return t[mask], v[mask]


# --- metrics ----------------------------------------------------------------------------------

def final_tumor_volume(result) -> float:
    """Tumour volume (``tumor_normoxic + tumor_hypoxic``, mm^3) at the last output time."""
    return float(result["tumor_volume"][-1])


def min_tumor_volume(result) -> float:
    """On-treatment minimum (nadir) of the tumour volume, mm^3.

    The minimum over the output times at or after the first dose (so the untreated growth
    before therapy does not count). For an untreated run, the minimum over the whole run.
    """
    _, v = _on_treatment(result)
    return float(np.min(v))


def nadir_day(result) -> float:
    """Day of the run (days since the start of the simulation, not since treatment start) at
    which :func:`min_tumor_volume` is reached; the earliest such output time if the minimum is
    attained more than once."""
    t, v = _on_treatment(result)
    return float(t[int(np.argmin(v))])


#: Deprecated name of :func:`nadir_day` (the name did not say which clock it reads).
day_of_min = nadir_day


def progression_day(result, margin: float = PROGRESSION_MARGIN) -> float | None:
    """Day of the run at which the tumor progresses (:func:`time_to_progression` plus the day
    of the first dose); ``None`` if it never progresses or the run is untreated."""
    ttp = time_to_progression(result, margin)
    return None if ttp is None else float(treatment_start(result) + ttp)


def time_to_progression(result, margin: float = PROGRESSION_MARGIN) -> float | None:
    """Days from treatment start (the first dose) to the first progression; ``None`` if it never
    progresses, and ``None`` for an untreated run (no treatment to progress on).

    Progression is the first output time ``t`` *after* treatment start ``t0`` at which the
    tumour volume exceeds its running nadir by more than ``margin``::

        V(t) > (1 + margin) * min{ V(s) : s output time, t0 <= s < t }

    The running nadir is the minimum reached so far, so progression is measured from the
    nadir attained before ``t``, not from the final one. ``t0`` is the first dose; the volume
    at ``t0`` is the initial nadir (interpolated if ``t0`` is not an output time).
    With the default ``margin = 0.40`` this is the volumetric analogue of RANO progression
    (+25 % in the bidimensional product, about +40 % in volume).

    Parameters
    ----------
    margin : float
        Relative increase over the running nadir that counts as progression (>= 0).
    """
    if not (isinstance(margin, (int, float)) and math.isfinite(margin) and margin >= 0):
        raise ValueError(f"progression margin must be a finite number >= 0, got {margin!r}")
    if treatment_start(result) is None:
        return None
    t = np.asarray(result.time, dtype=float)
    v = np.asarray(result["tumor_volume"], dtype=float)
    t0 = reference_start(result)
    nadir = float(np.interp(t0, t, v))
    for ti, vi in zip(t, v):
        if ti <= t0:
            continue
        if vi > (1.0 + margin) * nadir:
            return float(ti - t0)
        nadir = min(nadir, float(vi))
    return None


def m2_m1_ratio_end(result) -> float:
    """M2:M1 macrophage ratio (``macrophage_m2 / macrophage_m1``, dimensionless) at the last
    output time; ``inf`` if there are no M1 macrophages."""
    return float(result["m2_m1_ratio"][-1])


def mif_end(result) -> float:
    """Free tumour MIF (``mif``, nM) at the last output time."""
    return float(result["mif"][-1])


def hypoxic_fraction_end(result) -> float:
    """Hypoxic fraction (``tumor_hypoxic / tumor_volume``, dimensionless) at the last output
    time."""
    return float(result["hypoxic_fraction"][-1])


def macrophage_total_end(result) -> float:
    """Tumour-associated macrophages (M1 + M2, 1e6 cells) at the last output time."""
    return float(result["macrophage_total"][-1])


def tumor_volume_auc(result) -> float:
    """Area under the tumour-volume curve over the whole run (trapezoidal rule on the output
    times), mm^3 * day. A burden measure that does not depend on a threshold."""
    t = np.asarray(result.time, dtype=float)
    v = np.asarray(result["tumor_volume"], dtype=float)
    return float(np.sum(np.diff(t) * (v[1:] + v[:-1]) / 2.0))


def value_at(result, name: str, day: float) -> float:
    """Output ``name`` (any state or derived output) at ``day``, linearly interpolated
    between output times.

    Exact at an output time (where, as everywhere in simbev, the value after a dose given at
    that instant is reported). Raises ``ValueError`` for a day outside the run and
    ``KeyError`` for an unknown output.
    """
    t = np.asarray(result.time, dtype=float)
    day = float(day)
    if not (t[0] - 1e-9 <= day <= t[-1] + 1e-9):
        raise ValueError(f"day {day:g} is outside the run [{t[0]:g}, {t[-1]:g}]")
    return float(np.interp(day, t, np.asarray(result[name], dtype=float)))


# --- registry ---------------------------------------------------------------------------------

class Metric(NamedTuple):
    """A registered metric: ``function(result) -> float | None``, its unit, a description."""

    function: Callable
    unit: str
    description: str


METRICS: dict[str, Metric] = {
    "final_tumor_volume": Metric(final_tumor_volume, "mm^3", "tumour volume at the end of the run"),
    "min_tumor_volume": Metric(min_tumor_volume, "mm^3",
                               "on-treatment minimum (nadir) of the tumour volume, at or after the first dose"),
    "nadir_day": Metric(nadir_day, "day", "day of the run (not since treatment start) at which the "
                                          "on-treatment minimum is reached"),
    "time_to_progression": Metric(time_to_progression, "day",
                                  "days since treatment start (the first dose) to the first output time at "
                                  f"which the volume exceeds its running nadir by more than {PROGRESSION_MARGIN:.0%}; "
                                  "null if never, and for an untreated run"),
    "progression_day": Metric(progression_day, "day", "day of the run at which the tumor progresses "
                                                      "(treatment_start_day + time_to_progression); null if never "
                                                      "or untreated"),
    "m2_m1_ratio_end": Metric(m2_m1_ratio_end, "1", "M2:M1 macrophage ratio at the end of the run"),
    "mif_end": Metric(mif_end, "nM", "free tumour MIF at the end of the run"),
    "hypoxic_fraction_end": Metric(hypoxic_fraction_end, "1", "hypoxic fraction of the tumour at the end of the run"),
    "macrophage_total_end": Metric(macrophage_total_end, "1e6 cells", "M1 + M2 macrophages at the end of the run"),
    "tumor_volume_auc": Metric(tumor_volume_auc, "mm^3*day", "area under the tumour-volume curve over the run"),
    "day_of_min": Metric(day_of_min, "day", "deprecated name of nadir_day (day of the run of the on-treatment minimum)"),
}

#: Deprecated metric names -> their new names (kept for one release in summary.json and sweep files).
DEPRECATED: dict[str, str] = {"day_of_min": "nadir_day"}

#: The standard set written to ``summary.json`` and ``metrics.csv``.
RESPONSE_METRICS: tuple[str, ...] = (
    "final_tumor_volume", "min_tumor_volume", "nadir_day", "time_to_progression", "progression_day",
    "m2_m1_ratio_end", "mif_end", "hypoxic_fraction_end",
)

#: ``<output>@<day>``: an identifier, ``@``, and a decimal number (optional sign, digits with at
#: most one decimal point, optional exponent), e.g. ``tumor_volume@28`` or ``mif@2.5``.
_AT = re.compile(r"^(?P<name>[A-Za-z_][A-Za-z0-9_]*)@(?P<day>[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?)$")


def parse_at(name: str) -> tuple[str, float] | None:
    """``(output, day)`` of a metric name ``<output>@<day>``, or ``None`` if it is not one.

    The one reading of this grammar: :func:`compute`, the ensemble and the sweep file use it.
    The output name is not checked here (the result or the file's reader knows the outputs).
    """
    m = _AT.match(name) if isinstance(name, str) else None
    return None if m is None else (m["name"], float(m["day"]))


def unit_of(name: str, result=None) -> str:
    """Unit of metric ``name``; for ``<output>@<day>`` the output's unit (needs ``result``)."""
    if name in METRICS:
        return METRICS[name].unit
    at = parse_at(name)
    if at and result is not None:
        return result.units.get(at[0], "")
    raise KeyError(_unknown(name))


def _unknown(name: str) -> str:
    known = [m for m in METRICS if m not in DEPRECATED]
    close = difflib.get_close_matches(name, known, n=1)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    return (f"unknown metric {name!r}{hint} Known: {', '.join(known)}, "
            f"or '<output>@<day>' (e.g. 'tumor_volume@28')")


def compute(result, names: Iterable[str]) -> dict[str, float | None]:
    """``{name: value}`` for each metric name, in the order given.

    A name is a key of :data:`METRICS`, or ``<output>@<day>`` (e.g. ``tumor_volume@28``) for
    :func:`value_at` of any state or derived output. Unknown names raise ``KeyError`` with the
    nearest known name.
    """
    out: dict[str, float | None] = {}
    for name in names:
        if name in METRICS:
            out[name] = METRICS[name].function(result)
            continue
        at = parse_at(name)
        if at is None or at[0] not in result.names:
            raise KeyError(_unknown(name))
        out[name] = value_at(result, *at)
    return out


def response_metrics(result) -> dict[str, float | None]:
    """The standard response metrics (:data:`RESPONSE_METRICS`) plus ``treatment_start_day``
    (``None`` if untreated), as ``{name: value}``. Time to progression uses
    :data:`PROGRESSION_MARGIN`."""
    out = compute(result, RESPONSE_METRICS)
    out["treatment_start_day"] = treatment_start(result)
    return out
