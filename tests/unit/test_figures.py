"""Figures that read at a glance: legends off the data, no aliasing of dosing cycles, axis
labels from the one registry of display names."""
from __future__ import annotations

import dataclasses

import matplotlib

matplotlib.use("Agg")
import numpy as np  # noqa: E402
import pytest  # noqa: E402

import simbev  # noqa: E402
from simbev.plotting import run as plotting  # noqa: E402
from simbev.plotting.labels import axis_label, number_format  # noqa: E402
from simbev.simulation import dense  # noqa: E402

pytestmark = pytest.mark.slow


def _combo(every=0.5, days=12.0):
    treatments = (simbev.Regimen("bevacizumab", (5.0, "mg/kg"), "iv_bolus", start_day=2, every_days=3, doses=4),
                  simbev.Regimen("mtor_inhibitor", (2.0, "mg/kg"), "oral", start_day=2, every_days=1, doses=10))
    return simbev.Scenario(name="combo", species="mouse", duration_days=days, output_every_days=every,
                           treatments=treatments)


@pytest.fixture(scope="module")
def combo():
    return simbev.simulate(_combo())


def _legend_covers_data(fig) -> list[str]:
    """Data points of any line drawn inside the display box of any legend."""
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    legends = [a.get_legend() for a in fig.axes if a.get_legend() is not None]
    boxes = [leg.get_window_extent(renderer) for leg in legends]
    bad = []
    for ax in fig.axes:
        for line in ax.get_lines():
            if line.get_transform() is not ax.transData:
                continue  # dose ticks in axes coordinates
            pts = ax.transData.transform(np.column_stack(line.get_data()).astype(float))
            for box in boxes:
                inside = ((pts[:, 0] > box.x0) & (pts[:, 0] < box.x1) & (pts[:, 1] > box.y0) & (pts[:, 1] < box.y1))
                if inside.any():
                    bad.append(f"{line.get_label()} under a legend")
    return bad


def test_no_legend_covers_a_data_line(combo):
    """Guards against: legends drawn over the curves (the combination run's tumor-burden peak)."""
    import matplotlib.pyplot as plt
    fine = dense(combo)
    for fig in (plotting.plot_tumor_burden(fine).figure, plotting.plot_compartments(fine),
                plotting.plot_comparison([fine, dense(simbev.simulate(_combo(days=10)))])):
        assert _legend_covers_data(fig) == []
        plt.close(fig)


def test_the_legend_check_sees_a_covering_legend():
    """Negative control: a legend placed on top of a line is reported."""
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots()
    ax.plot(np.linspace(0, 1, 50), np.full(50, 0.95), label="top line")
    ax.set_ylim(0, 1)
    ax.legend(loc="upper right")
    assert _legend_covers_data(fig) != []
    plt.close(fig)


def test_plotted_sampling_is_finer_than_the_dosing_interval(combo):
    """Guards against: daily oral doses sampled every half day, which alias into a zig-zag."""
    import matplotlib.pyplot as plt
    fine = dense(combo)
    fig = plotting.plot_compartments(fine)
    panel = next(a for a in fig.axes if (a.get_legend() and a.get_legend().get_title().get_text() == "mTOR inhibitor"))
    x = next(ln for ln in panel.get_lines() if ln.get_label() == "plasma").get_xdata()
    assert np.max(np.diff(x)) <= 1.0 / 10  # the doses are 1 day apart
    # and the dense curve reaches the true peaks the coarse grid misses
    assert np.max(fine["mtori_central"]) > 1.2 * np.max(combo["mtori_central"])
    plt.close(fig)


def test_panels_of_drugs_not_given_are_left_out():
    import matplotlib.pyplot as plt
    untreated = simbev.simulate(simbev.Scenario(name="u", species="mouse", duration_days=3.0))
    titles = [t for t, _, _ in plotting.compartment_panels(untreated)]
    assert not any("bevacizumab" in t.lower() or "inhibitor" in t.lower() for t in titles)
    fig = plotting.plot_compartments(untreated)
    assert len([a for a in fig.axes if a.get_legend()]) == len(titles) == 6
    plt.close(fig)


def test_dose_ticks_on_every_panel(combo):
    import matplotlib.pyplot as plt
    fig = plotting.plot_compartments(dense(combo))
    for ax in fig.axes:
        if ax.get_legend() is None:
            continue  # a twin axis
        ticks = [ln for ln in ax.get_lines() if ln.get_marker() == "|"]
        assert len(ticks) == 2, ax.get_legend().get_title().get_text()
    plt.close(fig)


def test_axis_labels_come_from_the_registry(combo):
    import matplotlib.pyplot as plt
    ax = plotting.plot_tumor_burden(combo)
    assert ax.get_ylabel() == axis_label("tumor_volume", "mm^3") == "tumor volume (mm³)"
    assert ax.get_xlabel() == axis_label("time_days", "day") == "time (day)"
    plt.close(ax.figure)
    assert axis_label("treatments.0.dose", "mg/kg", ["bevacizumab"]) == "bevacizumab dose (mg/kg)"
    assert axis_label("tumor_volume@28", "mm^3") == "tumor volume on day 28 (mm³)"


def test_sweep_axes_use_display_names_and_one_number_format():
    from simbev.plotting.sweep import plot_heatmap
    from simbev.sweeps.designs import Factor
    sweep = type("S", (), {})()
    base = _combo()
    sweep.factors = (Factor("treatments.0.dose", values=(2.5, 10.0), unit="mg/kg"),
                     Factor("mif_expression", values=(0.5, 2.0), unit="1"))
    sweep.arms = (type("A", (), {"name": "combo", "scenario": base})(),)
    sweep.name, sweep.metric_units = "g", {"final_tumor_volume": "mm^3"}
    sweep.size = 4
    rows = [{"sample_id": i, "arm": 0, "values": {"treatments.0.dose": d, "mif_expression": m},
             "metrics": {"final_tumor_volume": v}, "status": "ok", "info": {}}
            for i, ((d, m), v) in enumerate(zip([(2.5, 0.5), (2.5, 2.0), (10.0, 0.5), (10.0, 2.0)],
                                                [2250.0, 335.0, 1200.5, 12.25]))]
    fig = plot_heatmap(rows, sweep, "final_tumor_volume")
    ax = fig.axes[0]
    assert ax.get_ylabel() == "bevacizumab dose (mg/kg)" and ax.get_xlabel() == "MIF expression"
    texts = [t.get_text() for t in ax.texts]
    assert not any("e+" in t for t in texts) and len({len(t.split(".")[-1]) if "." in t else 0 for t in texts}) == 1
    assert fig.axes[1].get_ylim()[0] == 0.0  # a volume's colour scale starts at 0


def test_number_format_is_one_format():
    fmt = number_format([2250.0, 335.0, 12.5])
    assert [fmt.format(v) for v in (2250.0, 335.0)] == ["2,250", "335"]
