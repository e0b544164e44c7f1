"""e03: which parameters decide when the tumor escapes bevacizumab: a global (Sobol') sensitivity
analysis of the time to progression, in mice (10 mg/kg twice weekly) and in patients (10 mg/kg
every two weeks), over every parameter's documented plausible range.

    python experiments/e03_sensitivity.py               # N = 128 (mouse) and 64 (patient): ~5 min
    python experiments/e03_sensitivity.py --mouse-n 32 --human-n 16   # a quicker look

What it does
------------
1. Factors: every kinetic parameter of the species that the plausible-range box of e02 varies
   (:func:`simbev.robustness.range_factors`: log-uniform over a positive range, uniform over a
   range from 0; knobs, molecular weights and body weight fixed), less those that cannot change
   the treated tumor at all. A parameter is *inert* here if moving it to either end of its range
   leaves the whole tumor-volume curve of the bevacizumab run unchanged (relative change
   < 1e-9): the mTOR inhibitor's pharmacokinetics and effect, and GLUT2 (induced only by the
   inhibitor), in a run without the inhibitor. Their Sobol' indices are exactly 0, so running
   them would only widen the other intervals.
2. Writes the sweep files configs/sweeps/sobol_escape_mouse.yaml and sobol_escape_human.yaml
   (design ``sobol``; base scenarios: the shipped bevacizumab_mouse.yaml and bevacizumab_human.yaml,
   the bevacizumab arms of the findings settings; the report names any difference) and runs them
   with :func:`simbev.sweep.run_sweep` and the evaluation below, into
   results/e03/<name>-<model fingerprint>/ (resumable).
3. Reports first-order (S1) and total (ST) indices with their 95 % bootstrap intervals (SALib)
   for the time to progression, ranked by ST.

Each sample is run by :func:`simbev.robustness.escape_evaluation` (the sweep's ``evaluate``):
the compiled solver with a step budget, and a run whose solver fails (tumors driven below
1e-20 mm^3, where the step size collapses) repeated up to the day before the failure. Because a
sweep with its own evaluation is not fingerprinted by the store, the output folder name carries
the model fingerprint.

Censoring: a sample that has not progressed by the end of the run has no time to progression.
The primary analysis uses its follow-up time (days from the first dose to the end of the run)
in its place, i.e. the time to progression *censored at the horizon*, as the sweep machinery
does; the share censored, and how many of those were eradicated, is reported. Supporting
analyses on the same runs: whether the tumor progressed within the horizon at all (0/1), the
log of the censored time, and log10 of the final volume.

Writes its block of docs/findings.md (``<!-- robust:e03:begin -->`` ... ``end``) and
docs/figures/sensitivity_escape.png.
"""
from __future__ import annotations

import argparse
import csv
import math
import shutil
import sys
import time
import warnings
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "experiments"))

import simbev  # noqa: E402
from _report_block import write_block  # noqa: E402

from simbev.sweeps import robustness  # noqa: E402
from simbev.analysis import findings  # noqa: E402
from simbev import sweeps as sweep_run  # noqa: E402
from simbev.sweeps.designs import analyze  # noqa: E402
from simbev.solvers.compiled import simulate as fast_simulate  # noqa: E402

DOCS = ROOT / "docs"
FIGS = DOCS / "figures"
SWEEPS = ROOT / "configs" / "sweeps"
CACHE = ROOT / "results" / "e03"
SEED = 20261127
#: species -> (findings setting, base scenario file relative to configs/sweeps, sweep name)
STUDIES = {
    "mouse": ("mouse_10mgkg_twice_weekly", "../scenarios/bevacizumab_mouse.yaml", "sobol_escape_mouse"),
    "human": ("human_10mgkg_q2w", "../scenarios/bevacizumab_human.yaml", "sobol_escape_human"),
}
METRICS = ("time_to_progression", "final_tumor_volume", "min_tumor_volume")
TOP = 10


