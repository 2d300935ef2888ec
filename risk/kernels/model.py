"""The year-by-year coverage model of ``design/model.md`` for a block of draws.

Pure functions of arrays and scalars.  Index constants name the slots of the
compiled scenario (``risk.scenario.compile`` fills them); entity ``n_companies``
is the sector, the sum of the companies.

Kernels compile with ``error_model="numpy"``: a float division by zero
yields inf or nan as IEEE-754 says instead of raising, which spares a branch
per division; validation keeps every divisor (life_years, halflife, ...)
positive.
"""

import math

import numpy as np
from numba import njit

from .elementary import exp, log1p

# Company priors: column of ``company_var`` (index of the first variate).
REVENUE0 = 0
GROWTH_INITIAL = 1
GROWTH_TERMINAL = 2
GROWTH_HALFLIFE = 3
GROWTH_VOL = 4
OPEX_RATIO_INITIAL = 5
OPEX_RATIO_TERMINAL = 6
TRAINING_SHARE = 7
UTILIZATION = 8  # per year: ``horizon`` consecutive variates
YIELD_PER_GW = 9
PRICE_DECLINE = 10
CASH0 = 11
N_COMPANY_PRIORS = 12

# Contract priors: column of ``contract_var`` (-1 when the kind does not use it).
RAMP_DELAY = 0
DELIVERED_FRACTION = 1
LEASE_PER_GW_YEAR = 2
CAPEX_PER_GW = 3
LIFE_YEARS = 4
POWER_PRICE = 5
PUE = 6
N_CONTRACT_PRIORS = 7

KIND_LEASE = 0
KIND_OWNED = 1

_LN2 = math.log(2.0)
GWYEAR_MWH_PER_1000 = 8.76  # 8,760 h: $/MWh x GW-year / 1000 = $B


# Rows of a block's ``paths`` array (paths[row, entity, year, lane]).
PATH_REVENUE = 0
PATH_EARNINGS = 1
PATH_COST = 2
PATH_SUPPLY_BOUND = 3  # 1.0 where capacity, not demand, bound revenue
PATH_CAPACITY = 4  # GW online
N_PATHS = 5

# Extra columns of ``company_var`` and ``contract_var`` after the priors.
COMPANY_SHOCK_Z = N_COMPANY_PRIORS  # index in z of the first growth shock
CONTRACT_COMPANY = N_CONTRACT_PRIORS
CONTRACT_KIND = N_CONTRACT_PRIORS + 1


# Draws per block: the model runs on blocks of draws, one draw per SIMD lane
# (eight AVX-512 vectors of doubles).  Wide enough that the independent
# vectors of a year hide the latency of its exponential and of the
# year-to-year recursion (single thread, default scenario: 16 lanes 750,
# 32 lanes 717, 64 lanes 631-665, 128 lanes 652-667 ns per draw); a block's
# scratch (~240 KB) stays in L2.  Loops over lanes take their bound from an
# array's shape, not from this constant: LLVM unrolls a loop of constant
# trip count fully and then does not vectorise it (measured).
LANES = 64

# Rows of ``company_paths``'s scratch (one company at a time): row ``r`` of
# lane ``lane`` is ``scratch[r * LANES + lane]``.  A flat array with this
# fixed layout lets LLVM prove that the rows do not overlap, so the loops over
# lanes compile to SIMD code (with 2-D rows of run-time stride they did not).
_CUMULATIVE = 0
_EXCESS = 1  # 2^(-(t-1)/halflife)
_DECAY = 2
_LOG_GROWTH_1 = 3
_LOG_GROWTH_TERM = 4
_SUPPLY_PER_GW = 5
_REVENUE = 6
_EARNINGS = 7
_BOUND = 8
_SHIFT = 9  # a contract's ramp shift (a whole number) and fraction
_FRACTION = 10
_DELIVERED = 11
_GW = 12
N_SCRATCH_ROWS = 13


