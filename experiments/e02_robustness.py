"""e02: how robust the findings are, one by one and all together, in three parameter boxes.

For each findings setting (:data:`simbev.findings.SETTINGS`: mouse 10 mg/kg twice weekly, mouse
5 mg/kg weekly, patient 10 mg/kg every two weeks), seeded parameter samples are drawn in three
boxes (:mod:`simbev.robustness`):

* ``pm20``: every kinetic parameter log-uniform within a factor 1.2 of its default ("+-20 %"),
* ``pm50``: the same within a factor 1.5 ("+-50 %"),
* ``range``: every kinetic parameter over its documented plausible range (the ``range`` of
  the parameter files), log-uniform where the range is positive, uniform where it starts at 0,

and every finding check is run on each sample. Reported: the share of samples in which each
check holds, and in which all hold together (joint), with 95 % Wilson intervals. The
experimental knobs, molecular weights and body weight stay fixed. The two mouse settings see
the same parameter samples (common random numbers). The parameters that were set to reach a
finding or a calibration target are listed, with how many values were tried, from their notes.

    python experiments/e02_robustness.py                  # 200 samples per box and setting
    python experiments/e02_robustness.py --samples 50     # a quicker look

Samples are checkpointed one per line in results/e02/samples.jsonl as they finish; a rerun
(also after an interruption) resumes. Each line carries a fingerprint of the model, the checks
and the sampler; lines of another version are ignored, never mixed in.
Writes its block of docs/findings.md (between ``<!-- robust:e02:begin -->`` and
``<!-- robust:e02:end -->``) and docs/figures/robustness_joint.png.
"""
from __future__ import annotations

import argparse
import hashlib
import inspect
import json
import math
import os
import re
import sys
import time
import warnings
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "experiments"))

import simbev  # noqa: E402
from _report_block import write_block  # noqa: E402

from simbev.sweeps import robustness  # noqa: E402
from simbev.analysis import findings  # noqa: E402
from simbev.sweeps import model_fingerprint as _model_version  # noqa: E402

DOCS = ROOT / "docs"
FIGS = DOCS / "figures"
CACHE = ROOT / "results" / "e02"
COMPUTED = 0
SEED = 20261127
#: (key, label, spread); spread None = the documented plausible ranges.
BOXES = (("pm20", "±20 %", 0.2), ("pm50", "±50 %", 0.5), ("range", "plausible range", None))
SPECIES = ("mouse", "human")
#: Words in a parameter note that say the value was set to reach a result.
TUNING_WORDS = re.compile(r"calibrat|set to|set so that|set with|scaled so that|raised so that|chosen|"
                          r"tried|tuned|fitted to|\bgave\b|failed at", re.I)
TUNING_LOG = DOCS / "tuning_log.md"  # the science tuning log: every value tried
#: Compiled-solver step budget per run. Runs at the defaults take 50-6,000 steps (a year of daily
#: oral dosing the most); a run that exhausts the budget counts as failed (not holding).
STEP_BUDGET = 100_000
LABELS = {"mouse_10mgkg_twice_weekly": "mouse, 10 mg/kg twice weekly",
          "mouse_5mgkg_weekly": "mouse, 5 mg/kg weekly", "human_10mgkg_q2w": "patient, 10 mg/kg q2w"}


def model_fingerprint() -> str:
    """Version of what a sample computes: the model, parameter, solver and dosing sources
    (the sweeps' fingerprint), the checks and the sampler."""
    h = hashlib.sha256(_model_version().encode())
    for module in (findings, robustness):
        source = Path(inspect.getsourcefile(module))
        # a package (the checks live in several modules): every module of it
        files = sorted(source.parent.glob("*.py")) if source.name == "__init__.py" else [source]
        for path in files:
            h.update(path.name.encode() + b"\0" + path.read_bytes())
    h.update(f"step budget {STEP_BUDGET}".encode())
    return h.hexdigest()[:16]


