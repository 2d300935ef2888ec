"""Backtests (``risk.backtest``) and calibration without double counting."""

import datetime as dt
import json
import math

import numpy as np
import pytest
from scipy import stats

import risk
from risk import engine
from risk.errors import InputError
from risk.kernels import simulate as k
from risk.scenario.compile import compile_scenario, variate_names

AS_OF = dt.date(2025, 12, 31)
HEADER = "company,date,quantity,value,rel_error,source\n"


@pytest.fixture
def dated(tmp_path, small_scenario_text):
    path = tmp_path / "dated.toml"
    path.write_text(small_scenario_text.replace('name = "small"', f'name = "small"\nas_of = "{AS_OF}"'))
    return path


def _synthetic(path, count, seed, sigma=0.1):
    """``count`` observations of alpha's run-rate, each from its own draw of the prior predictive."""
    scenario = risk.load_scenario(path)
    compiled = compile_scenario(scenario)
    records = engine.record(compiled, z_keys=engine.score_keys(compiled, seed), draws=count, keep_values=True,
                            keep_paths=True)
    revenue0 = records.values[:, variate_names(scenario).index("companies.alpha.revenue0")]
    run_rate = records.paths[:, list(k.KEPT_PATHS).index(k.PATH_RUNRATE), 0, 0]  # alpha, end of year 1
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(count):
        date = AS_OF + dt.timedelta(days=int(rng.integers(30, 330)))
        tau = (date - AS_OF).days / 365.25
        # the run-rate path is exponential within the year (kernels.observe.model_at), read independently here
        modelled = math.exp(math.log(revenue0[i]) + tau * (math.log(run_rate[i]) - math.log(revenue0[i])))
        rows.append(f"alpha,{date},annualized_revenue,{modelled * math.exp(sigma * rng.standard_normal()):.6g},"
                    f"{sigma},synthetic\n")
    return HEADER + "".join(rows)


@pytest.mark.slow
def test_pits_of_data_from_the_prior_itself_are_uniform(dated, tmp_path):
    csv = tmp_path / "synthetic.csv"
    csv.write_text(_synthetic(dated, 150, seed=777))
    found = risk.backtest(dated, observations=csv, draws=20_000, seed=3)
    pits = np.array([row["pit"] for row in found.scored])
    assert len(pits) == 150 and not found.excluded
    assert stats.kstest(pits, "uniform").pvalue > 0.001
    assert all(0 <= row["pit_mcse"] < 0.01 for row in found.scored)


def test_a_backtest_flags_an_observation_in_the_tail_and_excludes_what_the_vintage_knew(dated, tmp_path):
    csv = tmp_path / "obs.csv"
    csv.write_text(HEADER + "alpha,2025-06-30,annualized_revenue,9,0.05,known\n"
                            "alpha,2026-06-30,annualized_revenue,500,0.05,absurd\n")
    found = risk.backtest(dated, observations=csv, draws=5_000, seed=1)
    assert [row["date"] for row in found.excluded] == ["2025-06-30"]
    assert "as_of" in found.excluded[0]["reason"]
    (row,) = found.scored
    assert row["tail"] and row["pit"] > 0.995 and not row["in_band_90"]
    assert found.summary()["verdict"] == "overconfident"
    payload = found.to_dict()
    assert payload["schema"] == "risk.backtest/1"
    json.dumps(payload, allow_nan=False)


def test_the_late_2025_vintage_passes_its_own_backtest():
    # article-2025 was widened (its [judgement] history view) until 2026's run-rates lie inside its tails
    found = risk.backtest("article-2025", draws=64 * 2000, seed=1)
    assert found.summary()["scored"] == 4 and not found.overconfident
    without = risk.backtest("article-2025", draws=20_000, seed=1, judgement=False)
    assert without.overconfident  # its central calibration alone was not


def test_calibrate_leaves_out_what_the_vintage_knew(dated, tmp_path):
    both = tmp_path / "both.csv"
    both.write_text(HEADER + "alpha,2025-10-01,annualized_revenue,9,0.05,known\n"
                             "alpha,2026-06-30,annualized_revenue,14,0.1,later\n")
    later = tmp_path / "later.csv"
    later.write_text(HEADER + "alpha,2026-06-30,annualized_revenue,14,0.1,later\n")
    found = risk.simulate(dated, draws=20_000, seed=4, observations=both).posterior
    alone = risk.simulate(dated, draws=20_000, seed=4, observations=later).posterior
    assert [o["date"] for o in found.excluded] == ["2025-10-01"]
    assert found.entities == alone.entities  # the excluded row weighs nothing
    forced = risk.simulate(dated, draws=20_000, seed=4, observations=both, include_before_as_of=True).posterior
    assert not forced.excluded and "count twice" in forced.warning
    early = tmp_path / "early.csv"
    early.write_text(HEADER + "alpha,2025-10-01,annualized_revenue,9,0.05,known\n")
    with pytest.raises(InputError, match="counts them twice"):
        risk.simulate(dated, draws=2_000, seed=4, observations=early)


def test_calibrating_a_judged_scenario_weighs_the_mixture(dated, tmp_path):
    path = tmp_path / "judged.toml"
    path.write_text(dated.read_text() + '\n[judgement]\n"companies.alpha.revenue0" = '
                    '{ op = "scale", dist = "lognormal", p5 = 0.8, p95 = 1.25, source = "t" }\n')
    csv = tmp_path / "later.csv"
    csv.write_text(HEADER + "alpha,2026-06-30,annualized_revenue,14,0.1,later\n")
    one = risk.simulate(path, draws=16 * 1000, seed=4, calibrations=16, observations=csv, threads=1)
    two = risk.simulate(path, draws=16 * 1000, seed=4, calibrations=16, observations=csv, threads=2)
    assert one.posterior.to_dict() == two.posterior.to_dict()
    assert one.posterior.draws == 16_000 and one.judgement is not None


def test_calibrate_is_simulate_with_observations(dated, tmp_path):
    csv = tmp_path / "later.csv"
    csv.write_text(HEADER + "alpha,2026-06-30,annualized_revenue,14,0.1,later\n")
    found = risk.calibrate(dated, observations=csv, draws=5000, seed=2).posterior.to_dict()
    assert found == risk.simulate(dated, observations=csv, draws=5000, seed=2).posterior.to_dict()
    # with a change on top: the same as simulating the changed scenario, and the change is in provenance
    change = {"companies.alpha.revenue0": risk.Scale(1.2)}
    changed = risk.calibrate(risk.load_scenario(dated), observations=csv, draws=5000, seed=2, overrides=change)
    assert changed.posterior.to_dict() == risk.simulate(dated, observations=csv, draws=5000, seed=2,
                                                        overrides=change).posterior.to_dict()
    assert changed.posterior.to_dict() != found
    assert changed.to_dict()["changes"] == ["scale companies.alpha.revenue0 x 1.2"]
