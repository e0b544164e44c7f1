"""e05: each escape route alone lets a treated mouse tumour escape; without both it does not.

Mouse, bevacizumab 10 mg/kg twice weekly from day 14 (tumour ~700 mm^3) for eight weeks, in
four arms that differ only in the knobs (see :mod:`simbev.analysis.routes`). Escape: the tumour exceeds
its running on-therapy nadir by more than 40 % (the volumetric progression criterion). Prints a
markdown table and writes docs/figures/routes.png.

    python experiments/e05_routes.py [--out docs/figures/routes.png]
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

import simbev  # noqa: E402
from simbev.analysis import routes  # noqa: E402

COLORS = {"both": "black", "metabolic": "tab:orange", "immune": "tab:blue", "neither": "tab:gray"}


def table(outcomes) -> str:
    rows = ["| arm | volume at first dose (mm³) | nadir (mm³, day) | regrowth over nadir | escape (day after first dose) | volume at day 70 (mm³) |",
            "|---|---|---|---|---|---|"]
    for o in outcomes:
        ttp = f"{o.time_to_progression_days:.1f}" if o.escaped else "none in 8 weeks"
        rows.append(f"| {routes.ARM_LABELS[o.arm]} | {o.volume_at_start_mm3:.0f} | {o.nadir_mm3:.0f} (day {o.day_of_nadir:.1f}) "
                    f"| {o.regrowth_factor:.2f}x | {ttp} | {o.final_mm3:.0f} |")
    return "\n".join(rows)


def figure(results, untreated, endpoint, path: Path) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax, bx) = plt.subplots(1, 2, figsize=(12, 5.6), gridspec_kw={"width_ratios": [1.6, 1]})
    ax.plot(untreated.time, untreated["tumor_volume"], ls="--", color="tab:red", lw=1.2, label="untreated (default)")
    for arm, (res, o) in results.items():
        ax.plot(res.time, res["tumor_volume"], color=COLORS[arm], lw=2, label=routes.ARM_LABELS[arm])
        if o.escaped:
            t = routes.START_DAY + o.time_to_progression_days
            ax.plot([t], [np.interp(t, res.time, res["tumor_volume"])], "o", color=COLORS[arm], ms=7, mfc="white", mew=2)
    ax.axhline(endpoint, color="tab:red", lw=0.8, ls=":")
    ax.text(1, endpoint * 1.05, f"humane end point {endpoint:.0f} mm³", color="tab:red", fontsize=8)
    ax.axvspan(routes.START_DAY, routes.START_DAY + routes.THERAPY_DAYS, color="0.93", zorder=0)
    ax.text(routes.START_DAY + 0.5, 120, "bevacizumab 10 mg/kg twice weekly", fontsize=8, color="0.3")
    ax.set_yscale("log")
    ax.set_ylim(100, 6000)
    ax.set_xlabel("day")
    ax.set_ylabel("tumour volume (mm³)")
    ax.set_title("Treated mouse tumours, one route removed at a time (knobs act from day 0)\n(open circle: escape = 40 % regrowth over the on-therapy nadir)", fontsize=10)
    ax.legend(fontsize=7.5, loc="upper center", bbox_to_anchor=(0.5, -0.13), ncol=2, frameon=False)

    arms = list(results)
    factors = [results[a][1].regrowth_factor for a in arms]
    bx.bar(range(len(arms)), factors, color=[COLORS[a] for a in arms])
    bx.axhline(1.4, color="tab:red", ls="--", lw=1)
    bx.text(len(arms) - 0.5, 1.45, "escape threshold 1.4x", ha="right", fontsize=8, color="tab:red")
    bx.set_xticks(range(len(arms)))
    bx.set_xticklabels(["both\nroutes", "metabolic\nonly", "immune\nonly", "neither"], fontsize=9)
    for i, f in enumerate(factors):
        bx.text(i, f + 0.05, f"{f:.2f}x", ha="center", fontsize=9)
    bx.set_ylabel("largest regrowth over the running nadir\n(8 weeks on therapy)")
    bx.set_title("Regrowth on therapy by arm", fontsize=10)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=ROOT / "docs" / "figures" / "routes.png")
    args = ap.parse_args(argv)
    results = routes.run_arms()
    untreated = simbev.simulate(routes.scenario("both", treated=False))
    endpoint = simbev.load_parameter_set("mouse")["endpoint_tumor_volume"]
    print(table([o for _, o in results.values()]))
    ok = (results["metabolic"][1].escaped and results["immune"][1].escaped and not results["neither"][1].escaped)
    print(f"\nEach route alone escapes and neither does not: {'holds' if ok else 'DOES NOT HOLD'}")
    t_end = float(np.interp(endpoint, untreated["tumor_volume"], untreated.time))  # untreated volume rises monotonically
    print(f"Untreated tumour passes the humane end point ({endpoint:.0f} mm³) at day {t_end:.1f}.")
    figure(results, untreated, endpoint, args.out)
    print(f"figure: {args.out.relative_to(ROOT) if args.out.is_relative_to(ROOT) else args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