def sample_parameters(box: str, species: str, index: int) -> dict[str, float]:
    """The parameters of sample ``index`` of ``box`` for ``species`` (seeded: [SEED, box,
    species, index])."""
    b = [k for k, _, _ in BOXES].index(box)
    rng = np.random.default_rng([SEED, b, SPECIES.index(species), index])
    spread = BOXES[b][2]
    if spread is None:
        return robustness.sample_ranges(species, rng, findings.FIXED)
    return robustness.sample_box(species, rng, spread, findings.FIXED)


def _error_text(exc: BaseException) -> str:
    return " ".join(f"{type(exc).__name__}: {exc}".split())


def _checks_one_by_one(setting: str, params: dict) -> tuple[dict, dict]:
    """``({id: holds}, {id: error})``: each check run on its own (sharing the runs of its arms),
    so that a check that raises, or an arm whose solver fails, costs only the checks that need
    it. Falls back to :func:`findings.evaluate` where the checks are not listed as specs."""
    specs = getattr(findings, "SPECS", None)
    run_spec = getattr(sys.modules.get(getattr(findings.evaluate, "__module__", "")), "_run_spec", None)
    if specs is None or run_spec is None:
        return {c.id: bool(c.holds) for c in _evaluate(setting, params)}, {}
    s = findings.SETTINGS[setting]
    arms = findings.Arms(s, params)
    holds, errors = {}, {}
    for spec in specs:
        if s.species not in spec.species:
            continue
        try:
            holds[spec.id] = bool(run_spec(spec, arms, False).holds)
        except Exception as exc:  # noqa: BLE001 - this check fails on this sample; the others go on
            holds[spec.id], errors[spec.id] = False, _error_text(exc)
    return holds, errors


def _run_sample(args) -> dict:
    setting, box, index, fingerprint = args
    row = {"setting": setting, "box": box, "index": index, "model": fingerprint}
    params = sample_parameters(box, findings.SETTINGS[setting].species, index)
    t0 = time.perf_counter()
    with warnings.catch_warnings(), np.errstate(all="ignore"), robustness.solver_step_budget(STEP_BUDGET):
        warnings.simplefilter("ignore")
        try:
            row["holds"], errors = _checks_one_by_one(setting, params)
            if errors:
                row["check_errors"] = errors
        except Exception as exc:  # noqa: BLE001 - a failed sample is kept, with its error
            row["error"] = _error_text(exc)
    row["seconds"] = round(time.perf_counter() - t0, 3)
    return row


def _evaluate(setting: str, params: dict):
    """The finding checks of ``setting`` (without their negative controls, which robustness does
    not use, where :func:`findings.evaluate` can leave them out)."""
    try:
        return findings.evaluate(setting, params, controls=False)
    except TypeError:  # checks without negative controls
        return findings.evaluate(setting, params)


def _load(path: Path, fingerprint: str) -> dict:
    done = {}
    if path.exists():
        for line in path.read_text().splitlines():
            try:
                row = json.loads(line)
            except json.JSONDecodeError:  # a line cut by a kill: that sample runs again
                continue
            # rows of another model version are ignored; a sample that failed as a whole (before
            # the checks were run one by one) runs again
            if row.get("model") == fingerprint and "holds" in row:
                done[(row["setting"], row["box"], row["index"])] = row
    return done


def run_samples(samples: int, workers: int, settings=None, boxes=None, progress=True) -> dict:
    """Run (or resume) every sample; return ``{(setting, box, index): row}``."""
    settings = list(settings or findings.SETTINGS)
    boxes = list(boxes or [k for k, _, _ in BOXES])
    CACHE.mkdir(parents=True, exist_ok=True)
    path = CACHE / "samples.jsonl"
    fingerprint = model_fingerprint()
    done = _load(path, fingerprint)
    todo = [(s, b, i, fingerprint) for b in boxes for s in settings for i in range(samples)
            if (s, b, i) not in done]
    t0 = time.time()
    global COMPUTED  # how many samples this invocation computed (the rest came from the checkpoint)
    COMPUTED = len(todo)
    if todo:
        with open(path, "a") as fh, ProcessPoolExecutor(workers) as ex:
            futures = [ex.submit(_run_sample, job) for job in todo]
            for n, fut in enumerate(as_completed(futures), 1):
                row = fut.result()
                fh.write(json.dumps(row) + "\n")
                fh.flush()
                os.fsync(fh.fileno())
                done[(row["setting"], row["box"], row["index"])] = row
                if progress and n % 100 == 0:
                    print(f"  {n}/{len(todo)} samples, {time.time() - t0:.0f} s", file=sys.stderr)
    return {k: done[k] for k in done if k[0] in settings and k[1] in boxes and k[2] < samples}


