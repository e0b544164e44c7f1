"""Dosing: regimens become dose events. Knows nothing of the model's equations.

Semantics (docs/dosing.md):

- A dose is an event at time ``t`` (days). A bolus (``iv_bolus``) or an oral dose (``oral``,
  into the gut depot) is a jump applied at ``t``; an infusion (``iv_infusion``) adds a constant
  rate on the half-open window ``[t, t + duration)``.
- States are right-continuous: the value reported at a dose time is the value *after* the dose.
- Times are snapped to a grid of 1e-9 day (``snap``), so that ``0.1 + 0.2`` and ``0.3`` are
  the same instant for doses and outputs alike.
- A dose of zero amount is no event: it is dropped and leaves the run identical to no dose.
- Doses after the end of the run are dropped and listed as such; a dose exactly at the end is
  applied and the final output shows it.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

from .routes import INFUSION, ROUTE_TABLE

DRUGS = ("bevacizumab", "mtor_inhibitor")
#: routes by drug, from the route table
ROUTES = {drug: tuple(r.name for r in ROUTE_TABLE.values() if r.drug == drug) for drug in DRUGS}
TIME_DECIMALS = 9


def snap(t: float) -> float:
    """Round a time in days to the 1e-9 day grid on which events and outputs are compared."""
    return round(float(t), TIME_DECIMALS) + 0.0


def mg_to_nmol(mg: float, molecular_weight: float) -> float:
    """Convert a mass in mg to an amount in nmol, for a molecular weight in g/mol (1e6/MW nmol per mg)."""
    return mg * 1e6 / molecular_weight


@dataclass(frozen=True)
class DoseEvent:
    """One administration, in model units.

    Attributes
    ----------
    time : day of administration (snapped).
    drug : ``bevacizumab`` or ``mtor_inhibitor``.
    route : ``iv_bolus``, ``iv_infusion`` or ``oral``.
    amount_nmol : administered amount in nmol (before oral bioavailability).
    duration_days : infusion duration; 0 for a bolus or oral dose.
    amount_mg : administered mass in mg, for the dose log.
    regimen : index of the regimen that produced it (-1 when given directly).
    """

    time: float
    drug: str
    route: str
    amount_nmol: float
    duration_days: float = 0.0
    amount_mg: float = float("nan")
    regimen: int = -1

    def __post_init__(self):
        if self.drug not in DRUGS:
            raise ValueError(f"unknown drug {self.drug!r}; expected one of {', '.join(DRUGS)}")
        if self.route not in ROUTES[self.drug]:
            raise ValueError(f"route {self.route!r} is not available for {self.drug}; "
                             f"expected one of {', '.join(ROUTES[self.drug])}")
        for name in ("time", "amount_nmol", "duration_days"):
            value = getattr(self, name)
            if not math.isfinite(value) or value < 0:
                raise ValueError(f"dose {name} must be finite and >= 0, got {value!r}")
        if (ROUTE_TABLE[self.route].kind == INFUSION) != (self.duration_days > 0):
            raise ValueError("an iv_infusion needs a duration > 0 and only an infusion may have one")
        object.__setattr__(self, "time", snap(self.time))
        if self.duration_days > 0:
            # The window's both ends lie on the 1e-9 day grid and the rate is computed from the
            # same snapped window, so the amount delivered equals the amount logged.
            window = snap(self.time + self.duration_days) - self.time
            if window <= 0:
                raise ValueError(f"an infusion of {self.duration_days!r} day is shorter than the 1e-9 day "
                                 "time grid; give a longer infusion")
            object.__setattr__(self, "duration_days", window)

    @property
    def end(self) -> float:
        """End of the infusion window (equals ``time`` for a bolus or oral dose)."""
        return snap(self.time + self.duration_days)

    def as_dict(self) -> dict:
        return {"time_days": self.time, "drug": self.drug, "route": self.route,
                "amount_mg": self.amount_mg, "amount_nmol": self.amount_nmol,
                "duration_days": self.duration_days, "regimen": self.regimen}


@dataclass(frozen=True)
class Regimen:
    """A dosing regimen as a scenario file states it (a ``treatments`` entry; README, docs/dosing.md).

    ``dose`` is ``(value, unit)`` with unit ``mg/kg`` or ``mg``. Repeats: ``every_days`` with
    ``doses`` (the total count, not extra doses) or ``stop_day`` (last dose at or before it).
    """

    drug: str
    dose: tuple[float, str]
    route: str
    start_day: float = 0.0
    every_days: float | None = None
    doses: int | None = None
    stop_day: float | None = None
    infusion_hours: float | None = None
    index: int = field(default=-1, compare=False)

    def times(self, end_day: float) -> tuple[list[float], list[float]]:
        """Administration times (snapped): (kept up to ``end_day``, dropped after it)."""
        start = snap(self.start_day)
        if self.every_days is None:
            times = [start]
        else:
            times = []
            count = self.doses if self.doses is not None else None
            last = snap(self.stop_day) if self.stop_day is not None else snap(end_day)
            i = 0
            while True:
                t = snap(start + i * self.every_days)  # multiply, never accumulate, to avoid drift
                if count is not None and i >= count:
                    break
                if count is None and t > last:
                    break
                times.append(t)
                i += 1
                if count is None and i > 10_000_000:
                    raise ValueError("regimen expands to more than 1e7 doses")
        end = snap(end_day)
        return [t for t in times if t <= end], [t for t in times if t > end]

    def amount_mg(self, body_weight: float) -> float:
        value, unit = self.dose
        if unit == "mg/kg":
            return value * body_weight
        if unit == "mg":
            return value
        raise ValueError(f"dose unit {unit!r} not understood; expected mg/kg or mg")


def expand(regimens, params, end_day: float) -> tuple[list[DoseEvent], list[DoseEvent]]:
    """Dose events of ``regimens`` for parameter values ``params`` (a mapping by name).

    Returns ``(applied, dropped)``: events within ``[.., end_day]`` sorted by time, and events
    scheduled after the end. Zero-amount doses produce no event.
    """
    applied, dropped = [], []
    for k, reg in enumerate(regimens):
        mg = reg.amount_mg(params["body_weight"])
        if mg == 0:
            continue
        mw = params["bev_molecular_weight"] if reg.drug == "bevacizumab" else params["mtori_molecular_weight"]
        duration = (reg.infusion_hours or 0.0) / 24.0 if ROUTE_TABLE[reg.route].kind == INFUSION else 0.0
        kept, late = reg.times(end_day)
        for bucket, times in ((applied, kept), (dropped, late)):
            bucket.extend(DoseEvent(t, reg.drug, reg.route, mg_to_nmol(mg, mw), duration, mg,
                                    reg.index if reg.index >= 0 else k) for t in times)
    applied.sort(key=lambda d: (d.time, d.regimen))
    dropped.sort(key=lambda d: (d.time, d.regimen))
    return applied, dropped
