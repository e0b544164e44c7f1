"""The route table: for each route, its drug, whether a dose is a jump or a rate, and where the
amount goes. Every solver, the SBML export and the drug mass balance read this one table, so a
new route is one entry here (plus its state and parameter in the model).
"""
from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Route", "ROUTE_TABLE", "JUMP", "INFUSION", "jump_size"]

JUMP = "jump"            #: the amount enters a state at the dose instant
INFUSION = "infusion"    #: the amount enters at a constant rate over [t, t + duration)


@dataclass(frozen=True)
class Route:
    """How a dose by one route enters the model.

    Attributes
    ----------
    name : route name as in scenario files (``iv_bolus``, ...).
    drug : the drug given by this route.
    kind : :data:`JUMP` or :data:`INFUSION`.
    state : the state the dose goes into (for an infusion: through the model's infusion input).
    parameter : the parameter that converts the amount (nmol) into the state's change; for a jump.
    divide : whether the amount is divided by ``parameter`` (a volume: nmol -> nM) rather than
        multiplied by it (a fraction: bioavailability).
    """

    name: str
    drug: str
    kind: str
    state: str
    parameter: str | None = None
    divide: bool = False


#: Routes in the order scenario files list them per drug.
ROUTE_TABLE: dict[str, Route] = {
    "iv_bolus": Route("iv_bolus", "bevacizumab", JUMP, "bev_central", "bev_central_volume", divide=True),
    "iv_infusion": Route("iv_infusion", "bevacizumab", INFUSION, "bev_central"),
    "oral": Route("oral", "mtor_inhibitor", JUMP, "mtori_depot", "mtori_bioavailability"),
}


def jump_size(route: Route, amount_nmol, p):
    """The change of ``route.state`` by a dose of ``amount_nmol``; ``p`` has the model
    parameters as attributes (scalars, or arrays for a batch)."""
    value = getattr(p, route.parameter)
    return amount_nmol / value if route.divide else amount_nmol * value
