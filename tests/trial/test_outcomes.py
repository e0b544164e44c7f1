"""Per-patient read-outs from ensemble metrics: death, PFS, OS, censoring, filters."""
import math

import numpy as np

from simbev.trial.outcomes import Design, metric_names, patient_outcome

DESIGN = Design(run_in_days=28, follow_up_days=112, assess_every_days=28, lethal_volume_mm3=50_000.0)


def _metrics(cells_weekly, start=10_000.0, tams=500.0, minimum=None):
    m = {"tumor_volume@0": start, "macrophage_total@28": tams,
         "min_tumor_volume": min(cells_weekly) if minimum is None else minimum}
    for k, v in enumerate(cells_weekly):
        m[f"tumor_volume@{28 + 7 * k:.10g}"] = v
    assert set(metric_names(DESIGN)) <= set(m)
    return m


def test_progression_then_censored_survival():
    cells = [20_000, 15_000, 10_000, 8_000, 7_000, 7_000, 7_000, 7_000, 10_000, 12_000, 14_000, 14_500, 15_000,
             16_000, 17_000, 18_000, 19_000]
    o = patient_outcome(_metrics(cells), DESIGN, 0.3)
    # scans at 0, 28, 56 days: 20000, 7000 (PR, -65 %), 10000 (>= 1.4 x 7000: progression at day 56)
    assert o["progression_day"] == 56
    assert o["pfs_days"] == 56 and o["pfs_event"]
    assert o["os_days"] == 112 and not o["os_event"]
    assert o["best_response"] == "SD"  # -65 % reached once (7000 = -65 %) but not confirmed
    assert o["passes"]


def test_death_interpolated_before_a_scan_ends_pfs():
    cells = [20_000, 25_000, 30_000, 35_000, 45_000, 55_000] + [60_000] * 11
    o = patient_outcome(_metrics(cells), DESIGN, 0.3)
    # 50 000 crossed between day 28 (45 000) and 35 (55 000): day 31.5
    assert math.isclose(o["death_day"], 31.5)
    assert o["os_event"] and math.isclose(o["os_days"], 31.5)
    # scan at day 28: 45000 >= 1.4 x 20000 -> progression at 28 comes first
    assert o["pfs_days"] == 28 and o["progression_day"] == 28


def test_filters():
    cells = [20_000] * 17
    # start 10 000 -> 20 000 in 28 days: doubling 28 d, passes
    assert patient_outcome(_metrics(cells), DESIGN, 0.3)["passes"]
    # shrinking untreated: fails growth
    assert patient_outcome(_metrics(cells, start=30_000), DESIGN, 0.3)["filter_failed"] == "untreated_growth"
    # TAMs 0.01 of cells: fails the TAM share filter
    assert patient_outcome(_metrics(cells, tams=50.0), DESIGN, 0.3)["filter_failed"] == "tam_share"
    # cured: minimum 0.5 % of baseline
    o = patient_outcome(_metrics(cells, minimum=100.0), DESIGN, 0.3)
    assert o["filter_failed"] == "cured_on_monotherapy"


def test_not_measurable_at_baseline_is_excluded():
    d = Design(run_in_days=28, follow_up_days=112, assess_every_days=28, lethal_volume_mm3=50_000.0)
    cells = [400.0] * 17
    m = _metrics(cells, start=200.0, tams=20.0)
    assert patient_outcome(m, d, 0.3)["filter_failed"] == "not_measurable_at_baseline"
