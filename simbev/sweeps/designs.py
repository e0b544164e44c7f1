"""Sweep designs: which values a sweep runs, and the sensitivity analyses that go with them.

Plain functions over plain data, in SALib's manner: a design turns a list of :class:`Factor`
into a list of samples (``{factor name: value}``), and :func:`analyze` turns the outputs of
those samples back into sensitivity indices. Nothing here knows the model, so the same code
path can be checked against a function with known indices (Ishigami).

Designs
-------
``grid``
    The Cartesian product of each factor's ``values``, the first factor varying slowest.
``latin_hypercube``
    ``samples`` points of a scrambled Latin hypercube (``scipy.stats.qmc.LatinHypercube``).
``sobol``
    Saltelli's scheme on a scrambled Sobol' sequence (``SALib.sample.sobol``): ``samples`` is
    the base number N (a power of 2); the design has ``N * (D + 2)`` points, or
    ``N * (2 D + 2)`` with second-order indices. Analysed with ``SALib.analyze.sobol``.
``morris``
    ``samples`` elementary-effect trajectories on a grid of ``levels`` levels
    (``SALib.sample.morris``): ``samples * (D + 1)`` points. Analysed with
    ``SALib.analyze.morris``.
``cohort``
    ``samples`` virtual patients. Each factor is log-normal around its typical value ``base``
    with coefficient of variation ``cv`` (the pharmacometric convention ``theta_i = theta *
    exp(eta_i)``, ``eta_i ~ N(0, omega^2)``, ``omega^2 = ln(1 + cv^2)``): the median is
    ``base`` and the CV of the distribution is exactly ``cv``.

The sampled designs (Latin hypercube, Sobol', Morris) draw points in the unit hypercube and map
each coordinate ``u`` onto ``[low, high]``, linearly or (``scale: log``) log-uniformly. Sobol'
indices and the normalised Morris measures are computed in the unit hypercube; Sobol' indices
are invariant under such a monotone map of each input, so they are those of the parameters
as sampled. Morris ``mu*`` and ``sigma`` are per unit fraction of each factor's range.

All designs are seeded: the same factors, size and seed give the same samples, bit for bit.
"""
from __future__ import annotations

import hashlib
import itertools
import json
import math
from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

import numpy as np

__all__ = ["Factor", "DESIGNS", "SAMPLED_DESIGNS", "MIN_SAMPLES", "too_small", "design_size", "sample_design", "unit_samples",
           "salib_problem", "analyze", "sample_hash", "lognormal_omega"]

DESIGNS = ("grid", "latin_hypercube", "sobol", "morris", "cohort")
SAMPLED_DESIGNS = ("latin_hypercube", "sobol", "morris")
SCALES = ("linear", "log")

#: Defaults of the design options (``options:`` in a sweep file).
DEFAULT_OPTIONS = {
    "sobol": {"second_order": False, "resamples": 1000, "conf_level": 0.95},
    "morris": {"levels": 4, "resamples": 1000, "conf_level": 0.95},
}


@dataclass(frozen=True)
class Factor:
    """One varied input.

    Attributes
    ----------
    name : what is varied: a parameter name (``mif_expression``), a treatment field
        (``treatments.0.dose``) or an initial condition (``initial_conditions.tumor_normoxic``).
    values : grid axis values (``grid`` design).
    low, high, scale : range of a sampled design; ``scale`` is ``linear`` or ``log``.
    cv : between-patient coefficient of variation (``cohort`` design).
    base : typical value around which a cohort varies (``cohort`` design).
    unit : unit of the values, for tables and figures.
    integer : values are whole numbers (``treatments.N.doses``).
    """

    name: str
    values: tuple | None = None
    low: float | None = None
    high: float | None = None
    scale: str = "linear"
    cv: float | None = None
    base: float | None = None
    unit: str = ""
    integer: bool = field(default=False)

    def from_unit(self, u: np.ndarray) -> np.ndarray:
        """Map unit-interval coordinates ``u`` onto ``[low, high]`` (linear or log-uniform)."""
        u = np.asarray(u, dtype=float)
        if self.scale == "log":
            lo, hi = math.log(self.low), math.log(self.high)
            return np.exp(lo + u * (hi - lo))
        return self.low + u * (self.high - self.low)

    def record(self) -> dict:
        """Plain data describing the factor (for hashing and metadata)."""
        out: dict[str, Any] = {"name": self.name}
        if self.values is not None:
            out["values"] = list(self.values)
        if self.low is not None:
            out.update(low=self.low, high=self.high, scale=self.scale)
        if self.cv is not None:
            out.update(cv=self.cv, base=self.base)
        if self.unit:
            out["unit"] = self.unit
        return out


