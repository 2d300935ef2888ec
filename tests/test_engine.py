"""The engine's blocks of draws: what a run streams is exactly what its draws are, one by one."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

import risk
from risk import engine
from risk.kernels import simulate as k
from risk.scenario.compile import compile_scenario


def _records(compiled, indices, seed=11):
    return engine.record(compiled, z_keys=engine.score_keys(compiled, seed), indices=np.asarray(indices),
                         keep_values=True, keep_paths=True, threads=2)


def test_streamed_counts_are_the_counts_of_the_recorded_draws(small_scenario):
    # 1,000 draws in chunks of 100: every chunk ends on a partial block of lanes
    compiled = compile_scenario(small_scenario)
    draws, horizon = 1_000, compiled.horizon
    streamed = engine.run(compiled, draws=draws, seed=11, threads=2, chunk_size=100)
    recorded = _records(compiled, np.arange(draws))
    shortfalls = (recorded.coverage < 1.0).sum(axis=0)
    distress = recorded.distress.sum(axis=0)
    np.testing.assert_array_equal(streamed.counts[:, k.C_SHORTFALL], shortfalls)
    np.testing.assert_array_equal(streamed.counts[:, k.C_DISTRESS], distress)
    for e in range(compiled.n_companies + 1):
        years = np.bincount(recorded.breakeven[:, e], minlength=horizon + 1)
        np.testing.assert_array_equal(streamed.counts[e, k.C_BREAKEVEN:k.C_BREAKEVEN + horizon + 1], years)
    # the same values summed in another order: equal to rounding
    np.testing.assert_allclose(streamed.sums[:, k.F_GAP], recorded.funding_gap.sum(axis=0), rtol=1e-12)
    revenue = recorded.paths[:, 0].sum(axis=0)  # (n_entities, horizon)
    np.testing.assert_allclose(streamed.sums[:, k.F_REVENUE:k.F_REVENUE + horizon], revenue, rtol=1e-12)


@settings(max_examples=15, deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=10**9), min_size=1, max_size=150))
def test_a_draw_does_not_depend_on_its_place_in_a_block(small_scenario_session_file, indices):
    # the same draw in another lane, another block or alone gives the same bits
    import risk

    compiled = compile_scenario(risk.load_scenario(small_scenario_session_file))
    together = _records(compiled, indices)
    reversed_order = _records(compiled, indices[::-1])
    alone = _records(compiled, indices[:1])
    np.testing.assert_array_equal(together.values, reversed_order.values[::-1])
    np.testing.assert_array_equal(together.paths, reversed_order.paths[::-1])
    np.testing.assert_array_equal(together.coverage, reversed_order.coverage[::-1])
    np.testing.assert_array_equal(together.values[:1], alone.values)
    np.testing.assert_array_equal(together.funding_gap[:1], alone.funding_gap)


def test_rqmc_is_the_same_on_one_and_two_threads(small_scenario_file):
    one = risk.simulate(small_scenario_file, draws=200_000, seed=42, sampler="rqmc", threads=1).to_dict()
    two = risk.simulate(small_scenario_file, draws=200_000, seed=42, sampler="rqmc", threads=2).to_dict()
    one.pop("provenance"), two.pop("provenance")
    assert one == two
