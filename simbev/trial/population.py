"""Virtual populations as data: ``simbev population build POPULATION.yaml --out FILE``.

A population file (YAML) says how to screen plausible patients and what to select them for::

    name: kreisl2009
    description: ...
    seed: 2009
    plausible: 20000                # plausible patients to screen
    scenario: kreisl2009_regimen.yaml   # the screening regimen (a scenario file, relative path)
    run_in_days: 28                 # untreated observation before the first dose
    follow_up_weeks: 104
    assess_every_days: 28           # scan interval
    selection:
      min_selected: 200
      max_selected: 500             # a random subset of a larger selection
      scales: [1, 1.5, 2, 3, 4]     # Allen et al.'s scaling factor, chosen by fit
      rho: 0.7                      # assumed correlation of log PFS and log OS in the target
      fit: [objective_response_rate, progression_free_6mo, median_pfs_weeks, median_os_weeks]
    targets:                        # value with its 95 % interval, and where it comes from
      objective_response_rate: {value: 0.35, low: 0.22, high: 0.51, source: ...}
      ...

Build: every plausible patient (:mod:`simbev.trial.patients`) is simulated on the screening
regimen by the compiled batched ensemble (:func:`simbev.solvers.ensemble.ensemble`); each finished batch is
committed to a crash-safe store (``FILE.screening.sqlite``, :mod:`simbev.sweeps.store`), so a
killed build resumes where it stopped, and the result does not depend on the number of workers.
Patients that pass the physiological filters are then selected by acceptance–rejection
(:mod:`simbev.trial.selection`) and written as JSON with the model fingerprint they were built
for. :func:`load_population` refuses a population built for another model version.
"""
from __future__ import annotations

import hashlib
import json
import math
import os
import time
from dataclasses import asdict
from pathlib import Path
from typing import Callable

import numpy as np

from ..errors import InputError
from . import selection as _selection
from . import statistics as _stats
from .outcomes import (Design, Filters, lethal_volume, metric_names, patient_outcome, readout_name, run_in_filters,
                       run_in_metric_names, run_in_scenario, screening_scenario)
from .patients import sample_patient

__all__ = ["PopulationSpec", "load_spec", "build", "load_population", "shipped_populations", "StalePopulation",
           "model_fingerprint", "FORMAT"]

FORMAT = "simbev-population/1"
POPULATIONS_DIR = Path(__file__).parent / "populations"
SPEC_KEYS = ("name", "description", "seed", "plausible", "scenario", "run_in_days", "follow_up_weeks",
             "assess_every_days", "selection", "targets", "filters")
SELECTION_KEYS = ("min_selected", "max_selected", "scales", "rho", "fit", "observables")
FILTER_KEYS = ("doubling_days", "tam_share", "min_cell_fraction")
TARGET_KEYS = ("value", "low", "high", "source")
BATCH_COMMIT_SECONDS = 2.0


class StalePopulation(InputError):
    """A population built for another model version."""


def model_fingerprint() -> str:
    """The fingerprint of what decides a patient's course: the model, its parameter sets and the
    dosing protocol (the ``model`` part of the sweeps' fingerprint). Solver code, its method and
    the numba version are left out: they change results within the solver tolerance, not which
    patients a selection keeps, and a shipped population must not go stale with a numba release.
    The screening store keeps the full fingerprint, so a resumed screening never mixes code."""
    from ..sweeps.guards import FINGERPRINT_PARTS, _hash
    return "model=" + _hash(FINGERPRINT_PARTS["model"])


def _full_fingerprint() -> str:
    from ..sweeps.run import model_fingerprint as fp
    return fp()


# --- the population file ---------------------------------------------------------------------------