def _options(design: str, options: Mapping | None) -> dict:
    return {**DEFAULT_OPTIONS.get(design, {}), **(options or {})}


#: Smallest ``samples`` whose sensitivity indices are reported: below it the bootstrap intervals
#: are meaningless (Sobol' with N=1 gives first-order indices of -1.77 and 2.81 with zero-width
#: intervals). Saltelli's estimators need tens of base samples; Morris's mean |elementary
#: effect| needs about ten trajectories (Campolongo et al. 2007 use 10-20).
MIN_SAMPLES = {"sobol": 32, "morris": 8}


def too_small(design: str, samples: int | None) -> str | None:
    """Why ``samples`` is too few for meaningful indices of ``design``, or None."""
    low = MIN_SAMPLES.get(design)
    if low is None or samples is None or samples >= low:
        return None
    what = "base samples N" if design == "sobol" else "trajectories"
    return (f"no sensitivity indices: {samples} {what} are too few for meaningful {design} indices "
            f"(at least {low}); the runs are in results.csv")


def lognormal_omega(cv: float) -> float:
    """Standard deviation of ``ln X`` for a log-normal ``X`` with coefficient of variation ``cv``."""
    return math.sqrt(math.log1p(cv * cv))


def design_size(design: str, factors: Sequence[Factor], samples: int | None = None,
                options: Mapping | None = None) -> int:
    """Number of points of a design (before multiplying by the number of arms)."""
    d = len(factors)
    opts = _options(design, options)
    if design == "grid":
        return math.prod(len(f.values) for f in factors)
    if design in ("latin_hypercube", "cohort"):
        return int(samples)
    if design == "sobol":
        return int(samples) * ((2 * d + 2) if opts["second_order"] else (d + 2))
    if design == "morris":
        return int(samples) * (d + 1)
    raise ValueError(f"unknown design {design!r}; expected one of {', '.join(DESIGNS)}")


def salib_problem(factors: Sequence[Factor]) -> dict:
    """The SALib problem of ``factors``, in the unit hypercube (see the module docstring)."""
    return {"num_vars": len(factors), "names": [f.name for f in factors],
            "bounds": [[0.0, 1.0]] * len(factors)}


def unit_samples(design: str, factors: Sequence[Factor], samples: int, seed: int,
                 options: Mapping | None = None) -> np.ndarray:
    """Points of a sampled design in the unit hypercube, shape ``(n, len(factors))``."""
    d = len(factors)
    opts = _options(design, options)
    if design == "latin_hypercube":
        from scipy.stats import qmc
        try:
            engine = qmc.LatinHypercube(d, rng=np.random.default_rng(seed))
        except TypeError:  # scipy < 1.15 names the argument ``seed``
            engine = qmc.LatinHypercube(d, seed=np.random.default_rng(seed))
        return engine.random(int(samples))
    if design == "sobol":
        from SALib.sample import sobol
        return sobol.sample(salib_problem(factors), int(samples),
                            calc_second_order=bool(opts["second_order"]), scramble=True, seed=seed)
    if design == "morris":
        from SALib.sample import morris
        return morris.sample(salib_problem(factors), int(samples), num_levels=int(opts["levels"]),
                             seed=seed)
    raise ValueError(f"design {design!r} has no unit-hypercube points")