@njit(cache=True, error_model="numpy", inline="always")
def contract_capacity(values, contract_var, contract_ramp, k, horizon, contract_gw, contract_unit, scratch):
    """Fill ``contract_gw[k, t, lane]`` (GW of contract ``k`` online in year ``t``) and ``contract_unit[k, lane]``.

    The unit cost is $B per GW-year: the lease price, or for an owned
    contract capex over its life plus power.  A ramp delay shifts the whole
    ramp later; before its first year the ramp is 0, after its last year it
    stays at its last value, and fractional delays interpolate linearly
    between years.  Branch-free over lanes (a loop over the block's few
    distinct ramp shifts, each lane selecting its own), so it runs as SIMD
    code.
    """
    lanes = values.shape[1]  # == LANES; a run-time bound, see the note at LANES
    last_year = contract_ramp.shape[1] - 1
    delivered = contract_var[k, DELIVERED_FRACTION]
    delay = contract_var[k, RAMP_DELAY]
    if contract_var[k, CONTRACT_KIND] == KIND_LEASE:
        lease = contract_var[k, LEASE_PER_GW_YEAR]
        for lane in range(lanes):
            contract_unit[k, lane] = values[lease, lane]
    else:
        capex, life = contract_var[k, CAPEX_PER_GW], contract_var[k, LIFE_YEARS]
        pue, power = contract_var[k, PUE], contract_var[k, POWER_PRICE]
        for lane in range(lanes):
            contract_unit[k, lane] = (values[capex, lane] / values[life, lane]
                                      + GWYEAR_MWH_PER_1000 * values[pue, lane] * values[power, lane] / 1000.0)
    # Year t sits at ramp position t - delay = (t + shift) + fraction.  A
    # shift below -(horizon + 1) or above the last year changes nothing (the
    # ramp is 0 before its start and flat after its end), so it is clamped:
    # a block then holds a few distinct shifts (typically 2 or 3), and the
    # loop runs over those instead of gathering ramp values lane by lane
    # (LLVM does not vectorise gathers here).
    lowest_shift = last_year
    highest_shift = -(horizon + 1)
    for lane in range(lanes):
        lag = -values[delay, lane]
        whole = math.floor(lag)
        shift = min(max(whole, -(horizon + 1.0)), float(last_year))
        scratch[_SHIFT * LANES + lane] = shift
        scratch[_FRACTION * LANES + lane] = lag - whole
        scratch[_DELIVERED * LANES + lane] = values[delivered, lane]
        lowest_shift = min(lowest_shift, int(shift))
        highest_shift = max(highest_shift, int(shift))
    for t in range(horizon):
        for shift in range(lowest_shift, highest_shift + 1):
            left = _ramp_at(contract_ramp, k, t + shift)
            right = _ramp_at(contract_ramp, k, t + shift + 1) if t + shift < last_year else left
            for lane in range(lanes):
                gw = scratch[_DELIVERED * LANES + lane] * (left + scratch[_FRACTION * LANES + lane] * (right - left))
                if scratch[_SHIFT * LANES + lane] == shift:
                    scratch[_GW * LANES + lane] = gw
        for lane in range(lanes):
            contract_gw[k, t, lane] = scratch[_GW * LANES + lane]


@njit(cache=True, error_model="numpy")
def _ramp_at(contract_ramp, k, i):
    # the ramp at whole year i: 0 before it starts, its last value after it ends
    if i < 0:
        return 0.0
    return contract_ramp[k, min(i, contract_ramp.shape[1] - 1)]