class PopulationSpec:
    """A validated population file."""

    def __init__(self, path: Path, data: dict):
        self.path = path
        self.data = data
        self.name = data["name"]
        self.seed = int(data["seed"])
        self.plausible = int(data["plausible"])
        self.scenario_path = (path.parent / data["scenario"]).resolve()
        sel = data.get("selection", {}) or {}
        self.min_selected = int(sel.get("min_selected", 200))
        self.max_selected = sel.get("max_selected")
        self.scales = tuple(float(s) for s in sel.get("scales", (1, 1.5, 2, 3, 4)))
        self.rho = float(sel.get("rho", 0.7))
        self.observables = tuple(sel.get("observables", ("pfs", "os")))
        self.fit = tuple(sel.get("fit", ("objective_response_rate", "progression_free_6mo", "median_pfs_weeks",
                                         "median_os_weeks")))
        self.targets = {k: dict(v) for k, v in (data.get("targets") or {}).items()}
        f = data.get("filters", {}) or {}
        defaults = Filters()
        self.filters = Filters(tuple(f.get("doubling_days", defaults.doubling_days)),
                               tuple(f.get("tam_share", defaults.tam_share)),
                               float(f.get("min_cell_fraction", defaults.min_cell_fraction)))

    def scenario(self):
        from ..scenario.file import load_scenario
        return load_scenario(self.scenario_path)

    def design(self, pset=None) -> Design:
        lethal, _ = lethal_volume(pset)
        return Design(run_in_days=float(self.data.get("run_in_days", 28)),
                      follow_up_days=7.0 * float(self.data.get("follow_up_weeks", 104)),
                      assess_every_days=float(self.data.get("assess_every_days", 28)),
                      lethal_volume_mm3=lethal, readout=readout_name(), filters=self.filters)

    def identity(self) -> str:
        """Hash of what decides the screening (not the selection): resuming needs it unchanged."""
        keys = ("seed", "plausible", "run_in_days", "follow_up_weeks", "assess_every_days", "filters")
        record = {k: self.data.get(k) for k in keys}
        record["scenario"] = self.scenario_path.read_text(encoding="utf-8")
        record["model_fingerprint"] = model_fingerprint()
        # The screening also depends on how patients are drawn and read out: a store written by
        # other sampling or read-out code is not resumed.
        here = Path(__file__).parent
        code = [here / "patients.py", here / "outcomes.py", here.parent / "analysis" / "response.py"]
        record["screening_code"] = hashlib.sha256(b"".join(p.read_bytes() for p in code)).hexdigest()
        return hashlib.sha256(json.dumps(record, sort_keys=True, default=str).encode()).hexdigest()


def _need(cond: bool, path, lines, key, found, expected):
    if not cond:
        from ..scenario.yamlsafe import line_of
        raise InputError(str(path), line_of(lines, key), key, found, expected)