def _bevacizumab_scenario(species: str):
    """The base scenario of the sweep, checked against the findings setting it stands for."""
    setting = findings.SETTINGS[STUDIES[species][0]]
    scenario = simbev.load_scenario(SWEEPS / STUDIES[species][1])
    reg, ref = scenario.treatments[0], setting.bevacizumab
    pairs = [("species", scenario.species, setting.species),
             ("duration_days", scenario.duration_days, setting.duration_days),
             ("treatments", len(scenario.treatments), 1), ("dose", reg.dose, ref.dose),
             ("every_days", reg.every_days, ref.every_days), ("start_day", reg.start_day, ref.start_day),
             ("stop_day", reg.stop_day, ref.stop_day)]
    diffs = [f"{k} {a} (setting: {b})" for k, a, b in pairs if a != b]
    return scenario, setting, diffs


def inert_parameters(species: str, factors) -> list[str]:
    """Factors that leave the bevacizumab run's tumor volume unchanged at both ends of their range."""
    scenario, _, _ = _bevacizumab_scenario(species)
    v0 = np.asarray(fast_simulate(scenario)["tumor_volume"])
    out = []
    for f in factors:
        change = 0.0
        for x in (f.low, f.high):
            v = np.asarray(fast_simulate(scenario, parameters={f.name: x})["tumor_volume"])
            change = max(change, float(np.max(np.abs(v / v0 - 1.0))))
        if change < 1e-9:
            out.append(f.name)
    return out


def _yaml_float(x: float) -> str:
    """``repr`` of a float that YAML 1.1 also reads as a float (``1e-05`` needs a point: ``1.0e-05``)."""
    text = repr(float(x))
    mantissa, e, exponent = text.partition("e")
    return f"{mantissa}.0e{exponent}" if e and "." not in mantissa else text


def write_sweep_file(species: str, n: int) -> tuple[Path, list, list[str]]:
    """Write configs/sweeps/<name>.yaml for ``species`` with base number ``n``."""
    setting_name, scenario_file, name = STUDIES[species]
    factors = robustness.range_factors(species, findings.FIXED)
    inert = inert_parameters(species, factors)
    used = [f for f in factors if f.name not in inert]
    scenario, setting, _ = _bevacizumab_scenario(species)
    reg = scenario.treatments[0]
    who = (f"{'mice' if species == 'mouse' else 'patients'}, bevacizumab {reg.dose[0]:g} {reg.dose[1]} every "
           f"{reg.every_days:g} days from day {reg.start_day:g} to day {scenario.duration_days:g}")
    followup = scenario.duration_days - scenario.treatments[0].start_day
    lines = [
        f"# Which parameters decide when the tumor escapes bevacizumab? ({who})",
        "# Generated by experiments/e03_sensitivity.py from the plausible ranges of the parameter files;",
        "# regenerate it rather than editing it by hand.",
        f"# First-order and total Sobol' indices (Saltelli's scheme, SALib) of the time to progression,",
        f"# each of {len(used)} parameters over its documented plausible range: log-uniform where the range",
        "# is positive, uniform where it starts at 0. Fixed: the experimental knobs, molecular weights and",
        f"# body weight; left out as inert in this run (moving them to either end of their range leaves the",
        f"# tumor volume unchanged, so their indices are 0): {', '.join(inert) or 'none'}.",
        f"# N = {n} base samples x ({len(used)} + 2) = {n * (len(used) + 2)} runs. A tumor that has not progressed",
        f"# by day {scenario.duration_days:g} counts with its follow-up time ({followup:g} days from the first dose).",
        f"# e03 runs this file through run_sweep(evaluate={robustness.__name__}.escape_evaluation), which repeats a",
        "# run whose solver fails (tumors driven below 1e-20 mm^3) up to the day before the failure;",
        f"# tumor_volume@{scenario.duration_days:g} is then empty. Run with `simbev sweep`, such runs are failed rows",
        "# and the indices are not computed.",
        f"#   simbev sweep configs/sweeps/{name}.yaml --out results/{name} --workers 2",
        f"name: {name}",
        f"description: Sobol' indices of the time to progression on bevacizumab ({species}), "
        f"{len(used)} parameters over their plausible ranges.",
        f"scenario: {scenario_file}",
        "design: sobol",
        f"samples: {n}",
        f"seed: {SEED}",
        "vary:",
    ]
    for f in used:
        lines.append(f"  {f.name}: {{low: {_yaml_float(f.low)}, high: {_yaml_float(f.high)}, scale: {f.scale}}}"
                     f"  # default {f.value:g} {f.unit}")
    lines += [f"metrics: [{', '.join(METRICS + (f'tumor_volume@{scenario.duration_days:g}',))}]", "options:", "  second_order: false", "  resamples: 1000",
              "trajectories: 40", ""]
    path = SWEEPS / f"{name}.yaml"
    text = "\n".join(lines)
    if not path.exists() or path.read_text(encoding="utf-8") != text:
        path.write_text(text, encoding="utf-8")
    return path, used, inert


