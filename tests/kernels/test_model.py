"""The v2 model kernels against an independent plain-numpy reading of model.md, draw for draw."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from risk import engine
from risk.kernels import model as m
from risk.kernels import simulate as k
from risk.scenario.compile import compile_scenario



def _block_of(compiled, first_draw, seed=5):
    block = engine.blocks(compiled, 1)[0]
    k.set_block(block.draws, first_draw, first_draw + m.LANES)
    k.simulate_block(block, k.SAMPLER_MC, engine.score_keys(compiled, seed), block.no_scores, compiled.model)
    return block


@pytest.mark.parametrize("first_draw", [0, 64 * 7])
def test_kernels_agree_with_the_numpy_reading_draw_for_draw(small_scenario, reference, first_draw):
    compiled = compile_scenario(small_scenario)
    block = _block_of(compiled, first_draw)
    names = small_scenario.entities
    exercised = {"cancelled": 0, "raised": 0, "supply_bound": 0, "demand_bound": 0, "closed": 0, "default": 0}
    for lane in range(m.LANES):
        paths, results, market = reference.simulate_draw(small_scenario, block.values[:, lane], block.z[:, lane])
        np.testing.assert_array_equal(block.market[:, lane] > 0, market)
        for e, name in enumerate(names):
            expected = results[name]
            got = {key: block.outcomes[row, e, lane] for key, row in (
                ("coverage", m.OUT_COVERAGE), ("coverage_economic", m.OUT_COVERAGE_ECONOMIC),
                ("gap", m.OUT_GAP), ("pv_earnings", m.OUT_PV_EARNINGS), ("pv_cost", m.OUT_PV_COST),
                ("new_money", m.OUT_NEW_MONEY))}
            for key, value in got.items():
                assert value == pytest.approx(expected[key], rel=1e-9, abs=1e-9), (name, key, lane)
            assert block.outcomes[m.OUT_BREAKEVEN, e, lane] == expected["breakeven"]
            assert (block.outcomes[m.OUT_DISTRESS, e, lane] > 0) == expected["distress"]
            assert (block.outcomes[m.OUT_DEFAULT, e, lane] > 0) == expected["default"]
            if name == "sector":
                assert block.outcomes[m.OUT_COVERAGE_POOLED, e, lane] == pytest.approx(expected["coverage_pooled"],
                                                                                      rel=1e-9)
                continue
            path = paths[name]
            for key, row in (("revenue", m.PATH_REVENUE), ("earnings", m.PATH_EARNINGS), ("cost", m.PATH_COST),
                             ("sbc", m.PATH_SBC), ("runrate", m.PATH_RUNRATE), ("capacity", m.PATH_CAPACITY),
                             ("cancelled", m.PATH_CANCELLED), ("inflow", m.PATH_INFLOW)):
                np.testing.assert_allclose(block.paths[row, e, :, lane], path[key], rtol=1e-9, atol=1e-9,
                                           err_msg=f"{name} {key} lane {lane}")
            np.testing.assert_allclose(block.paths[m.PATH_RAISED, e, :, lane], expected["raised"], rtol=1e-9,
                                       atol=1e-9)
            exercised["cancelled"] += path["cancelled"].sum() > 0
            exercised["raised"] += expected["new_money"] > 0
            exercised["supply_bound"] += bool(np.any(block.paths[m.PATH_SUPPLY_BOUND, e, :, lane] > 0))
            exercised["demand_bound"] += bool(np.any(block.paths[m.PATH_SUPPLY_BOUND, e, :, lane] == 0))
            exercised["default"] += expected["default"]
        exercised["closed"] += not all(market)
    # the small scenario exercises every term of the model in these 64 draws
    assert all(count > 0 for count in exercised.values()), exercised


def test_annuity_at_rate_zero_is_capex_over_life(reference):
    for life in (2.5, 4.0, 6.5):
        assert m.annuity(0.0, life) == 1.0 / life
        assert m.annuity(1e-9, life) == pytest.approx(1.0 / life, rel=1e-8)
        assert m.annuity(0.08, life) == pytest.approx(reference.annuity(0.08, life), rel=1e-14)


def test_relative_flow_is_the_logarithmic_mean():
    for log_growth in (-0.7, -1e-5, 0.0, 3e-5, 0.2, 1.5):
        expected = 1.0 if log_growth == 0 else math.expm1(log_growth) / log_growth
        assert m.relative_flow(log_growth, math.exp(log_growth)) == pytest.approx(expected, rel=1e-14)


def _one_contract_model(kind, horizon, ramp, financing):
    n_variates = 8
    contract_var = np.full((1, m.N_CONTRACT_PRIORS + 2), -1, dtype=np.int64)
    contract_var[0, [m.RAMP_DELAY, m.DELIVERED_FRACTION, m.LEASE_PER_GW_YEAR, m.CAPEX_PER_GW, m.LIFE_YEARS,
                     m.POWER_PRICE, m.PUE]] = [0, 1, 2, 3, 4, 5, 6]
    contract_var[0, m.CONTRACT_COMPANY] = 0
    contract_var[0, m.CONTRACT_KIND] = kind
    scenario_var = np.full(m.N_SCENARIO_VAR, -1, dtype=np.int64)
    scenario_var[m.SV_FINANCING] = 7
    empty = np.zeros(0, dtype=np.int64)
    model = m.Model(empty, np.zeros((n_variates, 6)), np.zeros((1, 1)), empty, np.zeros(5, dtype=np.int64), empty,
                    np.zeros((0, 0)), np.zeros((1, m.N_COMPANY_COLUMNS), dtype=np.int64), contract_var,
                    np.array([ramp]), np.array([[0.0, m.ALL_BINDING, 0.0]]), np.zeros((0, 5)), scenario_var,
                    0.0, horizon)
    values = np.zeros((n_variates, m.LANES))
    values[2:8, :] = np.array([11.0, 45.0, 5.0, 80.0, 1.2, financing])[:, None]
    return model, values


delays = st.lists(st.one_of(st.floats(0.0, 2.0), st.floats(-3.0, 12.0), st.sampled_from([0.0, 0.5, 1.0, 7.0, 8.0])),
                  min_size=m.LANES, max_size=m.LANES)


@settings(max_examples=60, deadline=None)
@given(delays, st.lists(st.floats(0.0, 5.0), min_size=8, max_size=8), st.floats(0.1, 1.0),
       st.sampled_from([m.KIND_LEASE, m.KIND_OWNED]), st.sampled_from([0.0, 0.07]))
def test_contract_capacity_matches_the_one_draw_reading(reference, delay_list, ramp, delivered, kind, financing):
    horizon = 8
    model, values = _one_contract_model(kind, horizon, ramp, financing)
    values[0, :] = delay_list
    values[1, :] = delivered
    contract_gw = np.zeros((1, horizon, m.LANES))
    contract_unit = np.zeros((1, m.LANES))
    scratch = np.empty(m.N_SCRATCH_ROWS * m.LANES)
    m.contract_capacity(values, model, 0, contract_gw, contract_unit, scratch)
    for lane, delay in enumerate(delay_list):
        expected = np.array([delivered * reference.ramp_at(ramp, t - delay) for t in range(horizon)])
        np.testing.assert_allclose(contract_gw[0, :, lane], expected, rtol=1e-12, atol=1e-12)
    unit = 11.0 if kind == m.KIND_LEASE else 45.0 * reference.annuity(financing, 5.0) + 8.76 * 1.2 * 80.0 / 1000.0
    np.testing.assert_allclose(contract_unit[0], unit, rtol=1e-14)
