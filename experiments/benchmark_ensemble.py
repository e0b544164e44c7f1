"""Benchmark: simbev's ensemble path against libRoadRunner on simbev's own model (issue 7).

Virtual patients: every kinetic parameter drawn log-uniformly within +-20 % of its default
(seeded; the rule of ``random_parameters(species, rng, spread=0.2)`` in tests/conftest.py:
knobs, molecular weights and body weight stay at their defaults). Arms, 180 days, outputs
every day:

human (the clinical question)
    untreated; bevacizumab 10 mg/kg as a 1.5-h infusion every 14 days from day 0;
    combination: the same plus everolimus 10 mg orally once a day.
mouse
    untreated; bevacizumab 10 mg/kg twice weekly (i.v. bolus) from day 7;
    combination: the same plus rapamycin 2 mg/kg orally once a day from day 7.

Per patient, simbev runs :func:`simbev.solvers.ensemble.ensemble` (compiled model and RODAS5P, rows of
the standard response metrics); libRoadRunner runs the SBML export of the same arm
(:func:`simbev.formats.sbml.to_sbml`): set the patient's parameter values, reset, simulate on the same
output grid with CVODE (stiff); see :meth:`RoadRunnerArm.run` for why in that order. Both use the same tolerances: relative ``--rtol``
and simbev's per-state absolute tolerances (``simbev.states.ATOL``).

Printed per arm: ms per simulation and simulations per second on 1 and 2 worker processes
(steady state: workers started, model built and code loaded before the clock starts; the
patients repeated to about a second of simbev work; the median of ``--repeats`` timings, the
two tools alternating), the CPU time per simulation, the ratio simbev / libRoadRunner, and each tool's worst
relative error against a tight reference (simbev's reference path, LSODA at rtol 1e-10 and
absolute tolerances 1e-3 of the defaults) over ``--subset`` patients, every state at every
output time, with the floor of tests/regression/test_sbml.py in the denominator
(``max(ATOL, 1e-6 * peak of the state)``). Then a 10,000-patient combination cohort through
``ensemble(workers=2)``: wall time, and peak memory against a 1,000-patient one.

Regenerates everything from nothing: the compiled code goes to a fresh temporary cache
directory (its one-off compile time is printed), nothing is read from git-ignored files.

    python experiments/benchmark_ensemble.py                  # human and mouse, about 20 min
    python experiments/benchmark_ensemble.py --species human --patients 20 --cohort 2000
"""
from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import sys
import tempfile
import time
import tracemalloc
from concurrent.futures import ProcessPoolExecutor

import numpy as np

import simbev
from simbev import Regimen, Scenario, SolverSettings
from simbev.analysis.metrics import RESPONSE_METRICS
from simbev.solvers import compiled as fast
from simbev.solvers.ensemble import ensemble
from simbev.model import KNOBS, PARAMETER_NAMES
from simbev.symbolic.tracer import INFUSION_RATE_ID
from simbev.model.states import ATOL, STATE_NAMES

DAYS = 180.0
SKIP = set(KNOBS) | {"bev_molecular_weight", "mtori_molecular_weight", "body_weight"}
TIGHT = SolverSettings(rtol=1e-10, atol_scale=1e-3)
PEAK_FRACTION = 1e-6


def arms(species: str) -> list[Scenario]:
    if species == "human":
        bev = Regimen("bevacizumab", (10.0, "mg/kg"), "iv_infusion", start_day=0, every_days=14, stop_day=DAYS,
                      infusion_hours=1.5)
        mtori = Regimen("mtor_inhibitor", (10.0, "mg"), "oral", start_day=0, every_days=1, stop_day=DAYS)
    else:
        bev = Regimen("bevacizumab", (10.0, "mg/kg"), "iv_bolus", start_day=7, every_days=3.5, stop_day=DAYS)
        mtori = Regimen("mtor_inhibitor", (2.0, "mg/kg"), "oral", start_day=7, every_days=1, stop_day=DAYS)
    return [Scenario(f"{species}_{name}", DAYS, species=species, output_every_days=1.0, treatments=tr)
            for name, tr in (("untreated", ()), ("bevacizumab", (bev,)), ("combination", (bev, mtori)))]


