"""The memo an analyst sends on: navigation, honest "what changed", observations, legible charts."""

import datetime as dt
import json
import random
import sqlite3
from statistics import NormalDist

import pytest

from risk.report import history, pdf, run_report

DAY = dt.date(2026, 11, 23)
WEEK = dt.timedelta(days=7)


def _definition(folder, scenario, *, seed='"keep"', extra=""):
    path = folder / "memo.toml"
    path.write_text(f'title = "Memo"\nscenario = "{scenario.name}"\nstress = ["bear"]\ndraws = 4000\nseed = {seed}\n'
                    f'output = "out"\nfilename = "memo-{{date}}"\nschedule = "0 7 * * MON"\n{extra}'
                    '[drivers]\nentities = ["alpha"]\ndraws = 400\n')
    return path


@pytest.fixture
def folder(tmp_path, small_scenario_text):
    (tmp_path / "small.toml").write_text(small_scenario_text.replace('name = "small"',
                                                                     'name = "small"\nas_of = "2025-12-31"'))
    return tmp_path


def _text(run):
    import pypdf

    reader = pypdf.PdfReader(str(run.pdf))
    return reader, [page.extract_text() for page in reader.pages]


def test_pages_are_numbered_bookmarked_and_listed_in_the_contents(folder):
    run = run_report(_definition(folder, folder / "small.toml"), day=DAY, log=None)
    reader, pages = _text(run)
    assert all(f"page {number}" in text for number, text in enumerate(pages, start=1))
    titles = [item.title for item in reader.outline]
    for title in ("Executive summary", "alpha", "beta", "sector", "Drivers", "History", "Methodology and provenance"):
        assert title in titles
    contents = pages[1]
    assert "Contents" in contents and "Executive summary" in contents and "Methodology and provenance" in contents
    # each bookmark leads to the page whose heading it names
    for item in reader.outline:
        assert item.title in pages[reader.get_destination_page_number(item)]


def test_the_cover_says_it_all(folder):
    run = run_report(_definition(folder, folder / "small.toml"), day=DAY, log=None)
    _, pages = _text(run)
    cover = " ".join(pages[0].split())
    sector = run.data["result"]["sector"]
    assert f"Bubble-risk grade {sector['grade']}:" in cover
    assert f"${sector['funding_gap_mean']:,.0f} B" in cover  # the funding gap in dollars
    assert "P(default)" in cover and "change since last" in cover and "first run" in cover
    assert "Data vintage: scenario small as of 2025-12-31" in cover
    assert "Grades (the worse of two)" in cover
    assert run.data["history"]["previous_day"] is None


def test_identical_inputs_give_identical_numbers_and_flag_nothing(folder):
    definition = _definition(folder, folder / "small.toml")
    first = run_report(definition, day=DAY, log=None)
    second = run_report(definition, day=DAY + WEEK, log=None)
    assert second.data["seed"] == first.data["seed"] == 20261123  # kept from the first run
    assert second.data["result"]["sector"] == {**first.data["result"]["sector"]}
    changes = second.data["history"]["changes"]
    assert changes and all(c["difference"] in (0.0, None) and not c["larger_than_noise"] for c in changes)
    assert second.data["history"]["inputs_changed"] == []
    cover = " ".join(_text(second)[1][0].split())
    assert "Inputs unchanged since 2026-11-23" in cover and "same seed" in cover


def test_a_changed_input_is_named(folder):
    definition = _definition(folder, folder / "small.toml")
    run_report(definition, day=DAY, log=None)
    scenario = folder / "small.toml"
    scenario.write_text(scenario.read_text().replace("revenue0 = 20", "revenue0 = 24"))
    later = run_report(definition, day=DAY + WEEK, log=None)
    changed = later.data["history"]["inputs_changed"]
    assert len(changed) == 1 and changed[0].startswith("scenario_sha256:")
    assert "Inputs changed since 2026-11-23: scenario_sha256" in " ".join(_text(later)[1][0].split())


