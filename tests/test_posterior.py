"""The PSIS posterior: a conjugate closed form, the k-hat warning, thread invariance, streaming = in memory."""

import math
from statistics import NormalDist

import numpy as np
import pytest

import risk
from risk.errors import InputError

MU0, S0 = math.log(10.0), 0.3  # prior of revenue0
AS_OF = "2026-01-01"


@pytest.fixture
def conjugate(degenerate, tmp_path):
    path = degenerate(revenue0=f'{{ dist = "lognormal", mu = {MU0!r}, sigma = {S0} }}', cost=4.0, opex=0.5)
    path.write_text(path.read_text().replace('name = "degenerate"', f'name = "degenerate"\nas_of = "{AS_OF}"'))

    def observe(value, rel_error, date=AS_OF):
        csv = tmp_path / f"obs-{value}-{rel_error}.csv"
        csv.write_text("company,date,quantity,value,rel_error,source\n"
                       f"solo,{date},annualized_revenue,{value},{rel_error},test\n")
        return csv

    return path, observe


@pytest.mark.slow
def test_conjugate_posterior_matches_the_closed_form(conjugate):
    path, observe = conjugate
    y, sigma = 8.5, 0.2
    result = risk.simulate(path, draws=200_000, seed=21, observations=observe(y, sigma), include_before_as_of=True)
    precision = 1 / S0**2 + 1 / sigma**2
    mean = (MU0 / S0**2 + math.log(y) / sigma**2) / precision
    exact = NormalDist(mean, precision ** -0.5).cdf(math.log(8.0))  # shortfall <=> revenue0 < 8
    post = result.posterior
    p = post.entities["solo"]["p_shortfall"]
    assert abs(p["p"] - exact) <= 4 * p["mcse"]
    assert post.reliable and post.khat < 0.7 and "k-hat" not in post.warning
    assert "count twice" in post.warning  # dated at as_of: forced in, and said so
    assert post.ess > 10_000
    # the prior side is the plain run, and the shift carries its own error
    assert post.shift["solo"]["p_shortfall_prior"] == result["solo"].p_shortfall["p"]
    assert post.shift["solo"]["difference"] > 4 * post.shift["solo"]["se"]
    revenue = post.priors["companies.solo.revenue0"]
    assert abs(revenue["posterior_mean"] - math.exp(mean + 0.5 / precision)) < 0.05


def test_a_conflicting_observation_gives_a_high_khat_and_a_warning(conjugate):
    path, observe = conjugate
    result = risk.simulate(path, draws=20_000, seed=2, observations=observe(60.0, 0.01), include_before_as_of=True)
    post = result.posterior
    assert not post.khat <= 0.7 and not post.reliable  # ArviZ 1.x reports nan when the tail fit fails
    assert "k-hat" in post.warning and "not reliable" in post.warning


def test_weights_do_not_depend_on_the_thread_count(small_scenario_file, tmp_path):
    csv = tmp_path / "obs.csv"
    csv.write_text("company,date,quantity,value,rel_error,source\nalpha,2026-01-01,annualized_revenue,11,0.1,t\n"
                   "beta,2026-06-30,capacity_gw,1.2,0.2,t\n")
    scenario = tmp_path / "s.toml"
    scenario.write_text(small_scenario_file.read_text().replace('name = "small"', 'name = "small"\nas_of = "2025-12-31"'))
    one = risk.simulate(scenario, draws=20_000, seed=5, threads=1, observations=csv).posterior.to_dict()
    two = risk.simulate(scenario, draws=20_000, seed=5, threads=2, observations=csv).posterior.to_dict()
    assert one == two


def test_streaming_psis_equals_psis_in_memory(conjugate):
    from risk import engine
    from risk.kernels import observe as ko
    from risk.kernels import simulate as k
    from risk.posterior import psis, smooth_tail, tail_size
    from risk.scenario.compile import compile_scenario
    from risk.scenario.observations import load_observations, observation_array

    path, observe = conjugate
    scenario = risk.load_scenario(path)
    observations = observation_array(load_observations(observe(7.0, 0.05), scenario), scenario)
    compiled = compile_scenario(scenario)
    n = 20_000
    everything = np.empty(n)
    engine.in_slots(ko.log_weights, engine.blocks(compiled, 2), k.SAMPLER_MC, engine.score_keys(compiled, 3), 0,
                    compiled.model, k.one_calibration(compiled.model), observations, everything)
    full, khat_full = psis(everything)  # ArviZ on all the draws at once
    m = tail_size(n)
    top = np.sort(everything)[-(m + 1):]
    tail, khat = smooth_tail(top, n)
    assert khat == pytest.approx(float(khat_full), abs=1e-12)
    order = np.argsort(everything)[-m:]
    np.testing.assert_allclose(tail, np.asarray(full)[order], rtol=0, atol=1e-12)


def test_the_shipped_observations_validate():
    from risk.scenario.observations import load_observations

    observations = load_observations("default", risk.load_scenario("default"))
    assert len(observations) >= 4 and all(o.source for o in observations)


@pytest.mark.parametrize("row, message", [
    ("solo2,2026-01-01,annualized_revenue,10,0.1,x", "did you mean 'solo'"),
    ("solo,01/01/2026,annualized_revenue,10,0.1,x", "not a date"),
    ("solo,2026-01-01,revenue,10,0.1,x", "unknown quantity"),
    ("solo,2026-01-01,annualized_revenue,-3,0.1,x", "positive"),
    ("solo,2026-01-01,annualized_revenue,10,zero,x", "not a number"),
])
def test_bad_observations_name_the_line_and_column(conjugate, tmp_path, row, message):
    path, _ = conjugate
    csv = tmp_path / "bad.csv"
    csv.write_text("company,date,quantity,value,rel_error,source\n" + row + "\n")
    with pytest.raises(InputError, match=message) as info:
        risk.simulate(path, draws=1000, seed=1, observations=csv)
    assert "line 2" in str(info.value)