def patients(species: str, n: int, seed: int) -> list[dict]:
    """``n`` virtual patients: kinetic parameters log-uniform within +-20 % of the default."""
    pset = simbev.load_parameter_set(species)
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        sample = {}
        for name, rec in pset.records.items():
            if name in SKIP or rec.value == 0:
                continue
            lo, hi = rec.value / 1.2, rec.value * 1.2
            sample[name] = float(np.exp(rng.uniform(np.log(lo), np.log(hi))))
        out.append(sample)
    return out


# libRoadRunner --------------------------------------------------------------------------------

class RoadRunnerArm:
    """One arm's SBML export in libRoadRunner, set up once; ``run(sample)`` gives states x times."""

    def __init__(self, scenario: Scenario, rtol: float):
        import roadrunner
        from simbev.formats.sbml import to_sbml

        self.rr = roadrunner.RoadRunner(to_sbml(scenario))
        integ = self.rr.getIntegrator()
        integ.setValue("stiff", True)
        integ.setValue("relative_tolerance", rtol)
        integ.setValue("absolute_tolerance", [float(a) for a in ATOL])  # per state, in state order
        integ.setValue("maximum_num_steps", 1_000_000)
        integ.setValue("variable_step_size", False)  # outputs at the requested times only
        self.rr.timeCourseSelections = ["time", *STATE_NAMES]
        assert [self.rr.model.getStateVectorId(i) for i in range(len(STATE_NAMES))] == list(STATE_NAMES)
        ids = list(self.rr.model.getGlobalParameterIds())
        self.index = {name: ids.index(name) for name in PARAMETER_NAMES}
        self.rate = ids.index(INFUSION_RATE_ID)
        self.n_out = int(round(scenario.duration_days / scenario.output_every_days)) + 1
        self.end = float(scenario.duration_days)
        self.atol = np.array(integ.getAbsoluteToleranceVector())

    def run(self, sample: dict) -> np.ndarray:
        """States x output times for one patient.

        The order matters, and was checked against the tight reference: libRoadRunner fires
        the events at t = 0 (the first doses) when it resets, with the parameter values of that
        moment, and ``reset()`` does not restore the infusion rate that the previous run's events
        left. So: set the patient's values and a zero infusion rate, then ``reset()``, then
        simulate. (``resetAll()`` then setting the values gives the first oral dose with the
        default bioavailability; setting them after ``resetAll()`` and resetting again starts
        the first infusion twice.)
        """
        rr = self.rr
        keys = list(sample)
        idx = np.array([self.index[k] for k in keys] + [self.rate], dtype=np.int32)
        rr.model.setGlobalParameterValues(idx, np.array([sample[k] for k in keys] + [0.0], dtype=float))
        rr.reset()
        return np.asarray(rr.simulate(0.0, self.end, self.n_out))[:, 1:].T


_RR: RoadRunnerArm | None = None


def _rr_init(scenario, rtol):
    global _RR
    _RR = RoadRunnerArm(scenario, rtol)
    _RR.run({})


def _rr_chunk(samples):
    c0 = time.process_time()
    for s in samples:
        _RR.run(s)
    return len(samples), time.process_time() - c0


def _fast_init(scenario, settings):
    fast.compile_kernel()
    list(ensemble(scenario, [{}], settings=settings))  # parameter set read, code loaded


def _fast_chunk(args):
    scenario, samples, settings = args
    c0 = time.process_time()
    n = sum(1 for r in ensemble(scenario, samples, settings=settings) if r.status == "ok")
    assert n == len(samples), f"{len(samples) - n} failed simbev runs"
    return n, time.process_time() - c0


def _noop(_):
    time.sleep(0.05)
    return 0