def summarise(rows: dict, samples: int, ids_of: dict[str, list[str]], held_of: dict[str, list[str]]) -> dict:
    """``{setting: {box: holds_fractions + failed count}}``; ``joint_held``: the joint share of the
    checks in ``held_of`` (those that hold at the defaults)."""
    out = {}
    for s in findings.SETTINGS:
        for b, _, _ in BOXES:
            got = [rows.get((s, b, i)) for i in range(samples)]
            if any(r is None for r in got):
                continue
            table = robustness.holds_fractions([r.get("holds") for r in got], ids_of[s])
            table["joint_held"] = robustness.holds_fractions([r.get("holds") for r in got], held_of[s])["joint"]
            table["failed_runs"] = sum("holds" not in r or bool(r.get("check_errors")) for r in got)
            table["seconds"] = sum(r.get("seconds", 0.0) for r in got)
            out.setdefault(s, {})[b] = table
    return out


# --- the parameters set to reach a result ---------------------------------------------------------

def tuned_parameters() -> list[dict]:
    """Parameters whose note says they were set to reach a result, with the values the note
    reports as tried: a count the note states ("N values tried"), else every number in the note
    within a factor 2.5 of the value kept, other than those quoted only as "= x" (alternatives are
    reported near the value; an automatic count, to be read with the note), and the value kept."""
    out = []
    for species in SPECIES:
        for name, rec in simbev.load_parameter_set(species).records.items():
            note = rec.note or ""
            if not TUNING_WORDS.search(note):
                continue
            stated = re.search(r"(?<![\d.])(\d+) (?:values? )?(?:were )?tried|tried (\d+) values", note)
            # numbers, except those quoted as "= x" (a literature value), spreads ("+-20 %") and
            # quantities with another unit ("5 mg/kg", "12 weeks", "90 %")
            near = {float(x) for x in re.findall(r"(?<![\w.^/=+-])(?<!= )(?<!\+-)(\d+(?:\.\d+)?(?:e-?\d+)?)"
                                                 r"(?![\w^.-])(?!\s*(?:%|mg|weeks?\b|days?\b|d\b|h\b|cm|mm|nM|uM|mM|kg))",
                                                 note)}
            near = {x for x in near if rec.value > 0 and 1 / 2.5 <= x / rec.value <= 2.5} | {float(rec.value)}
            count = int(next(g for g in stated.groups() if g)) if stated else len(near)
            same = [o for o in out if o["parameter"] == name and o["value"] == rec.value and o["note"] == note]
            if same:  # a common parameter: one row for both species
                same[0]["species"] = "mouse, human"
                continue
            out.append({"parameter": name, "species": species, "value": rec.value, "unit": rec.unit,
                        "tried": count, "tried_values": sorted(near), "stated": bool(stated), "note": note})
    return out