def sample_design(design: str, factors: Sequence[Factor], samples: int | None = None, seed: int = 0,
                  options: Mapping | None = None) -> list[dict[str, float]]:
    """The samples of a design: one ``{factor name: value}`` per point, in a fixed order.

    The position of a sample in the list is its id.
    """
    names = [f.name for f in factors]
    if design == "grid":
        axes = [list(f.values) for f in factors]
        return [dict(zip(names, point)) for point in itertools.product(*axes)]
    if design == "cohort":
        rng = np.random.default_rng(seed)
        eta = rng.standard_normal((int(samples), len(factors)))
        cols = [f.base * np.exp(lognormal_omega(f.cv) * eta[:, j]) for j, f in enumerate(factors)]
        return [{n: float(c[i]) for n, c in zip(names, cols)} for i in range(int(samples))]
    if design in SAMPLED_DESIGNS:
        u = unit_samples(design, factors, samples, seed, options)
        cols = [f.from_unit(u[:, j]) for j, f in enumerate(factors)]
        return [{n: float(c[i]) for n, c in zip(names, cols)} for i in range(u.shape[0])]
    raise ValueError(f"unknown design {design!r}; expected one of {', '.join(DESIGNS)}")


def _canonical(value: Any) -> Any:
    if isinstance(value, float):
        return repr(value)  # exact: the hash changes with any bit of the value
    if isinstance(value, dict):
        return {str(k): _canonical(v) for k, v in sorted(value.items())}
    if isinstance(value, (list, tuple)):
        return [_canonical(v) for v in value]
    return value


def canonical_json(value: Any) -> str:
    """A canonical JSON text of plain data (sorted keys, floats by their exact repr)."""
    return json.dumps(_canonical(value), sort_keys=True, separators=(",", ":"))


def sample_hash(values: Mapping[str, Any]) -> str:
    """Content hash of a sample: SHA-256 of the canonical JSON of its values (hex, 16 chars)."""
    return hashlib.sha256(canonical_json(dict(values)).encode()).hexdigest()[:16]


# --- analysis ---------------------------------------------------------------------------------

def _plain(value: Any) -> Any:
    """numpy arrays and scalars -> lists and floats."""
    if isinstance(value, np.ndarray):
        return [_plain(v) for v in value.tolist()]
    if isinstance(value, (np.floating, np.integer)):
        return value.item()
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def analyze(design: str, factors: Sequence[Factor], samples: int, seed: int, outputs,
            options: Mapping | None = None) -> dict:
    """Sensitivity indices of ``outputs`` (one value per design point, in design order).

    ``sobol``: ``{"S1", "S1_conf", "ST", "ST_conf"}`` (and ``S2``, ``S2_conf`` with second-order
    indices), through ``SALib.analyze.sobol``. ``morris``: ``{"mu", "mu_star", "mu_star_conf",
    "sigma"}`` through ``SALib.analyze.morris`` (the design points are regenerated from the
    seed). Each is a list in the order of ``factors``; ``"names"`` lists the factors.
    Confidence intervals are bootstrap half-widths at ``conf_level`` (default 0.95).

    Raises ``ValueError`` if an output is missing or not finite (the estimators need every
    point of the design), or for a design without an analysis.
    """
    y = np.asarray(outputs, dtype=float)
    n = design_size(design, factors, samples, options)
    if y.shape != (n,):
        raise ValueError(f"{design} analysis needs {n} outputs, got {y.size}")
    bad = int(np.count_nonzero(~np.isfinite(y)))
    if bad:
        raise ValueError(f"{bad} of {n} outputs are missing or not finite; the {design} "
                         "estimators need every point of the design")
    opts = _options(design, options)
    problem = salib_problem(factors)
    if design == "sobol":
        from SALib.analyze import sobol
        res = sobol.analyze(problem, y, calc_second_order=bool(opts["second_order"]),
                            num_resamples=int(opts["resamples"]), conf_level=float(opts["conf_level"]),
                            print_to_console=False, seed=seed)
        keys = ["S1", "S1_conf", "ST", "ST_conf"] + (["S2", "S2_conf"] if opts["second_order"] else [])
    elif design == "morris":
        from SALib.analyze import morris
        x = unit_samples(design, factors, samples, seed, options)
        res = morris.analyze(problem, x, y, num_resamples=int(opts["resamples"]),
                             conf_level=float(opts["conf_level"]), print_to_console=False,
                             num_levels=int(opts["levels"]), seed=seed)
        keys = ["mu", "mu_star", "mu_star_conf", "sigma"]
    else:
        raise ValueError(f"design {design!r} has no sensitivity analysis (sobol and morris have)")
    out = {k: _plain(res[k]) for k in keys}
    out["names"] = [f.name for f in factors]
    return out