class Workers:
    """A pool of warmed-up worker processes (model built, code loaded before any timing)."""

    def __init__(self, n: int, init, initargs):
        self.pool = ProcessPoolExecutor(max_workers=n, initializer=init, initargs=initargs)
        list(self.pool.map(_noop, range(2 * n)))

    def run(self, fn, chunks) -> tuple[float, float]:
        """(simulations per second, CPU ms per simulation) over ``chunks``."""
        t0 = time.perf_counter()
        done = list(self.pool.map(fn, chunks))
        wall = time.perf_counter() - t0
        n = sum(d[0] for d in done)
        return n / wall, 1e3 * sum(d[1] for d in done) / n

    def close(self):
        self.pool.shutdown()


# Accuracy ----------------------------------------------------------------------------------------

def worst_error(states: np.ndarray, ref: np.ndarray) -> tuple[float, str, int]:
    floor = np.maximum(ATOL, PEAK_FRACTION * np.abs(ref).max(axis=1))
    rel = np.abs(states - ref) / np.maximum(np.abs(ref), floor[:, None])
    i, j = np.unravel_index(np.argmax(rel), rel.shape)
    return float(rel[i, j]), STATE_NAMES[i], int(j)


# Benchmark ---------------------------------------------------------------------------------------

def bench_arm(scenario, samples, subset, settings, repeats, log):
    """Timings and accuracy of both tools on one arm (see the module docstring)."""
    rtol = settings.rtol
    t0 = time.perf_counter()
    pools = {("simbev", w): Workers(w, _fast_init, (scenario, settings)) for w in (1, 2)}
    pools.update({("libRoadRunner", w): Workers(w, _rr_init, (scenario, rtol)) for w in (1, 2)})
    log(f"  {scenario.name}: workers started, models built ({time.perf_counter() - t0:.1f} s, not timed)")
    fns = {"simbev": _fast_chunk, "libRoadRunner": _rr_chunk}
    # The patients, repeated so that simbev has about a second of work per timing (a cheap arm
    # would otherwise time the hand-over of tasks), in four chunks.
    sps, _ = pools["simbev", 1].run(_fast_chunk, [(scenario, samples, settings)])
    work = samples * max(1, round(sps / len(samples)))
    k = -(-len(work) // 4)
    chunks = [work[i:i + k] for i in range(0, len(work), k)]
    args = {"simbev": [(scenario, c, settings) for c in chunks], "libRoadRunner": chunks}
    rows = {tool: {"sps1": [], "cpu": [], "sps2": []} for tool in fns}
    for _ in range(repeats):  # the tools alternate, so that both see the same load from other work
        for w in (1, 2):
            for tool in fns:
                sps, cpu = pools[tool, w].run(fns[tool], args[tool])
                rows[tool][f"sps{w}"].append(sps)
                if w == 1:
                    rows[tool]["cpu"].append(cpu)
    for pool in pools.values():
        pool.close()
    for tool in rows:
        for key in ("sps1", "cpu", "sps2"):
            rows[tool][key] = statistics.median(rows[tool][key])
        rows[tool]["ms"] = 1e3 / rows[tool]["sps1"]
    # accuracy against the tight reference
    rr = RoadRunnerArm(scenario, rtol)
    for tool in rows:
        rows[tool]["err"] = (0.0, "", 0)
    out = {r.index: r.result for r in ensemble(scenario, subset, settings=settings,
                                                    trajectories=range(len(subset)))}
    for k, s in enumerate(subset):
        ref = simbev.simulate(scenario, parameters=s, settings=TIGHT)
        for tool, states in (("simbev", out[k].states), ("libRoadRunner", rr.run(s))):
            e = worst_error(states, ref.states)
            if e[0] >= rows[tool]["err"][0]:
                rows[tool]["err"] = (e[0], e[1], int(ref.time[e[2]]))
    return rows


def cohort(scenario, n, seed, settings, workers, trace=False):
    """Wall time, worker CPU time and (``trace``) peak traced memory of an n-patient cohort
    through ensemble; the metric rows are kept as an array (the summary), nothing else.
    Tracing slows the main process by half (it records every allocation), so the timed runs
    do not trace and the memory is measured in separate runs."""
    samples = iter_patients(scenario.species, n, seed)
    values = np.full((n, len(RESPONSE_METRICS)), np.nan)
    failed = 0
    cpu0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu0 = cpu0.ru_utime + cpu0.ru_stime + time.process_time()
    if trace:
        tracemalloc.start()
    t0 = time.perf_counter()
    for row in ensemble(scenario, samples, settings=settings, workers=workers, batch_size=32):
        if row.status == "ok":
            values[row.index] = [np.nan if row.metrics[m] is None else row.metrics[m] for m in RESPONSE_METRICS]
        else:
            failed += 1
    wall = time.perf_counter() - t0
    peak = 0
    if trace:
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    cpu1 = resource.getrusage(resource.RUSAGE_CHILDREN)  # workers are joined: their time is in
    cpu = cpu1.ru_utime + cpu1.ru_stime + time.process_time() - cpu0
    return wall, cpu, peak, failed, values


def iter_patients(species, n, seed):
    """The same draw as :func:`patients`, one patient at a time (a generator: nothing held)."""
    pset = simbev.load_parameter_set(species)
    rng = np.random.default_rng(seed)
    names = [(name, rec.value) for name, rec in pset.records.items() if name not in SKIP and rec.value != 0]
    for _ in range(n):
        yield {name: float(np.exp(rng.uniform(np.log(v / 1.2), np.log(v * 1.2)))) for name, v in names}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--species", choices=("human", "mouse", "both"), default="both")
    ap.add_argument("--patients", type=int, default=40, help="virtual patients per arm for the timings")
    ap.add_argument("--repeats", type=int, default=3, help="timed runs of all patients (median)")
    ap.add_argument("--subset", type=int, default=5, help="patients per arm checked against the tight reference")
    ap.add_argument("--cohort", type=int, default=10_000, help="patients in the combination cohort (0: skip)")
    ap.add_argument("--rtol", type=float, default=1e-6)
    ap.add_argument("--cohort-rtol", type=float, nargs="*", default=[],
                    help="also run the cohort at these simbev tolerances (their accuracy is printed)")
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args(argv)
    settings = SolverSettings(rtol=args.rtol)

    def log(msg):
        print(msg, file=sys.stderr, flush=True)

    # The compiled-code cache: a fresh directory, so that the run regenerates everything (the
    # worker processes inherit the setting).
    cache = tempfile.mkdtemp(prefix="simbev-bench-cache-")
    os.environ["SIMBEV_CACHE_DIR"] = cache
    try:
        return _run(args, settings, log)
    finally:
        shutil.rmtree(cache, ignore_errors=True)


def _run(args, settings, log) -> int:

    import numba
    import roadrunner

    print(f"simbev {simbev.__version__} fast path ({fast.METHOD}, numba {numba.__version__}) vs "
          f"libRoadRunner {roadrunner.__version__} (CVODE, stiff); Python {sys.version.split()[0]}, "
          f"{os.cpu_count()} CPUs, load average at start {os.getloadavg()[0]:.1f}")
    t0 = time.perf_counter()
    fast.compile_kernel()
    print(f"one-off code generation and numba compilation into an empty cache: {time.perf_counter() - t0:.1f} s")
    print(f"tolerances: rtol {args.rtol:g}, per-state atol (simbev.states.ATOL) for both tools; "
          f"{args.patients} patients x {args.repeats} repeats per arm; accuracy on {args.subset} patients "
          f"against LSODA rtol 1e-10")
    species = ("human", "mouse") if args.species == "both" else (args.species,)
    table = []
    for sp in species:
        samples = patients(sp, args.patients, args.seed)
        for scenario in arms(sp):
            log(f"benchmarking {scenario.name} ...")
            rows = bench_arm(scenario, samples, samples[:args.subset], settings, args.repeats, log)
            table.append((scenario.name, rows))

    head = (f"{'arm':20s} {'tool':14s} {'ms/sim':>8s} {'CPU ms':>8s} {'sims/s 1w':>10s} {'sims/s 2w':>10s} "
            f"{'worst rel. error (state, day)':>34s}")
    print()
    print(head)
    print("-" * len(head))
    for name, rows in table:
        for tool in ("simbev", "libRoadRunner"):
            r = rows[tool]
            err = f"{r['err'][0]:.1e} ({r['err'][1]}, {r['err'][2]})"
            print(f"{name if tool == 'simbev' else '':20s} {tool:14s} {r['ms']:8.2f} {r['cpu']:8.2f} "
                  f"{r['sps1']:10.1f} {r['sps2']:10.1f} {err:>34s}")
        s, rr = rows["simbev"], rows["libRoadRunner"]
        print(f"{'':20s} {'ratio':14s} {'':>8s} {rr['cpu'] / s['cpu']:7.1f}x {s['sps1'] / rr['sps1']:9.1f}x "
              f"{s['sps2'] / rr['sps2']:9.1f}x")
    print("ms/sim = 1000 / (sims/s 1w); CPU ms: CPU time per simulation in the worker; sims/s 1w, 2w: one or\n"
          "two warmed-up worker processes, median of the repeats; ratio: simbev / libRoadRunner")

    if args.cohort:
        scenario = arms("human")[2]
        log(f"cohort of {args.cohort} ...")
        small = max(args.cohort // 10, 1)
        wall, cpu, _, failed, values = cohort(scenario, args.cohort, args.seed + 1, settings, 2)
        log("memory (traced runs) ...")
        _, _, peak_small, _, _ = cohort(scenario, small, args.seed + 1, settings, 2, trace=True)
        _, _, peak, _, _ = cohort(scenario, args.cohort, args.seed + 1, settings, 2, trace=True)
        children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        print()
        print(f"{args.cohort}-patient {scenario.name} cohort, ensemble(workers=2), rtol {args.rtol:g}: "
              f"wall {wall:.1f} s ({args.cohort / wall:.0f} patients/s), {failed} failed; CPU time of all "
              f"processes {cpu:.1f} s, i.e. {cpu / 2:.1f} s on two otherwise idle cores")
        print(f"  peak traced memory in the main process: {peak / 1e6:.1f} MB for {args.cohort} patients vs "
              f"{peak_small / 1e6:.1f} MB for {small}; metric rows held: "
              f"{values.nbytes / 1e6:.2f} MB; largest worker RSS {children:.0f} MB")
        ttp = values[:, RESPONSE_METRICS.index("time_to_progression")]
        print(f"  median final tumour volume {np.nanmedian(values[:, 0]):.0f} mm^3; progressed within 180 days: "
              f"{np.mean(np.isfinite(ttp)):.0%}")
        subset = patients("human", args.subset, args.seed)
        refs = [simbev.simulate(scenario, parameters=s, settings=TIGHT) for s in subset] if args.cohort_rtol else []
        for rtol in args.cohort_rtol:
            loose = SolverSettings(rtol=rtol)
            runs = {r.index: r.result for r in ensemble(scenario, subset, settings=loose,
                                                             trajectories=range(len(subset)))}
            err = max(worst_error(runs[k].states, ref.states)[0] for k, ref in enumerate(refs))
            wall, cpu, _, failed, _ = cohort(scenario, args.cohort, args.seed + 1, loose, 2)
            print(f"  the same cohort at rtol {rtol:g} (simbev's worst relative error on the {args.subset} "
                  f"patients above: {err:.1e}): wall {wall:.1f} s, {failed} failed; CPU {cpu:.1f} s, i.e. "
                  f"{cpu / 2:.1f} s on two idle cores")
    print(f"load average at end {os.getloadavg()[0]:.1f} (2 CPUs shared with other work)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