def load_spec(path) -> PopulationSpec:
    """Read and validate a population file; raise :class:`~simbev.errors.InputError` on bad input."""
    from ..scenario.yamlsafe import load_yaml

    path = Path(path)
    data, lines = load_yaml(path)
    for key in data:
        _need(key in SPEC_KEYS, path, lines, key, key, f"one of {', '.join(SPEC_KEYS)}")
    for key in ("name", "seed", "plausible", "scenario"):
        _need(key in data, path, lines, "", f"<no '{key}'>", f"a '{key}' entry")
    _need(isinstance(data["name"], str) and data["name"].replace("_", "").replace("-", "").isalnum(), path, lines,
          "name", data["name"], "a name of letters, digits, '_' or '-'")
    _need(isinstance(data["seed"], int) and data["seed"] >= 0, path, lines, "seed", data["seed"], "an integer >= 0")
    _need(isinstance(data["plausible"], int) and 1 <= data["plausible"] <= 10_000_000, path, lines, "plausible",
          data["plausible"], "an integer from 1 to 10,000,000")
    _need(isinstance(data["scenario"], str) and (path.parent / data["scenario"]).is_file(), path, lines, "scenario",
          data["scenario"], "a scenario file (path relative to the population file)")
    for key in ("run_in_days", "follow_up_weeks", "assess_every_days"):
        if key in data:
            v = data[key]
            _need(isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) and v > 0, path,
                  lines, key, v, "a number > 0")
    sel = data.get("selection", {}) or {}
    _need(isinstance(sel, dict), path, lines, "selection", sel, "a mapping")
    for key in sel:
        _need(key in SELECTION_KEYS, path, lines, f"selection.{key}", key, f"one of {', '.join(SELECTION_KEYS)}")
    if "max_selected" in sel:
        m = sel["max_selected"]
        _need(isinstance(m, int) and not isinstance(m, bool) and m >= int(sel.get("min_selected", 200)), path, lines,
              "selection.max_selected", m, "a whole number >= min_selected")
    obs = sel.get("observables", ["pfs", "os"])
    _need(isinstance(obs, list) and 1 <= len(obs) <= 2 and all(o in ("pfs", "os") for o in obs)
          and len(set(obs)) == len(obs), path, lines, "selection.observables", obs,
          "a list of one or both of pfs, os (the outcomes whose joint distribution is matched)")
    for key in sel.get("fit", []):
        _need(key in _stats.STATISTICS, path, lines, "selection.fit", key, f"one of {', '.join(_stats.STATISTICS)}")
    targets = data.get("targets", {}) or {}
    for name, t in targets.items():
        where = f"targets.{name}"
        _need(name in _stats.STATISTICS, path, lines, where, name, f"one of {', '.join(_stats.STATISTICS)}")
        _need(isinstance(t, dict) and all(k in TARGET_KEYS for k in t) and "value" in t, path, lines, where, t,
              "a mapping with value, low, high (and source)")
        for k in ("value", "low", "high"):
            if k in t:
                _need(isinstance(t[k], (int, float)) and not isinstance(t[k], bool), path, lines, f"{where}.{k}",
                      t[k], "a number")
    for key in sel.get("fit", ("objective_response_rate", "progression_free_6mo", "median_pfs_weeks",
                               "median_os_weeks")):
        _need(key in targets and "low" in targets[key] and "high" in targets[key], path, lines, "targets",
              f"<no interval for {key}>", f"targets.{key} with value, low and high (it is in selection.fit)")
    for key in ("progression_free_6mo", "median_pfs_weeks", "median_os_weeks", "overall_survival_6mo"):
        _need(key in targets, path, lines, "targets", f"<no {key}>", f"targets.{key} (the target density needs it)")
    filters = data.get("filters", {}) or {}
    for key, v in filters.items():
        _need(key in FILTER_KEYS, path, lines, f"filters.{key}", key, f"one of {', '.join(FILTER_KEYS)}")
    return PopulationSpec(path, data)


# --- screening -------------------------------------------------------------------------------------

def _pset():
    from ..parameters import load_parameter_set
    return load_parameter_set("human")


def _open_store(path: Path, spec: PopulationSpec):
    from ..sweeps.store import SweepStore

    store = SweepStore.open(path)
    identity = spec.identity()
    if store.initialised():
        if store.meta("sweep_hash") != identity:
            store.close()
            raise InputError(message=f"{path}: this screening store belongs to another population file, "
                                     "seed, screening design or model version; delete it (or use another --out) "
                                     "to screen anew")
        return store
    pset = _pset()
    rows = []
    for i in range(spec.plausible):
        draw = sample_patient(i, spec.seed, pset)
        rows.append((i, 0, "screen", "", json.dumps({"parameters": draw.parameters, "covariates": draw.covariates})))
    from .. import __version__
    store.initialise(identity, json.dumps(spec.data, sort_keys=True, default=str), __version__, rows,
                     extra_meta={"model_fingerprint": _full_fingerprint()})
    return store


def _record_many(store, results: list[tuple[int, str, dict | None, str | None]]) -> None:
    """Commit finished patients in one transaction (one per batch: committing 100,000 rows one
    by one would cost more than simulating them)."""
    now = time.time()
    store.db.execute("BEGIN IMMEDIATE")
    try:
        store.db.executemany(
            "UPDATE tasks SET status = ?, metrics = ?, error = ?, finished_at = ?, attempts = attempts + 1 "
            "WHERE sample_id = ? AND arm = 0",
            [(status, None if m is None else json.dumps(m, allow_nan=True), err, now, i)
             for i, status, m, err in results])
    except BaseException:
        store.db.execute("ROLLBACK")
        raise
    store.db.execute("COMMIT")