@njit(cache=True, error_model="numpy", inline="always")
def company_paths(values, z, company_var, contract_var, contract_ramp, factor_z, demand_loading,
                  horizon, paths, cash0, contract_gw, contract_unit, scratch):
    """Fill the per-entity, per-year paths of a block of ``LANES`` draws (``design/model.md``).

    Parameters
    ----------
    values : numpy.ndarray of shape (n_variates, LANES)
        Sampled prior values, one column per draw.
    z : numpy.ndarray of shape (n_z, LANES)
        Normal scores of the draws (growth shocks and demand factor included).
    company_var : numpy.ndarray of int64, shape (n_companies, N_COMPANY_PRIORS + 1)
        Index in ``values`` of each company prior; last column: index in ``z``
        of the company's first idiosyncratic growth shock.
    contract_var : numpy.ndarray of int64, shape (n_contracts, N_CONTRACT_PRIORS + 2)
        Index in ``values`` of each contract prior (-1 when its kind does not
        use it), then the owning company and the kind.
    contract_ramp : numpy.ndarray of shape (n_contracts, horizon)
        Contracted capacity online in each year, GW.
    factor_z : int
        Index in ``z`` of the first common demand-factor score.
    demand_loading : float
        Correlation of any two companies' growth shocks, in [0, 1].
    horizon : int
        Number of years ``T``.
    paths : numpy.ndarray of shape (N_PATHS, n_companies + 1, horizon, LANES)
        Output: revenue, earnings, compute cost, supply-bound flags and GW
        online; the last entity is the sector (supply-bound where any
        company is).
    cash0 : numpy.ndarray of shape (n_companies + 1, LANES)
        Output: starting cash of each entity.
    contract_gw : numpy.ndarray of shape (n_contracts, horizon, LANES)
        Output: each contract's GW online by year (see ``contract_capacity``).
    contract_unit : numpy.ndarray of shape (n_contracts, LANES)
        Output: each contract's unit cost, $B per GW-year.
    scratch : numpy.ndarray of shape (N_SCRATCH_ROWS * LANES,)
        Scratch for one company's or contract's running state (layout above).

    Notes
    -----
    Lanes (draws) are the innermost loop, so the year-by-year recursion runs
    as SIMD code over the block; arrays are indexed, never sliced (a slice
    costs a reference count).
    """
    lanes = values.shape[1]  # == LANES; a run-time bound, see the note at LANES
    n_companies = company_var.shape[0]
    sector = n_companies
    common = math.sqrt(demand_loading)
    own = math.sqrt(1.0 - demand_loading)
    for row in range(N_PATHS):
        for e in range(n_companies + 1):
            for t in range(horizon):
                for lane in range(lanes):
                    paths[row, e, t, lane] = 0.0
    for k in range(contract_var.shape[0]):
        contract_capacity(values, contract_var, contract_ramp, k, horizon, contract_gw, contract_unit, scratch)
        c = contract_var[k, CONTRACT_COMPANY]
        for t in range(horizon):
            for lane in range(lanes):
                gw = contract_gw[k, t, lane]
                paths[PATH_CAPACITY, c, t, lane] += gw
                paths[PATH_COST, c, t, lane] += gw * contract_unit[k, lane]
    for c in range(n_companies):
        revenue0 = company_var[c, REVENUE0]
        vol = company_var[c, GROWTH_VOL]
        opex_1 = company_var[c, OPEX_RATIO_INITIAL]
        opex_term = company_var[c, OPEX_RATIO_TERMINAL]
        shock_0 = company_var[c, COMPANY_SHOCK_Z]
        utilization_0 = company_var[c, UTILIZATION]
        price_decline = company_var[c, PRICE_DECLINE]
        for lane in range(lanes):
            scratch[_CUMULATIVE * LANES + lane] = 0.0
            scratch[_EXCESS * LANES + lane] = 1.0
            scratch[_DECAY * LANES + lane] = exp(-_LN2 / values[company_var[c, GROWTH_HALFLIFE], lane])
            # revenue per GW online: serving share x yield, eroded by the price decline
            scratch[_SUPPLY_PER_GW * LANES + lane] = ((1.0 - values[company_var[c, TRAINING_SHARE], lane])
                                                      * values[company_var[c, YIELD_PER_GW], lane])
            cash0[c, lane] = values[company_var[c, CASH0], lane]
        growth_initial = company_var[c, GROWTH_INITIAL]
        growth_terminal = company_var[c, GROWTH_TERMINAL]
        for lane in range(lanes):
            scratch[_LOG_GROWTH_1 * LANES + lane] = log1p(values[growth_initial, lane])
            scratch[_LOG_GROWTH_TERM * LANES + lane] = log1p(values[growth_terminal, lane])
        for t in range(horizon):
            # the recursion writes only the scratch (SIMD over lanes) ...
            for lane in range(lanes):
                shock = common * z[factor_z + t, lane] + own * z[shock_0 + t, lane]
                excess = scratch[_EXCESS * LANES + lane]
                log_growth_term = scratch[_LOG_GROWTH_TERM * LANES + lane]
                cumulative = scratch[_CUMULATIVE * LANES + lane] + (
                    log_growth_term + (scratch[_LOG_GROWTH_1 * LANES + lane] - log_growth_term) * excess
                    + values[vol, lane] * shock)
                scratch[_CUMULATIVE * LANES + lane] = cumulative
                demand = values[revenue0, lane] * exp(cumulative)
                supply = (paths[PATH_CAPACITY, c, t, lane] * values[utilization_0 + t, lane]
                          * scratch[_SUPPLY_PER_GW * LANES + lane])
                scratch[_BOUND * LANES + lane] = 1.0 if supply < demand else 0.0
                revenue = min(supply, demand)
                scratch[_REVENUE * LANES + lane] = revenue
                opex_ratio = values[opex_term, lane] + (values[opex_1, lane] - values[opex_term, lane]) * excess
                scratch[_EARNINGS * LANES + lane] = revenue * (1.0 - opex_ratio)
                scratch[_EXCESS * LANES + lane] = excess * scratch[_DECAY * LANES + lane]
                scratch[_SUPPLY_PER_GW * LANES + lane] *= 1.0 - values[price_decline, lane]
            # ... then goes to the paths
            for lane in range(lanes):
                bound = scratch[_BOUND * LANES + lane]
                paths[PATH_SUPPLY_BOUND, c, t, lane] = bound
                paths[PATH_SUPPLY_BOUND, sector, t, lane] = max(paths[PATH_SUPPLY_BOUND, sector, t, lane], bound)
                paths[PATH_REVENUE, c, t, lane] = scratch[_REVENUE * LANES + lane]
                paths[PATH_EARNINGS, c, t, lane] = scratch[_EARNINGS * LANES + lane]
    for lane in range(lanes):
        cash0[sector, lane] = 0.0
    for c in range(n_companies):
        for lane in range(lanes):
            cash0[sector, lane] += cash0[c, lane]
        for row in (PATH_REVENUE, PATH_EARNINGS, PATH_COST, PATH_CAPACITY):
            for t in range(horizon):
                for lane in range(lanes):
                    paths[row, sector, t, lane] += paths[row, c, t, lane]