def tuning_log(text: str | None = None) -> dict[str, dict]:
    """Parameters tried during the model revision, from its tuning log (if present).

    Two forms are read: ``name value (N values tried: ...)`` or ``(N tried: ...)`` after
    "ADOPTED" (a value adopted, with the count stated), and grids ``name {v1, v2, ...}`` (values
    explored). Only names of parameters count. Returns ``{name: {"count": N or None,
    "values": set, "adopted": value or None}}``.
    """
    if text is None:
        if not TUNING_LOG.exists():
            return {}
        text = TUNING_LOG.read_text(encoding="utf-8")
    names = set()
    for species in SPECIES:
        names |= set(simbev.load_parameter_set(species).records)
    flat = " ".join(text.split())
    out: dict[str, dict] = {}
    for m in re.finditer(r"\b([a-z][a-z0-9_]*) \{([^}]*)\}", flat):
        if m[1] in names:
            vals = {float(v) for v in re.findall(r"-?\d+(?:\.\d+)?(?:e-?\d+)?", m[2])}
            out.setdefault(m[1], {"count": None, "values": set(), "adopted": None})["values"] |= vals
    for block in re.split(r"ADOPTED:?", flat)[1:]:
        for m in re.finditer(r"\b([a-z][a-z0-9_]*) (-?\d+(?:\.\d+)?(?:e-?\d+)?) \((?:[^()]*?; )?(\d+) "
                             r"(?:values )?tried", block):
            if m[1] in names:
                e = out.setdefault(m[1], {"count": None, "values": set(), "adopted": None})
                e.update(count=int(m[3]), adopted=float(m[2]))
    return out


# --- report --------------------------------------------------------------------------------------

def _pct(entry) -> str:
    return f"{entry['fraction']:.0%} ({entry['low']:.0%}–{entry['high']:.0%})"