def screen(spec: PopulationSpec, store_path, workers: int = 1, batch_size: int = 64,
           progress: Callable[[int, int], None] | None = None, rtol: float | None = None) -> dict:
    """Simulate every pending plausible patient into the store; return counts."""
    from ..solvers.ensemble import ensemble
    from ..solvers.reference import SolverSettings

    store = _open_store(Path(store_path), spec)
    try:
        pset = _pset()
        design = spec.design(pset)
        scenario = screening_scenario(spec.scenario(), design)
        names = metric_names(design)
        pending = [sid for sid, _, _ in store.pending()]
        total = spec.plausible
        done = total - len(pending)
        if progress:
            progress(done, total)
        if not pending:
            return store.counts()
        vals = {sid: json.loads(v) for sid, v in store.db.execute(
            "SELECT sample_id, vals FROM tasks WHERE status = 'pending'")}
        # Order by dose band so that a compiled batch shares one dose schedule.
        order = sorted(pending, key=lambda i: (vals[i]["parameters"].get("body_weight", 0.0), i))
        density = {i: vals[i]["parameters"].get("tumor_cell_density", pset["tumor_cell_density"]) for i in order}
        settings = SolverSettings() if rtol is None else SolverSettings(rtol=rtol)
        state = {"done": done, "buffer": [], "last": time.monotonic()}

        def flush(force=False):
            buf = state["buffer"]
            if buf and (force or len(buf) >= batch_size or time.monotonic() - state["last"] > BATCH_COMMIT_SECONDS):
                _record_many(store, buf)
                state["done"] += len(buf)
                state["buffer"], state["last"] = [], time.monotonic()
                if progress:
                    progress(state["done"], total)

        # Stage 1: the untreated run-in alone (cheap). Patients failing the growth or TAM filter
        # are recorded now; the others are simulated in full (run-in again, then treatment).
        # Stage-1 results of passing patients are not stored: a resumed build recomputes them.
        full = []
        run_in = run_in_scenario(spec.scenario(), design)
        for row in ensemble(run_in, (vals[i]["parameters"] for i in order), run_in_metric_names(design),
                            settings=settings, workers=workers, batch_size=batch_size):
            sid = order[row.index]
            if row.status != "ok":
                state["buffer"].append((sid, "failed", None, row.error))
            else:
                pre = run_in_filters(row.metrics, design, density[sid])
                if pre["passes"]:
                    full.append(sid)
                else:
                    state["buffer"].append((sid, "ok", pre, None))
            flush()
        flush(force=True)
        for row in ensemble(scenario, (vals[i]["parameters"] for i in full), names, settings=settings,
                            workers=workers, batch_size=batch_size):
            sid = full[row.index]
            if row.status == "ok":
                state["buffer"].append((sid, "ok", patient_outcome(row.metrics, design, density[sid]), None))
            else:
                state["buffer"].append((sid, "failed", None, row.error))
            flush()
        flush(force=True)
        return store.counts()
    finally:
        store.close()


# --- selection and the population file -------------------------------------------------------------