def test_holm_flags_a_real_change_and_keeps_the_family_wise_false_alarm_rate():
    def entity(p, se):
        return {"p_shortfall": p, "p_shortfall_mcse": se, "p_distress": p, "p_distress_mcse": se,
                "funding_gap_mean": 10 * p, "funding_gap_mean_mcse": 10 * se, "grade": "high"}

    last = {"day": "2026-11-16", "entities": {name: entity(0.5, 0.01) for name in ("a", "b", "sector")}}
    # nine changes at z = 2.0 each: each beyond 1.96 alone, none beyond Holm's first step (2.77)
    shifted = {name: entity(0.5 + 2.0 * 0.01 * 2 ** 0.5, 0.01) for name in ("a", "b")}
    rows = history.changes_since(last, {"companies": shifted, "sector": shifted["a"]})
    assert len([r for r in rows if r["metric"] != "grade"]) == 9
    assert not any(r["larger_than_noise"] for r in rows if r["metric"] != "grade")
    # one real change (z = 6) is flagged, the noise around it is not
    moved = dict(shifted, a=entity(0.5 + 6 * 0.01 * 2 ** 0.5, 0.01))
    rows = history.changes_since(last, {"companies": moved, "sector": shifted["b"]})
    flagged = {(r["entity"], r["metric"]) for r in rows if r["larger_than_noise"]}
    assert ("a", "p_shortfall") in flagged and not any(name == "b" for name, _ in flagged)
    # under no change at all, the share of weeks with any false alarm is at most the family-wise 5 %
    rng = random.Random(7)
    weeks, alarms, uncorrected = 2000, 0, 0
    for _ in range(weeks):
        noisy = {name: entity(0.5 + rng.gauss(0, 0.01 * 2 ** 0.5), 0.01) for name in ("a", "b", "c")}
        rows = history.changes_since(last | {"entities": {n: entity(0.5, 0.01) for n in ("a", "b", "sector")}},
                                     {"companies": {n: noisy[n] for n in ("a", "b")}, "sector": noisy["c"]})
        alarms += any(r["larger_than_noise"] for r in rows)
        uncorrected += any(r["z"] > 1.96 for r in rows if r["metric"] != "grade")
    bound = 0.05 + 4 * (0.05 * 0.95 / weeks) ** 0.5  # 4 binomial standard errors above the nominal rate
    assert alarms / weeks <= bound
    # the same weeks tested at 1.96 each, uncorrected, alarm far more often: with three independent shifts
    # (each entity's three metrics move together here) about 1 - 0.95**3 = 14 % of weeks, 4 se below that
    expected = 1 - (2 * NormalDist().cdf(1.96) - 1) ** 3
    assert uncorrected / weeks >= expected - 4 * (expected * (1 - expected) / weeks) ** 0.5 > bound


def _memo_with_one_observation(folder, row):
    """The small scenario's memo with an observations file of one ``row`` (``company,date,...``)."""
    (folder / "obs.csv").write_text("company,date,quantity,value,rel_error,source\n" + row + "\n")
    return run_report(_definition(folder, folder / "small.toml", extra='observations = "obs.csv"\n'), day=DAY,
                      log=None)


def test_observations_after_the_vintage_weigh_the_memo(folder):
    run = _memo_with_one_observation(folder, "alpha,2026-06-30,annualized_revenue,11,0.1,test")
    observed = run.data["observations"]
    assert observed["after_as_of"] == 1 and observed["posterior"]["shift"]["alpha"]["se"] > 0
    text = " ".join(" ".join(_text(run)[1]).split())
    assert "What was reported since the vintage" in text and "after the reported numbers" in text


def test_observations_before_the_vintage_are_said_to_count_twice(folder):
    run = _memo_with_one_observation(folder, "alpha,2025-06-30,annualized_revenue,9,0.1,test")
    assert run.data["observations"]["posterior"] is None
    cover = " ".join(_text(run)[1][0].split())
    assert "none of the 1 observations is dated after it" in cover


def test_charts_have_no_colliding_labels_and_the_check_can_fail(folder):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    pdf.OVERLAPS.clear()
    run_report(_definition(folder, folder / "small.toml"), day=DAY, log=None)
    assert pdf.OVERLAPS == []
    fig, ax = plt.subplots(figsize=(2, 2))
    ax.set_xticks(range(30), [f"a long label {i}" for i in range(30)])
    fig.canvas.draw()
    assert pdf.overlapping_labels(fig)  # a crowded axis is caught
    plt.close(fig)


def test_break_even_is_shown_as_its_distribution(folder):
    run = run_report(_definition(folder, folder / "small.toml"), day=DAY, log=None)
    text = " ".join(" ".join(_text(run)[1]).split())
    assert "breaks even in 2026 / by 2027 / never (to 2029)" in text and "(median)" not in text


def test_a_history_written_before_inputs_were_recorded_still_works(folder):
    out = folder / "out"
    out.mkdir()
    with sqlite3.connect(out / "history.sqlite") as connection:  # the schema of the first release
        connection.executescript(history.SCHEMA)
        connection.execute("INSERT INTO runs VALUES ('memo', '2026-11-16', 't', 'small', 'abc', 5, 4000, '0.1.0', "
                           "'memo.pdf')")
        for name in ("alpha", "beta", "sector"):
            connection.execute("INSERT INTO headline VALUES ('memo', '2026-11-16', ?, 0.5, 0.01, 0.5, 0.01, 10, 1, "
                               "1.0, 'high')", (name,))
    run = run_report(_definition(folder, folder / "small.toml"), day=DAY, log=None)
    assert run.data["seed"] == 5  # "keep" takes the earlier run's seed
    assert run.data["history"]["inputs_changed"] == ["the earlier run did not record its inputs"]
    with sqlite3.connect(out / "history.sqlite") as connection:
        stored = connection.execute("SELECT inputs FROM runs WHERE day = ?", (DAY.isoformat(),)).fetchone()[0]
    assert json.loads(stored)["scenario"] == "small"
