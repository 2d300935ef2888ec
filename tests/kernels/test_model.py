"""The contract schedule of a block of draws against a direct, one-draw-at-a-time reading of model.md."""

import math

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from risk.kernels import model as m


def _reference_gw(ramp, delay, delivered, horizon):
    # year t sits at ramp position t - delay; the ramp is 0 before it starts,
    # flat after its last year, and linear between whole years
    gw = []
    lag = -delay  # position t - delay = (t + floor(lag)) + fraction, fraction from lag alone
    fraction = lag - math.floor(lag)
    for t in range(horizon):
        i = t + math.floor(lag)
        last = len(ramp) - 1
        if i < -1:
            value = 0.0
        elif i >= last:
            value = ramp[last]
        else:
            left = ramp[i] if i >= 0 else 0.0
            value = left + fraction * (ramp[i + 1] - left)
        gw.append(delivered * value)
    return np.array(gw)


def _block(delays, delivered, lease, kind):
    n_variates = 7
    values = np.zeros((n_variates, m.LANES))
    values[0, :] = delays
    values[1, :] = delivered
    values[2, :] = lease
    values[3, :] = 45.0  # capex per GW
    values[4, :] = 5.0  # life
    values[5, :] = 80.0  # power price
    values[6, :] = 1.2  # PUE
    contract_var = np.full((1, m.N_CONTRACT_PRIORS + 2), -1, dtype=np.int64)
    contract_var[0, [m.RAMP_DELAY, m.DELIVERED_FRACTION, m.LEASE_PER_GW_YEAR, m.CAPEX_PER_GW, m.LIFE_YEARS,
                     m.POWER_PRICE, m.PUE]] = [0, 1, 2, 3, 4, 5, 6]
    contract_var[0, m.CONTRACT_COMPANY] = 0
    contract_var[0, m.CONTRACT_KIND] = kind
    return values, contract_var


delays = st.lists(st.one_of(st.floats(0.0, 2.0), st.floats(-3.0, 12.0), st.sampled_from([0.0, 0.5, 1.0, 7.0, 8.0])),
                  min_size=m.LANES, max_size=m.LANES)


@settings(max_examples=60, deadline=None)
@given(delays, st.lists(st.floats(0.0, 5.0), min_size=8, max_size=8), st.floats(0.1, 1.0),
       st.sampled_from([m.KIND_LEASE, m.KIND_OWNED]))
def test_contract_capacity_matches_the_one_draw_reading(delay_list, ramp, delivered, kind):
    horizon = 8
    values, contract_var = _block(np.array(delay_list), delivered, 11.0, kind)
    contract_ramp = np.array([ramp])
    contract_gw = np.zeros((1, horizon, m.LANES))
    contract_unit = np.zeros((1, m.LANES))
    scratch = np.empty(m.N_SCRATCH_ROWS * m.LANES)
    m.contract_capacity(values, contract_var, contract_ramp, 0, horizon, contract_gw, contract_unit, scratch)
    for lane, delay in enumerate(delay_list):
        expected = _reference_gw(ramp, delay, delivered, horizon)
        np.testing.assert_array_equal(contract_gw[0, :, lane], expected)
    unit = 11.0 if kind == m.KIND_LEASE else 45.0 / 5.0 + m.GWYEAR_MWH_PER_1000 * 1.2 * 80.0 / 1000.0
    np.testing.assert_array_equal(contract_unit[0], unit)
