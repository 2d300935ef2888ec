"""Each plot renders under Agg, on the given Axes, with the artists it promises."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402

import risk  # noqa: E402
from risk.plots import PALETTE, SECTOR_COLOR, entity_color  # noqa: E402


@pytest.fixture
def small_result(small_scenario_file):
    return risk.simulate(small_scenario_file, draws=20_000, seed=3)


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def test_fan_chart(small_result):
    fig, ax = plt.subplots()
    assert small_result.plot_fan("revenue", company="alpha", ax=ax) is ax
    assert len(ax.collections) == 2  # the 5-95 % and 25-75 % bands
    labels = [line.get_label() for line in ax.get_lines()]
    assert "median" in labels and "compute cost (median)" in labels
    assert "$B" in ax.get_ylabel()
    assert [int(t) for t in ax.get_xticks()] == [2026, 2027, 2028, 2029]
    fig.canvas.draw()


def test_coverage_plot_marks_one_and_the_shortfall(small_result):
    ax = small_result.plot_coverage()
    assert any(list(line.get_xdata()) == [1.0, 1.0] for line in ax.get_lines())  # the 1.0 line
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert sum("P(shortfall)" in t for t in labels) == 3
    assert ax.get_xscale() == "log"
    ax.figure.canvas.draw()


def test_breakeven_plot(small_result):
    ax = small_result.plot_breakeven()
    assert len(ax.patches) == 3 * 5  # three entities x (four years + none)
    assert [t.get_text() for t in ax.get_xticklabels()][-1] == "none"


def test_sensitivity_plots(small_scenario_file):
    found = risk.sensitivity(small_scenario_file, entity="alpha", draws=2000, sobol_draws=400, seed=2, bootstrap=40)
    ax = found.plot_tornado(top=5)
    assert len(ax.patches) == 10 and len(ax.get_yticklabels()) == 5
    ax = found.plot_drivers(top=4)
    assert len(ax.patches) == 4 and ax.get_xlim() == (0.0, 1.0)


def test_colours_are_stable():
    names = ["alpha", "beta", "sector"]
    assert entity_color(names, "alpha") == PALETTE[0] and entity_color(names, "beta") == PALETTE[1]
    assert entity_color(names, "sector") == SECTOR_COLOR