def model_fingerprint() -> str:
    """Version of what a sample computes: the sweeps' model fingerprint and the evaluation."""
    import hashlib
    import inspect
    h = hashlib.sha256(sweep_run.model_fingerprint().encode())
    h.update(Path(inspect.getsourcefile(robustness)).read_bytes())
    return h.hexdigest()[:16]


def run(species: str, n: int, workers: int) -> dict:
    path, used, inert = write_sweep_file(species, n)
    sweep = sweep_run.load_sweep(path)
    # A sweep with its own evaluation function is not fingerprinted by the store: the folder is.
    out = CACHE / f"{sweep.name}-{model_fingerprint()}"
    t0 = time.time()
    try:
        outcome = sweep_run.run_sweep(sweep, out, workers=workers, evaluate=robustness.escape_evaluation)
    except sweep_run.SweepChangedError as exc:  # another design: start afresh
        print(f"  {sweep.name}: starting afresh ({str(exc).split(';')[0]})", file=sys.stderr)
        shutil.rmtree(out)
        outcome = sweep_run.run_sweep(sweep, out, workers=workers, evaluate=robustness.escape_evaluation)
    wall = time.time() - t0
    rows = _read_results(outcome.results_csv)
    scenario, setting, same = _bevacizumab_scenario(species)
    followup = scenario.duration_days - scenario.treatments[0].start_day
    ok = np.array([r["status"] == "ok" for r in rows])
    ttp = np.array([r["time_to_progression"] for r in rows], dtype=float)
    final = np.array([r["final_tumor_volume"] for r in rows], dtype=float)
    at_horizon = np.array([r[f"tumor_volume@{scenario.duration_days:g}"] for r in rows], dtype=float)
    censored = ok & ~np.isfinite(ttp)
    nadir = np.array([r["min_tumor_volume"] for r in rows], dtype=float)
    eradicated = censored & (nadir < robustness.ERADICATED_MM3)
    cut = ok & ~np.isfinite(at_horizon)
    y = np.where(censored, followup, ttp)
    res = {"species": species, "setting": setting.name, "differs_from_setting": same, "n": n,
           "runs": len(rows), "failed": int((~ok).sum()), "wall_s": wall, "ran": outcome.ran, "sweep": path.name,
           "factors": used, "inert": inert, "followup_days": followup,
           "censored": int(censored.sum()), "eradicated": int(eradicated.sum()), "cut": int(cut.sum()),
           "cut_not_eradicated": int((cut & ~(nadir < robustness.ERADICATED_MM3)).sum()),
           "early": int((ok & (ttp <= 14.0)).sum()),
           "ttp_progressed_median": float(np.median(ttp[ok & ~censored])) if (ok & ~censored).any() else math.nan,
           "indices": {},
           # the machinery's own analysis cannot use an empty (censored) time; it is done below
           "notes": [n for n in outcome.notes if "no sensitivity indices" not in n]}
    if res["failed"]:
        res["notes"].append(f"{res['failed']} runs failed: no indices")
        return res
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for key, values in (("ttp", y), ("escaped", (~censored).astype(float)), ("log_ttp", np.log(y)),
                            ("final_volume", np.log10(np.maximum(final, 1e-30)))):
            if np.ptp(values) > 0:
                res["indices"][key] = analyze("sobol", sweep.factors, n, sweep.seed, values, sweep.options)
    return res