def _select(spec: PopulationSpec, candidates: list[dict], stream: int = 0) -> tuple[list[int], dict]:
    """Acceptance–rejection (Allen et al. 2016) of the filtered plausible patients."""
    x = _stats.observables(candidates, spec.observables)
    responder = np.array([c["best_response"] in ("CR", "PR") for c in candidates])
    logf = _stats.target_log_density(spec.targets, spec.rho, spec.observables)
    # The plausible density g is estimated per response group: g(x, r) = P(r) g_r(x).
    log_ratio = np.full(len(candidates), -np.inf)
    for group in (True, False):
        idx = np.nonzero(responder == group)[0]
        if idx.size >= 3:
            log_ratio[idx] = (_selection.log_density_ratio(x[idx], logf)
                              - math.log(idx.size / len(candidates)))
    finite = np.isfinite(log_ratio)
    ratio = np.zeros(len(candidates))
    ratio[finite] = np.exp(log_ratio[finite] - log_ratio[finite].max())
    target_orr = spec.targets.get("objective_response_rate", {}).get("value")

    def fit(indices):
        if len(indices) < 10:
            return -math.inf
        return _stats.fit_score(_stats.summarize([candidates[i] for i in indices]), spec.targets, spec.fit)

    table, best = [], None
    for s in spec.scales:
        p, tilt = _tilted(ratio, responder, target_orr, s)
        idx = _selection.select(p, np.random.default_rng([spec.seed, 1, stream]))
        score = fit(idx)
        table.append({"scale": s, "selected": int(idx.size), "score": score, "response_tilt": tilt})
        if idx.size >= spec.min_selected and (best is None or score > best[1]):
            best = (s, score, idx, tilt)
    if best is None:
        raise InputError(message=f"{spec.path}: no selection reaches {spec.min_selected} patients "
                                 f"(largest: {max(t['selected'] for t in table)} of {len(candidates)} that passed "
                                 "the filters); raise 'plausible' or the selection scales")
    chosen = best[2]
    if spec.max_selected is not None and chosen.size > spec.max_selected:
        # A uniform random subset of the selection has the same distribution (smaller file, faster trials).
        rng = np.random.default_rng([spec.seed, 2, stream])
        chosen = np.sort(rng.choice(chosen, size=int(spec.max_selected), replace=False))
    info = {"method": "acceptance-rejection (Allen, Rieger & Musante 2016)", "scale": best[0],
            "selected_before_subsampling": int(best[2].size), "fit": list(spec.fit),
            "scale_table": table, "response_tilt": best[3], "target_density": logf.parameters}
    return [int(i) for i in chosen], info


def _tilted(ratio: np.ndarray, responder: np.ndarray, target: float | None, scale: float):
    """Inclusion probabilities ``min(1, scale * ratio * c**responder)`` with the tilt ``c`` that
    makes their expected response rate ``target`` (bisection on log c: the rate rises with c)."""
    if target is None or responder.all() or not responder.any():
        return np.minimum(1.0, scale * ratio), 1.0

    def rate(log_c):
        p = np.minimum(1.0, scale * ratio * np.where(responder, math.exp(log_c), 1.0))
        total = p.sum()
        return (p[responder].sum() / total if total > 0 else 0.0), p

    lo, hi = -30.0, 30.0
    for _ in range(80):
        mid = (lo + hi) / 2
        if rate(mid)[0] < target:
            lo = mid
        else:
            hi = mid
    log_c = (lo + hi) / 2
    return rate(log_c)[1], math.exp(log_c)


def _write_json_atomic(path: Path, obj) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.part")
    with open(tmp, "w", encoding="utf-8") as fh:
        json.dump(obj, fh, indent=1, allow_nan=False, default=_json_default)
        fh.write("\n")
    os.replace(tmp, path)


def _json_default(o):
    if isinstance(o, (np.floating, np.integer)):
        return o.item()
    if isinstance(o, np.bool_):
        return bool(o)
    raise TypeError(type(o).__name__)


