"""e00: the initial conditions of the parameter sets (an untreated tumour at its quasi-steady
composition), recomputed from the parameters.

An untreated tumour is run from the current initial conditions for ``--days``; its extensive
states (tumour cells, vessel capacity, macrophages) are then scaled back to the reference volume
(170 mm^3 mouse, 20 cm^3 human) and its intensive ones (concentrations, expression levels) kept.
Repeating this a few times gives a tumour of the reference volume whose composition has
relaxed onto the growing tumour's slow manifold, so that a run does not start with transients.

    python experiments/e00_initial_conditions.py human       # prints the YAML block
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import simbev  # noqa: E402
from simbev import Scenario  # noqa: E402
from simbev.model.states import STATE_NAMES  # noqa: E402

REFERENCE_VOLUME = {"mouse": 170.0, "human": 20000.0}
RELAX_DAYS = {"mouse": 3.0, "human": 30.0}
EXTENSIVE = ("tumor_normoxic", "tumor_hypoxic", "vessel_capacity", "vessel_mature", "macrophage_m1", "macrophage_m2")


def quasi_steady_initial_conditions(species: str, days: float | None = None, rounds: int = 6) -> dict[str, float]:
    pset = simbev.load_parameter_set(species)
    v0 = REFERENCE_VOLUME[species]
    days = days or RELAX_DAYS[species]
    ic = dict(pset.initial_conditions)
    for _ in range(rounds):
        r = simbev.simulate(Scenario("relax", days, species=species, initial_conditions=ic, output_every_days=days))
        y = {s: float(r[s][-1]) for s in STATE_NAMES}
        scale = v0 / (y["tumor_normoxic"] + y["tumor_hypoxic"])
        for s in EXTENSIVE:
            y[s] *= scale
        ic = {s: y[s] for s in pset.initial_conditions}
    return ic


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("species", choices=sorted(REFERENCE_VOLUME))
    ap.add_argument("--days", type=float, default=None)
    args = ap.parse_args(argv)
    ic = quasi_steady_initial_conditions(args.species, args.days)
    print("initial_conditions:")
    for name, value in ic.items():
        print(f"  {name}: {float(f'{value:.4g}')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