def _read_results(path: Path) -> list[dict]:
    with open(path, encoding="utf-8") as fh:
        next(fh)  # the units line
        rows = list(csv.DictReader(fh))
    for r in rows:
        for k, v in r.items():
            if k not in ("status", "error", "sample_id"):
                r[k] = float(v) if v not in ("", None) else math.nan
    return rows


# --- report --------------------------------------------------------------------------------------

def ranking(indices: dict, top: int = TOP) -> list[tuple]:
    """``(name, S1, S1_conf, ST, ST_conf)`` sorted by ST, the ``top`` largest."""
    rows = list(zip(indices["names"], indices["S1"], indices["S1_conf"], indices["ST"], indices["ST_conf"]))
    return sorted(rows, key=lambda r: -r[3])[:top]


LABELS = {"mouse": "mouse, 10 mg/kg twice weekly", "human": "patient, 10 mg/kg every two weeks"}


def figure(results: dict) -> str:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    FIGS.mkdir(parents=True, exist_ok=True)
    fig, axes = plt.subplots(1, len(results), figsize=(6.2 * len(results), 4.8))
    axes = np.atleast_1d(axes)
    for ax, (species, res) in zip(axes, results.items()):
        rows = ranking(res["indices"]["ttp"])[::-1]
        y = np.arange(len(rows))
        ax.barh(y + 0.2, [r[3] for r in rows], 0.4, xerr=[r[4] for r in rows], color="tab:red",
                capsize=2, label="total (ST)")
        ax.barh(y - 0.2, [r[1] for r in rows], 0.4, xerr=[r[2] for r in rows], color="tab:blue",
                capsize=2, label="first order (S1)")
        ax.set_yticks(y, [r[0] for r in rows], fontsize=8)
        ax.axvline(0, color="0.3", lw=0.8)
        ax.set_xlabel("Sobol' index of the time to progression\n(bars: 95 % bootstrap intervals)")
        ax.set_title(f"{LABELS[species]}\nN = {res['n']}, {res['runs']} runs, {len(res['factors'])} parameters; "
                     f"{res['censored'] / res['runs']:.0%} censored at {res['followup_days']:g} d", fontsize=9)
        ax.legend(fontsize=8, loc="lower right")
    fig.suptitle("Which parameters decide the time to escape from bevacizumab (top 10 by total index)",
                 fontsize=10)
    fig.tight_layout()
    name = "sensitivity_escape.png"
    fig.savefig(FIGS / name, dpi=110)
    plt.close(fig)
    return name


def _ci(x, c):
    return f"{x:.2f} ± {c:.2f}"