# Rows of ``entity_outcomes``'s output (outcomes[row, entity, lane]).
OUT_COVERAGE = 0
OUT_GAP = 1  # funding gap, PV
OUT_PV_EARNINGS = 2
OUT_PV_COST = 3
OUT_BREAKEVEN = 4  # 0-based index of the first year with E_t >= I_t; horizon when none
OUT_DISTRESS = 5  # 1.0 when cash C_t falls below zero in some year, else 0.0
N_OUTCOMES = 6

# Rows of its scratch (flat, as ``company_paths``'s).
_FACTOR = 0
_DISCOUNT_STEP = 1
_CASH = 2
_PV_EARNINGS = 3
_PV_COST = 4
_GAP = 5
_BREAKEVEN = 6
_DISTRESS = 7


@njit(cache=True, error_model="numpy")
def entity_outcomes(paths, cash0, discount, horizon, outcomes, scratch):
    """Per-draw outcomes of every entity of a block (``design/model.md``).

    Parameters
    ----------
    paths, cash0 : numpy.ndarray
        The block's paths and starting cash (:func:`company_paths`).
    discount : numpy.ndarray of shape (LANES,)
        Each draw's discount rate.
    horizon : int
        Number of years ``T``.
    outcomes : numpy.ndarray of shape (N_OUTCOMES, n_entities, LANES)
        Output: coverage ``PV(E) / PV(I)``, funding gap ``sum PV(max(I_t -
        E_t, 0))``, PV of earnings and of compute cost, break-even year
        index and distress flag (rows ``OUT_*``).
    scratch : numpy.ndarray of shape (N_SCRATCH_ROWS * LANES,)
        Flat scratch (its layout lets the loops over lanes vectorise).

    Notes
    -----
    Year-dependent choices (loss year or not, first break-even year, cash
    below zero) are selects, not branches: they vary from draw to draw, and
    the loops over lanes run as SIMD code.
    """
    lanes = discount.shape[0]  # == LANES; a run-time bound, see the note at LANES
    for e in range(cash0.shape[0]):
        for lane in range(lanes):
            scratch[_FACTOR * LANES + lane] = 1.0
            scratch[_DISCOUNT_STEP * LANES + lane] = 1.0 / (1.0 + discount[lane])
            scratch[_CASH * LANES + lane] = cash0[e, lane]
            scratch[_PV_EARNINGS * LANES + lane] = 0.0
            scratch[_PV_COST * LANES + lane] = 0.0
            scratch[_GAP * LANES + lane] = 0.0
            scratch[_BREAKEVEN * LANES + lane] = horizon
            scratch[_DISTRESS * LANES + lane] = 0.0
        for t in range(horizon):
            for lane in range(lanes):
                factor = scratch[_FACTOR * LANES + lane] * scratch[_DISCOUNT_STEP * LANES + lane]
                scratch[_FACTOR * LANES + lane] = factor
                earnings = paths[PATH_EARNINGS, e, t, lane]
                cost = paths[PATH_COST, e, t, lane]
                scratch[_PV_EARNINGS * LANES + lane] += earnings * factor
                scratch[_PV_COST * LANES + lane] += cost * factor
                loss = cost > earnings
                scratch[_GAP * LANES + lane] += (cost - earnings) * factor if loss else 0.0
                breakeven = scratch[_BREAKEVEN * LANES + lane]
                scratch[_BREAKEVEN * LANES + lane] = t if breakeven == horizon and not loss else breakeven
                cash = scratch[_CASH * LANES + lane] + (earnings - cost)
                scratch[_CASH * LANES + lane] = cash
                scratch[_DISTRESS * LANES + lane] = 1.0 if cash < 0.0 else scratch[_DISTRESS * LANES + lane]
        for lane in range(lanes):
            pv_cost = scratch[_PV_COST * LANES + lane]
            pv_earnings = scratch[_PV_EARNINGS * LANES + lane]
            outcomes[OUT_COVERAGE, e, lane] = pv_earnings / pv_cost if pv_cost > 0.0 else np.inf
            outcomes[OUT_GAP, e, lane] = scratch[_GAP * LANES + lane]
            outcomes[OUT_PV_EARNINGS, e, lane] = pv_earnings
            outcomes[OUT_PV_COST, e, lane] = pv_cost
            outcomes[OUT_BREAKEVEN, e, lane] = scratch[_BREAKEVEN * LANES + lane]
            outcomes[OUT_DISTRESS, e, lane] = scratch[_DISTRESS * LANES + lane]