def _clean(obj):
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {k: _clean(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_clean(v) for v in obj]
    return obj


def build(spec_path, out, workers: int = 1, progress: Callable[[int, int], None] | None = None,
          batch_size: int = 64) -> dict:
    """Screen (resumably), filter, select and write the population ``out`` (JSON).

    The screening store is ``<out>.screening.sqlite``. Returns the population record.
    """
    from .. import __version__

    spec = load_spec(spec_path)
    out = Path(out)
    store_path = out.with_name(out.name + ".screening.sqlite")
    counts = screen(spec, store_path, workers=workers, batch_size=batch_size, progress=progress)
    from ..sweeps.store import SweepStore
    with SweepStore.open(store_path) as store:
        rows = list(store.rows())
    ok = [r for r in rows if r["status"] == "ok"]
    filter_counts: dict[str, int] = {}
    candidates, draws = [], []
    for r in ok:
        m = r["metrics"]
        if m["passes"]:
            candidates.append(m)
            draws.append((r["sample_id"], r["values"]))
        else:
            filter_counts[m["filter_failed"]] = filter_counts.get(m["filter_failed"], 0) + 1
    if len(candidates) < max(spec.min_selected, 10):
        raise InputError(message=f"{spec.path}: only {len(candidates)} of {len(ok)} plausible patients pass the "
                                 f"physiological filters ({filter_counts}); need at least {spec.min_selected}")
    chosen, info = _select(spec, candidates)
    achieved = _stats.summarize([candidates[i] for i in chosen])
    # Robustness of the calibration to the selection's random draws (the screening is reused).
    redraws = []
    for stream in range(1, 6):
        idx, other = _select(spec, candidates, stream)
        st = _stats.summarize([candidates[i] for i in idx])
        redraws.append({"stream": stream, "scale": other["scale"], "selected": len(idx),
                        **{k: st[k]["value"] for k in _stats.STATISTICS}})
    pset = _pset()
    design = spec.design(pset)
    _, lethal_source = lethal_volume(pset)
    design_record = {"run_in_days": design.run_in_days, "follow_up_days": design.follow_up_days,
                     "assess_every_days": design.assess_every_days, "lethal_volume_mm3": design.lethal_volume_mm3,
                     "lethal_volume_source": lethal_source, "readout": design.readout,
                     "criteria": asdict(design.criteria), "filters": asdict(design.filters)}
    patients = []
    for k in chosen:
        sid, vals = draws[k]
        patients.append({"id": f"P{sid:06d}", "index": sid, "parameters": vals["parameters"],
                         "covariates": vals["covariates"]})
    record = {"format": FORMAT, "name": spec.name, "description": spec.data.get("description", ""),
              "species": "human", "model_fingerprint": model_fingerprint(), "simbev_version": __version__,
              "seed": spec.seed, "built_from": spec.path.name, "design": design_record,
              "screening": {"plausible": spec.plausible, "simulated_ok": len(ok),
                            "failed": counts.get("failed", 0), "passed_filters": len(candidates),
                            "excluded_by_filter": filter_counts, "selected": len(patients), **info},
              "targets": spec.targets, "calibration": achieved, "selection_redraws": redraws,
              "plausible_summary": _stats.summarize(candidates),
              "patients": patients}
    _write_json_atomic(out, _clean(record))
    return record


# --- loading ---------------------------------------------------------------------------------------

def shipped_populations() -> dict[str, Path]:
    """Populations shipped with simbev: name -> file."""
    return {p.stem: p for p in sorted(POPULATIONS_DIR.glob("*.json"))}


def load_population(name_or_path, check_model: bool = True) -> dict:
    """A population record from a shipped name or a file; refuses one built for another model.

    Raises :class:`StalePopulation` (an :class:`~simbev.errors.InputError`) with the command
    that rebuilds it.
    """
    shipped = shipped_populations()
    key = str(name_or_path)
    path = shipped.get(key, Path(key))
    if not path.is_file():
        known = ", ".join(shipped) or "none"
        raise InputError(message=f"{key}: no such population file or shipped population (shipped: {known})")
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise InputError(message=f"{path}: not a population file ({exc})") from None
    if not isinstance(record, dict) or record.get("format") != FORMAT:
        raise InputError(message=f"{path}: not a population file (expected format {FORMAT!r})")
    if check_model:
        current = model_fingerprint()
        if record.get("model_fingerprint") != current:
            spec = POPULATIONS_DIR / f"{record.get('name')}.yaml"
            source = spec if spec.is_file() else Path(str(record.get("built_from", "POPULATION.yaml")))
            raise StalePopulation(message=(
                f"{path}: population '{record.get('name')}' was built for model fingerprint "
                f"{record.get('model_fingerprint')} (simbev {record.get('simbev_version')}), but this simbev's "
                f"model is {current}: its patients were selected on another model. Rebuild it with "
                f"'simbev population build {source} --out NEW.json' and run the trial with '--population NEW.json'"))
    record["path"] = str(path)
    return record