def report(results: dict, fig: str, total_wall: float, workers: int) -> str:
    lines = ["## Which parameters decide the time to escape: global sensitivity (Sobol')", "",
             "Generated by `python experiments/e03_sensitivity.py` through the sweep machinery "
             "(`configs/sweeps/sobol_escape_mouse.yaml`, `configs/sweeps/sobol_escape_human.yaml`; "
             "`simbev sweep FILE` reruns either); do not edit by hand.", "",
             "Output: the time to progression on bevacizumab monotherapy (days from the first dose until "
             "the tumor volume exceeds its running on-treatment nadir by 40 %). Inputs: every kinetic "
             "parameter over its documented plausible range (log-uniform where the range is positive, "
             "uniform where it starts at 0), the experimental knobs, molecular weights and body weight "
             "fixed; parameters that cannot change the tumor in a run without the mTOR inhibitor (its "
             "pharmacokinetics and effect, GLUT2) are left out, their indices being exactly 0. Indices: "
             "Saltelli's scheme on a scrambled Sobol' sequence and SALib's estimators; intervals are 95 % "
             "bootstrap intervals (1,000 resamples). ST well above S1 means the parameter acts through "
             "interactions.", "",
             "**Censoring.** A tumor that has not progressed by the end of the run is given its follow-up "
             "time (the time to progression censored at the horizon). This compresses the output where "
             "many samples are censored, and the indices are those of the censored time, not of an "
             "unobserved true time. A censored tumor is either controlled (alive, not regrown by 40 % "
             "over its nadir) or eradicated (its nadir below one cell, 1e-6 mm³); the table gives both. An "
             "eradicated tumor is never counted as progressing: at volumes of 1e-17 mm³ the solver's noise "
             "alone can exceed the 40 % margin over the nadir, and did in a few runs. As the tumor volume is driven towards 1e-20 mm³ and below, the compiled "
             f"solver's step size collapses; such a run (step budget {robustness.ESCAPE_MAX_STEPS:,}, against "
             "about 1,500 for a normal run) is repeated up to the last whole day before the failure and "
             f"counted with that shorter run (`{robustness.__name__}.escape_evaluation`); the table gives how "
             "many, and how many of them had not yet fallen below one cell. Supporting analyses of the same "
             "runs, in the last columns: whether the tumor progressed within the horizon at all (0/1), the "
             "log of the censored time, and log10 of the final volume. Negative S1 values are estimator "
             "noise (true indices are >= 0).", ""]
    lines += ["| | " + " | ".join(LABELS[s] for s in results) + " |", "|---|" + "---|" * len(results)]
    rowdefs = [
        ("base samples N (power of 2)", lambda r: f"{r['n']}"),
        ("parameters varied", lambda r: f"{len(r['factors'])}"),
        ("runs N (D + 2)", lambda r: f"{r['runs']}"),
        ("failed runs", lambda r: f"{r['failed']}"),
        ("horizon (follow-up from the first dose)", lambda r: f"{r['followup_days']:g} d"),
        ("censored: no progression within the horizon", lambda r: f"{r['censored']} ({r['censored'] / r['runs']:.0%})"),
        ("of which eradicated (nadir below one cell, < 1e-6 mm³)",
         lambda r: f"{r['eradicated']} ({r['eradicated'] / r['runs']:.0%})"),
        ("runs cut short at a solver failure (of which not eradicated)",
         lambda r: f"{r['cut']} ({r['cut_not_eradicated']})"),
        ("median time to progression of those that progressed", lambda r: f"{r['ttp_progressed_median']:.1f} d"),
        ("progressed within 14 days of the first dose (no lasting response)",
         lambda r: f"{r['early']} ({r['early'] / r['runs']:.0%})"),
        ("sum of S1 (1 = additive)", lambda r: f"{sum(r['indices']['ttp']['S1']):.2f}" if "ttp" in r["indices"] else "-"),
        ("wall time (this run)", lambda r: f"{r['wall_s']:.0f} s" + (" (resumed)" if r["ran"] < r["runs"] else "")),
    ]
    for label, fn in rowdefs:
        lines.append(f"| {label} | " + " | ".join(fn(r) for r in results.values()) + " |")
    for species, res in results.items():
        lines += ["", f"### {LABELS[species]}: top {TOP} by total index", ""]
        if "ttp" not in res["indices"]:
            lines.append("No indices: " + "; ".join(res["notes"]))
            continue
        ranges = {f.name: f for f in res["factors"]}
        extra = {k: dict((n, (s1, st)) for n, s1, _, st, _ in
                         zip(res["indices"][k]["names"], res["indices"][k]["S1"], res["indices"][k]["S1_conf"],
                             res["indices"][k]["ST"], res["indices"][k]["ST_conf"]))
                 for k in ("escaped", "log_ttp", "final_volume") if k in res["indices"]}
        lines += ["| rank | parameter | range (default, sampling) | S1 | ST | ST: progressed (0/1) | ST: log time "
                  "| ST: log10 final volume |", "|---|---|---|---|---|---|---|---|"]
        for k, (name, s1, c1, st, ct) in enumerate(ranking(res["indices"]["ttp"]), 1):
            f = ranges[name]
            lines.append(f"| {k} | `{name}` | [{f.low:g}, {f.high:g}] {f.unit} ({f.value:g}, {f.scale}) | "
                         f"{_ci(s1, c1)} | {_ci(st, ct)} | "
                         + (f"{extra['escaped'][name][1]:.2f}" if "escaped" in extra else "-") + " | "
                         + (f"{extra['log_ttp'][name][1]:.2f}" if "log_ttp" in extra else "-") + " | "
                         + (f"{extra['final_volume'][name][1]:.2f}" if "final_volume" in extra else "-") + " |")
        if res["inert"]:
            lines += ["", "Left out as inert (no effect on the tumor in this run): "
                      + ", ".join(f"`{n}`" for n in res["inert"]) + "."]
        if res["differs_from_setting"]:
            lines += ["", f"The base scenario (`{STUDIES[species][1].split('/')[-1]}`) differs from the findings "
                      f"setting `{res['setting']}` in: " + "; ".join(res["differs_from_setting"]) + "."]
    lines += ["", f"![Sobol' indices of the time to progression](figures/{fig})", "",
              f"Sample sizes were chosen so that the whole experiment runs in about five minutes on two "
              f"shared cores ({total_wall:.0f} s this time, {workers} workers); the intervals are as wide as "
              "that allows: the ranking of the leading parameters is clear where their intervals do not "
              "overlap, and indices below about the interval half-width are not distinguishable from 0. "
              "Raise `--mouse-n`/`--human-n` (powers of 2) for tighter ones.", ""]
    return "\n".join(lines)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--mouse-n", type=int, default=128, help="Sobol' base samples for mice (power of 2)")
    ap.add_argument("--human-n", type=int, default=64, help="Sobol' base samples for patients (power of 2)")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--no-docs", action="store_true")
    args = ap.parse_args(argv)
    for flag, n in (("--mouse-n", args.mouse_n), ("--human-n", args.human_n)):
        if n < 2 or n & (n - 1):
            print(f"e03: {flag}: found {n}; expected a power of 2 (e.g. 32, 64, 128)", file=sys.stderr)
            return 2
    t0 = time.time()
    results = {}
    for species, n in (("mouse", args.mouse_n), ("human", args.human_n)):
        res = run(species, n, args.workers)
        results[species] = res
        print(f"{species}: N = {n}, {res['runs']} runs, {res['failed']} failed, {res['censored']} censored "
              f"({res['censored'] / res['runs']:.0%}; {res['eradicated']} eradicated), {res['cut']} cut short "
              f"({res['cut_not_eradicated']} not eradicated), {res['wall_s']:.0f} s")
        if "ttp" in res["indices"]:
            for name, s1, c1, st, ct in ranking(res["indices"]["ttp"]):
                print(f"   {name:36s} S1 {_ci(s1, c1):14s} ST {_ci(st, ct)}")
        for note in res["notes"]:
            print("   note:", note)
    wall = time.time() - t0
    if not args.no_docs and all("ttp" in r["indices"] for r in results.values()):
        fig = figure(results)
        write_block(DOCS / "findings.md", "e03", report(results, fig, wall, args.workers))
        print(f"wrote the e03 block of docs/findings.md and docs/figures/{fig} ({wall:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