def figure(summary: dict, ids: list[str]) -> str:
    """Joint robustness by box and setting (bars), and each check (heat map; blank: not run)."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    FIGS.mkdir(parents=True, exist_ok=True)
    settings = list(summary)
    labels = LABELS
    colors = ["tab:red", "tab:orange", "tab:blue"]
    fig = plt.figure(figsize=(13, 7.5))
    grid_spec = fig.add_gridspec(2, 2, width_ratios=[1, 1.5])
    axes = [fig.add_subplot(grid_spec[0, 0]), fig.add_subplot(grid_spec[1, 0])]
    hx = fig.add_subplot(grid_spec[:, 1])
    width = 0.8 / len(settings)
    n = next(iter(next(iter(summary.values())).values()))["joint"]["n"]
    for ax, key_joint, title in zip(axes, ("joint", "joint_held"), (
            f"ALL finding checks hold ({n} samples per bar)",
            "all checks that hold at the defaults still hold")):
        for j, s in enumerate(settings):
            xs, ys, lo, hi = [], [], [], []
            for b, (key, _, _) in enumerate(BOXES):
                if key not in summary[s]:
                    continue
                e = summary[s][key][key_joint]
                xs.append(b + (j - (len(settings) - 1) / 2) * width)
                ys.append(100 * e["fraction"])
                lo.append(max(0.0, 100 * (e["fraction"] - e["low"])))
                hi.append(max(0.0, 100 * (e["high"] - e["fraction"])))
            ax.bar(xs, ys, width, yerr=[lo, hi], capsize=3, color=colors[j % 3], label=labels.get(s, s))
            for x, y, h in zip(xs, ys, hi):
                ax.text(x, y + h + 1.0, f"{y:.0f}", ha="center", va="bottom", fontsize=8)
        ax.set_xticks(range(len(BOXES)), [label for _, label, _ in BOXES])
        ax.set_ylim(0, 112)
        ax.set_ylabel("samples [%]")
        ax.set_title(title + "\n(95 % Wilson intervals)", fontsize=9)
    axes[0].legend(fontsize=8, loc="upper right")
    cols = [(s, key) for key, _, _ in BOXES for s in settings if key in summary[s]]
    grid = np.array([[100 * summary[s][key][i]["fraction"] if i in summary[s][key] else np.nan
                      for s, key in cols] for i in ids + ["joint"]])
    im = hx.imshow(np.ma.masked_invalid(grid), vmin=0, vmax=100, cmap="RdYlGn", aspect="auto")
    for r in range(grid.shape[0]):
        for c in range(grid.shape[1]):
            hx.text(c, r, "n/a" if np.isnan(grid[r, c]) else f"{grid[r, c]:.0f}", ha="center", va="center",
                    fontsize=7, color="0.5" if np.isnan(grid[r, c]) else "k")
    short = {"mouse_10mgkg_twice_weekly": "m 10", "mouse_5mgkg_weekly": "m 5", "human_10mgkg_q2w": "pt"}
    boxname = {"pm20": "±20 %", "pm50": "±50 %", "range": "range"}
    hx.set_xticks(range(len(cols)), [f"{short.get(s, s)}\n{boxname.get(key, key)}" for s, key in cols], fontsize=7)
    for c in range(len(settings), len(cols), len(settings)):
        hx.axvline(c - 0.5, color="k", lw=1.5)
    hx.axhline(len(ids) - 0.5, color="k", lw=1.5)
    hx.set_yticks(range(len(ids) + 1), ids + ["ALL"], fontsize=8)
    hx.set_title("Each check: samples in which it holds [%]\n(m 10 / m 5: mouse 10 mg/kg twice weekly / "
                 "5 mg/kg weekly; pt: patient; range: plausible range)", fontsize=9)
    fig.colorbar(im, ax=hx, fraction=0.04, label="%")
    fig.tight_layout()
    name = "robustness_joint.png"
    fig.savefig(FIGS / name, dpi=110)
    plt.close(fig)
    return name


def _errors(rows: dict) -> str:
    """The kinds of failure among ``rows``, counted: 'solver RODAS5P failed (more than ... steps)'."""
    kinds: dict[str, int] = {}
    for r in rows.values():
        found = ([("all checks", r["error"])] if "error" in r else []) + list(r.get("check_errors", {}).items())
        for check, err in found:
            kind = f"{check}: {err.split(' at t =')[0]}"
            kinds[kind] = kinds.get(kind, 0) + 1
    return "; ".join(f"{k} ({n}x)" for k, n in sorted(kinds.items(), key=lambda x: -x[1])) or "none"


def report(summary: dict, ids: list[str], samples: int, defaults: dict, fig: str, elapsed: float,
           workers: int, rows: dict) -> str:
    ids_of = {s: list(defaults[s]) for s in defaults}
    settings = list(summary)
    boxes = [(k, label) for k, label, _ in BOXES]
    range_info = {sp: robustness.range_factors(sp, findings.FIXED) for sp in SPECIES}
    head = [LABELS.get(s, s) for s in settings]
    lines = ["## Robustness: each finding and all together, in three parameter boxes", "",
             "Generated by `python experiments/e02_robustness.py"
             + (f" --samples {samples}" if samples != 200 else "") + "`; do not edit by hand.", "",
             f"For each setting, {samples} parameter samples per box, and every check run on each sample. "
             "Boxes: **±20 %**: every kinetic parameter log-uniform within a factor 1.2 of its default "
             "(`[v/1.2, 1.2 v]`); **±50 %**: the same within a factor 1.5 (`[v/1.5, 1.5 v]`); "
             "**plausible range**: every kinetic parameter over the range documented in the parameter "
             "files, log-uniform where the range is positive and uniform where it starts at 0 "
             f"({len(range_info['mouse'])} parameters varied in mice, {len(range_info['human'])} in patients). "
             "Parameters whose default is 0 stay at 0 in the ±20 % and ±50 % boxes. Fixed throughout: the "
             "experimental knobs, molecular weights and body weight ("
             + ", ".join(f"`{n}`" for n in sorted(findings.FIXED)) + "). Seeds: sample *i* of a box is drawn "
             f"by NumPy's `default_rng([{SEED}, box, species, i])` (box 0/1/2 = ±20 %/±50 %/range, species "
             f"0 = mouse, 1 = human, i = 0..{samples - 1}); both mouse settings see the same samples. "
             "Intervals: 95 % Wilson score intervals. *All checks*: the share of samples in which every "
             "finding check of the setting holds at once (" + "; ".join(
                 f"{LABELS.get(s, s)}: {len(ids_of[s])}" for s in settings)
             + " checks; the negative controls and the model-structure statements are not part of it; "
             "n/a: a check that is not run in that setting).", "",
             "Each check is run on its own (sharing the simulated arms), so that a check that raises an "
             "error, or an arm whose solver fails, costs only the checks that need it; such a check counts "
             f"as not holding. The compiled solver is given {STEP_BUDGET:,} steps per run (runs at the "
             "defaults take 50 to 6,000). Samples with at least one check failed by an error, per box "
             "(±20 %/±50 %/range): "
             + "; ".join(f"{LABELS.get(s, s)}: " + "/".join(str(summary[s][b]["failed_runs"]) for b, _ in boxes
                                                           if b in summary[s]) for s in settings)
             + f". Errors (check: error, how often): {_errors(rows)}.", "",
             "The ±20 % box is the one on which several parameters were set (table at the end): "
             "robustness there is not independent evidence. The wider boxes are.", "",
             "### All checks together", "",
             "| box | " + " | ".join(head) + " |", "|---|" + "---|" * len(settings),
             "| at the defaults | " + " | ".join("all hold" if all(defaults[s].values())
                                                 else "fails: " + ", ".join(k for k, v in defaults[s].items() if not v)
                                                 for s in settings) + " |"]
    for b, label in boxes:
        lines.append(f"| {label} | " + " | ".join(_pct(summary[s][b]["joint"]) if b in summary[s] else "-"
                                                  for s in settings) + " |")
    held = {s: [i for i in ids_of[s] if defaults[s][i]] for s in settings}
    if any(len(held[s]) < len(ids_of[s]) for s in settings):
        lines += ["", "Since not every check holds at the defaults, the share of samples in which every check "
                  "that holds at the defaults still holds (" + "; ".join(
                      f"{LABELS.get(s, s)}: {len(held[s])} of {len(ids_of[s])}" for s in settings) + "):", "",
                  "| box | " + " | ".join(head) + " |", "|---|" + "---|" * len(settings)]
        for b, label in boxes:
            lines.append(f"| {label} | " + " | ".join(_pct(summary[s][b]["joint_held"]) if b in summary[s]
                                                      else "-" for s in settings) + " |")
    lines += ["", f"![joint robustness by box and setting](figures/{fig})", "",
              "### Each check", "",
              "Share of samples in which the check holds (95 % Wilson interval).", ""]
    lines += ["| id | " + " | ".join(f"{h}, {label}" for b, label in boxes for h in head) + " |",
              "|---|" + "---|" * (len(boxes) * len(settings))]
    for i in ids + ["joint"]:
        cells = [_pct(summary[s][b][i]) if b in summary[s] and i in summary[s][b] else "n/a"
                 for b, _ in boxes for s in settings]
        lines.append(f"| {'**all**' if i == 'joint' else i} | " + " | ".join(cells) + " |")
    weakest = []
    for s in settings:
        for b, label in boxes:
            if b in summary[s]:
                worst = min((i for i in ids if i in summary[s][b] and i != "joint"),
                            key=lambda i: summary[s][b][i]["fraction"])
                weakest.append(f"{LABELS.get(s, s)}, {label}: {worst} ({summary[s][b][worst]['fraction']:.0%})")
    cpu = sum(summary[s][b]["seconds"] for s in settings for b, _ in boxes if b in summary[s])
    lines += ["", "Weakest check per setting and box: " + "; ".join(weakest) + ".", "",
              f"Run time of the invocation that wrote this: {elapsed:.0f} s wall with {workers} worker processes "
              f"on shared cores, computing {COMPUTED} samples (the others were taken from its checkpoint); "
              f"{cpu:.0f} s of evaluation over all {sum(summary[s][b]['joint']['n'] for s in settings for b, _ in boxes if b in summary[s])} "
              "samples.", ""]
    tuned = tuned_parameters()
    lines += ["### Parameters set to reach a finding or a target", "",
              "Every parameter whose note in the parameter files says that it was calibrated, set or chosen "
              "to reach a result, or reports what other values gave (searched for *calibrat*, *set to*, "
              "*set so that*, *set with*, *scaled so that*, *raised so that*, *chosen*, *tried*, *tuned*, "
              "*fitted to*, *gave*, *failed at*). *Values tried* is the count a note states, else an "
              "automatic count of the value kept and the other values of the same quantity the note names "
              "(numbers within a factor 2.5 of the value, not literature values quoted as \"= x\", not "
              "quantities in other units): a lower bound. Read the note for what each gave.", "",
              "| parameter | species | value | unit | values tried | note |", "|---|---|---|---|---|---|"]
    for t in tuned:
        others = [f"{v:g}" for v in t["tried_values"] if v != t["value"]]
        if t["stated"]:
            tried = f"{t['tried']} (stated)"
        elif others:
            tried = f"{t['tried']} (automatic: also {', '.join(others)})"
        else:
            tried = "1 (no other value named)"
        note = t["note"].replace("|", "/")
        lines.append(f"| `{t['parameter']}` | {t['species']} | {t['value']:g} | {t['unit']} | {tried} | {note} |")
    log = tuning_log()
    listed = {t["parameter"] for t in tuned}
    extra = {k: v for k, v in log.items() if k not in listed}
    if log:
        lines += ["", "Values tried during this release's model revision (its tuning log: values adopted with "
                  "the number tried, and grids of values explored; a parameter explored but left at its "
                  "value is listed too, since keeping it was a choice among the values tried):", "",
                  "| parameter | value now (mouse / human) | values tried | adopted in the revision |",
                  "|---|---|---|---|"]
        for name, e in sorted(log.items()):
            now = " / ".join(f"{simbev.load_parameter_set(sp).records[name].value:g}" for sp in SPECIES)
            kept = e["adopted"]
            if kept is None and e["values"]:  # explored: the value kept (of the species it was explored in)
                nows = [simbev.load_parameter_set(sp).records[name].value for sp in SPECIES]
                mid = float(np.mean([math.log(v) for v in e["values"] if v > 0] or [0.0]))
                kept = min(nows, key=lambda v: abs(math.log(v) - mid) if v > 0 else math.inf)
            values = sorted(e["values"] | ({kept} if kept is not None else set()))
            count = e["count"] if e["count"] is not None else len(values)
            shown = ", ".join(f"{v:g}" for v in values)
            lines.append(f"| `{name}` | {now} | {count}" + (f" ({shown})" if shown else "") + " | "
                         + (f"{e['adopted']:g}" if e["adopted"] is not None else f"no: kept {kept:g}") + " |")
        lines += ["", "The log was written during the revision: where the value adopted there differs from the "
                  "value now, the value was changed again afterwards (see the parameter's note above)."]
        if extra:
            lines += ["", "Of these, not flagged in the parameter notes: "
                      + ", ".join(f"`{k}`" for k in sorted(extra)) + "."]
    return "\n".join(lines) + "\n"


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--samples", type=int, default=200, help="samples per box and setting (default 200)")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--no-docs", action="store_true", help="print the tables only")
    args = ap.parse_args(argv)
    if args.samples < 1:
        print(f"e02: --samples: found {args.samples}; expected a positive integer", file=sys.stderr)
        return 2
    t0 = time.time()
    defaults = {s: {c.id: bool(c.holds) for c in _evaluate(s, {})} for s in findings.SETTINGS}
    ids_of = {s: list(d) for s, d in defaults.items()}
    ids = [i for i in findings.FINDINGS if any(i in v for v in ids_of.values())]
    ids += [i for v in ids_of.values() for i in v if i not in ids]
    rows = run_samples(args.samples, args.workers)
    held_of = {s: [i for i in ids_of[s] if defaults[s][i]] for s in ids_of}
    summary = summarise(rows, args.samples, ids_of, held_of)
    elapsed = time.time() - t0
    for s in summary:
        for b, label, _ in BOXES:
            e = summary[s][b]
            print(f"{s:27s} {label:16s} joint {_pct(e['joint']):18s} held-at-defaults joint "
                  f"{_pct(e['joint_held']):18s} failed {e['failed_runs']}  "
                  + " ".join(f"{i} {e[i]['fraction']:.0%}" for i in ids_of[s]))
    if not args.no_docs:
        fig = figure(summary, ids)
        write_block(DOCS / "findings.md", "e02", report(summary, ids, args.samples, defaults, fig, elapsed,
                                                         args.workers, rows))
        print(f"wrote the e02 block of docs/findings.md and docs/figures/{fig} ({elapsed:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
