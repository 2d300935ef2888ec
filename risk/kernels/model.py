"""The year-by-year coverage model of ``design/model.md`` (v2) for a block of draws.

Pure functions of arrays and scalars.  Index constants name the slots of the
compiled scenario (``risk.scenario.compile`` fills them; ``Model`` carries
them into the kernels); entity ``n_companies`` is the sector.

Kernels compile with ``error_model="numpy"``: a float division by zero
yields inf or nan as IEEE-754 says instead of raising, which spares a branch
per division; validation keeps every divisor (life_years, halflife, ...)
positive.
"""

import math
from collections import namedtuple

import numpy as np
from ._jit import njit

from .elementary import CENTRAL_HIGH, CENTRAL_LOW, exp, log1p, normal_quantile, normal_quantile_central

# Company priors: column of ``company_var`` (index of the variate).
REVENUE0 = 0
GROWTH_INITIAL = 1
GROWTH_TERMINAL = 2
GROWTH_HALFLIFE = 3
GROWTH_VOL = 4
OPEX_RATIO_INITIAL = 5
OPEX_RATIO_TERMINAL = 6
SBC_RATIO_INITIAL = 7
SBC_RATIO_TERMINAL = 8
TRAINING_SHARE = 9
TRAINING_SHARE_DECAY = 10
UTILIZATION = 11  # per year: ``horizon`` consecutive variates
YIELD_PER_GW = 12  # the variate of yield_per_gw, or of revenue_per_gw (see YIELD_FROM_REVENUE)
PRICE_DECLINE = 13
CASH0 = 14
N_COMPANY_PRIORS = 15
# Extra columns of ``company_var`` after the priors.
YIELD_FROM_REVENUE = N_COMPANY_PRIORS  # 1: YIELD_PER_GW holds revenue_per_gw (the observable)
COMPANY_SHOCK_Z = N_COMPANY_PRIORS + 1  # index in z of the first growth shock
N_COMPANY_COLUMNS = N_COMPANY_PRIORS + 2

# Contract priors: column of ``contract_var`` (-1 when the kind does not use it).
RAMP_DELAY = 0
DELIVERED_FRACTION = 1
LEASE_PER_GW_YEAR = 2
CAPEX_PER_GW = 3
LIFE_YEARS = 4
POWER_PRICE = 5
PUE = 6
N_CONTRACT_PRIORS = 7
CONTRACT_COMPANY = N_CONTRACT_PRIORS
CONTRACT_KIND = N_CONTRACT_PRIORS + 1

KIND_LEASE = 0
KIND_OWNED = 1

# Columns of ``contract_terms`` (float): provider index, binding GW (1e300: all), notice in years.
TERM_PROVIDER = 0
TERM_BINDING = 1
TERM_NOTICE = 2

# Columns of ``investments`` (float, one row per investment).
INV_COMPANY = 0
INV_INVESTOR = 1
INV_TIMING = 2
INV_VARIATE = 3
INV_CONTRACT = 4
TIMING_PAST = 0
TIMING_UPFRONT = 1
TIMING_PER_GW = 2

# Entries of ``scenario_var`` (int64): variates of the scenario-level priors
# (-1: no funding market) and the first normal scores of the yearly factors.
SV_DISCOUNT = 0
SV_FINANCING = 1
SV_P_CLOSE = 2
SV_P_REOPEN = 3
SV_HURDLE = 4
SV_RAISE_MULTIPLE = 5
SV_FACTOR_Z = 6  # the common demand factor's scores, one per year
SV_REOPEN_Z = 7  # the market's reopening scores, one per year (-1 without a market)
N_SCENARIO_VAR = 8

# The compiled scenario, as the kernels read it (one bundle instead of a
# dozen positional arrays; ``risk.scenario.compile.CompiledScenario.model``).
Model = namedtuple("Model", [
    "z_active",  # (n_active,) int64: the normal scores to draw (fixed priors' are skipped)
    "spec", "tables", "order", "family_start",  # the priors (``sampling.sample_values``)
    "copula_index", "copula_chol",  # the Gaussian copula (empty without one)
    "company_var",  # (n_companies, N_COMPANY_COLUMNS) int64
    "contract_var",  # (n_contracts, N_CONTRACT_PRIORS + 2) int64
    "contract_ramp",  # (n_contracts, horizon): contracted GW online by year
    "contract_terms",  # (n_contracts, 3): TERM_*
    "investments",  # (n_investments, 5): INV_*
    "scenario_var",  # (N_SCENARIO_VAR,) int64: SV_*
    "demand_loading",  # float: correlation of any two companies' growth shocks
    "horizon",  # int
])

_LN2 = math.log(2.0)
GWYEAR_MWH_PER_1000 = 8.76  # 8,760 h: $/MWh x GW-year / 1000 = $B
ALL_BINDING = 1e300  # contract_terms' binding GW of a contract that cannot be cancelled

# Rows of a block's ``paths`` array (paths[row, entity, year, lane]).
PATH_REVENUE = 0  # R_t: revenue, a flow
PATH_EARNINGS = 1  # E_t: cash earnings before compute
PATH_COST = 2  # I_t: compute cost
PATH_SUPPLY_BOUND = 3  # 1.0 where capacity, not demand, bound revenue
PATH_CAPACITY = 4  # GW online (after management's cancellations)
PATH_SBC = 5  # R_t * sbc_t: stock-based pay (non-cash)
PATH_RUNRATE = 6  # D_t: run-rate at the end of year t
PATH_GROWTH = 7  # D_t / D_(t-1) - 1
PATH_INFLOW = 8  # committed strategic money arriving in year t
PATH_CANCELLED = 9  # GW cancelled by management, in effect in year t
PATH_RAISED = 10  # new money raised at the end of year t (entity_outcomes)
N_PATHS = 11


# Draws per block: the model runs on blocks of draws, one draw per SIMD lane
# (eight AVX-512 vectors of doubles).  Wide enough that the independent
# vectors of a year hide the latency of its exponential and of the
# year-to-year recursion (single thread, default scenario: 16 lanes 750,
# 32 lanes 717, 64 lanes 631-665, 128 lanes 652-667 ns per draw); a block's
# scratch stays in L2.  Loops over lanes take their bound from an array's
# shape, not from this constant: LLVM unrolls a loop of constant trip count
# fully and then does not vectorise it (measured).
LANES = 64

# Rows of the flat scratch (one company at a time): row ``r`` of lane
# ``lane`` is ``scratch[r * LANES + lane]``.  A flat array with this fixed
# layout lets LLVM prove that the rows do not overlap, so the loops over
# lanes compile to SIMD code (with 2-D rows of run-time stride they did not).
_RUNRATE = 0
_EXCESS = 1  # 2^(-(t-1)/halflife)
_DECAY = 2
_LOG_GROWTH_1 = 3
_LOG_GROWTH_TERM = 4
_SUPPLY_PER_GW = 5  # yield_1 (1 - price_decline)^(t-1)
_TRAINING = 6  # ts_t
_WANT = 7  # GW that demand does not need (management's option)
_PENDING = 8  # GW under notice, not yet in effect
_REMAINING = 9  # cancellable GW not yet under notice
_SHIFT = 10  # a contract's ramp shift (a whole number) and fraction
_FRACTION = 11
_DELIVERED = 12
_GW = 13
_DEMAND = 14  # Dbar_t
_SUPPLY = 15  # S_t
_CAPACITY = 16  # K_t: GW online
_GROWTH = 17  # D_t / D_(t-1) - 1
_BOUND = 18
_REVENUE = 19
_EARNINGS = 20
_SBC = 21
_CANCELLED = 22
_COST = 23
_HELD = 24  # GW of a contract under notice whose notice still runs
N_SCRATCH_ROWS = 25
# A loop over lanes vectorises when it writes one array only, and that array
# is not one it also reads through another name: the year's recursion writes
# only rows of this scratch (flat, constant offsets: LLVM proves the rows
# apart), and a separate loop copies each row to ``paths`` (measured: with
# ``paths`` written inside the recursion the model ran ~5x slower).


@njit(cache=True, error_model="numpy", inline="always")
def annuity(rate, years):
    """``a(r, n) = r / (1 - (1 + r)^-n)``: the yearly payment that repays 1 over ``n`` years at ``r``.

    ``1 / n`` at ``r = 0``; below ``|r| = 1e-6`` its first-order expansion
    ``1/n + r (n + 1) / (2 n)`` (the closed form loses digits there; the
    expansion's error is O(r^2)).  A select, not a branch: SIMD over lanes.
    """
    closed = rate / (1.0 - exp(-years * log1p(rate)))
    near_zero = 1.0 / years + rate * (years + 1.0) / (2.0 * years)
    return near_zero if abs(rate) < 1e-6 else closed


@njit(cache=True, error_model="numpy", inline="always")
def relative_flow(log_growth, growth):
    """``(e^l - 1) / l``: a year's mean of ``e^(l s)`` over ``s`` in [0, 1] (the logarithmic mean over its start).

    ``growth`` is ``e^l`` (computed once by the caller).  Below ``|l| = 1e-4``
    its series ``1 + l/2 + l^2/6 + l^3/24`` (the quotient cancels there; the
    series' error is below 1e-17).
    """
    quotient = (growth - 1.0) / log_growth
    series = 1.0 + log_growth * (0.5 + log_growth * (1.0 / 6.0 + log_growth / 24.0))
    return series if abs(log_growth) < 1e-4 else quotient


@njit(cache=True, error_model="numpy", inline="always")
def contract_capacity(values, model, k, contract_gw, contract_unit, scratch):
    """Fill ``contract_gw[k, t, lane]`` (GW of contract ``k`` delivered in year ``t``) and ``contract_unit[k, lane]``.

    The unit cost is $B per GW-year: the lease price, or for an owned
    contract the annuity of its capex at the financing rate over its life
    plus power.  A ramp delay shifts the whole ramp later; before its first
    year the ramp is 0, after its last year it stays at its last value, and
    fractional delays interpolate linearly between years.  Branch-free over
    lanes (a loop over the block's few distinct ramp shifts, each lane
    selecting its own), so it runs as SIMD code.
    """
    contract_var, contract_ramp, horizon = model.contract_var, model.contract_ramp, model.horizon
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
        financing = model.scenario_var[SV_FINANCING]
        for lane in range(lanes):
            contract_unit[k, lane] = (values[capex, lane] * annuity(values[financing, lane], values[life, lane])
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
def market_states(values, z, model, market, scratch):
    """Fill ``market[t, lane]`` with 1.0 where the funding market is open in year ``t`` (``design/model.md``).

    Open at the start.  An open market closes in year ``t`` when the common
    demand factor's score is below ``Phi^-1(p_close)`` (so closures come
    with weak demand); a closed one reopens when its own score is below
    ``Phi^-1(p_reopen)`` (probability ``p_reopen``).  Without a funding
    market it is never open.  Selects over lanes, year by year: SIMD code.
    """
    lanes = values.shape[1]
    horizon = model.horizon
    sv = model.scenario_var
    if sv[SV_P_CLOSE] < 0:
        for t in range(horizon):
            for lane in range(lanes):
                market[t, lane] = 0.0
        return
    factor_z, reopen_z = sv[SV_FACTOR_Z], sv[SV_REOPEN_Z]
    normal_quantiles(values, sv[SV_P_CLOSE], scratch, _WANT)
    normal_quantiles(values, sv[SV_P_REOPEN], scratch, _PENDING)
    for lane in range(lanes):
        market[0, lane] = 1.0 if z[factor_z, lane] >= scratch[_WANT * LANES + lane] else 0.0
    for t in range(1, horizon):
        for lane in range(lanes):
            closes = z[factor_z + t, lane] >= scratch[_WANT * LANES + lane]
            reopens = z[reopen_z + t, lane] < scratch[_PENDING * LANES + lane]
            market[t, lane] = (1.0 if closes else 0.0) if market[t - 1, lane] > 0.0 else (1.0 if reopens else 0.0)


@njit(cache=True, error_model="numpy", inline="always")
def normal_quantiles(values, variate, scratch, row):
    """``scratch[row] = Phi^-1(values[variate])`` over the lanes: Acklam's central rational function
    (relative error below 1.2e-9) as SIMD code, then :func:`elementary.normal_quantile` for the rare
    lanes in the tails (p < 0.02425 or p > 0.97575).  A threshold 1e-9 off changes a comparison with a
    normal score with probability ~1e-9: far below any Monte Carlo error."""
    lanes = values.shape[1]
    for lane in range(lanes):
        scratch[row * LANES + lane] = normal_quantile_central(values[variate, lane])
    for lane in range(lanes):
        p = values[variate, lane]
        if p < CENTRAL_LOW or p > CENTRAL_HIGH:
            scratch[row * LANES + lane] = normal_quantile(p)


@njit(cache=True, error_model="numpy", inline="always")
def company_paths(values, z, model, paths, cash0, contract_gw, contract_unit, contract_online, contract_notice,
                  market, scratch):
    """Fill the per-entity, per-year paths of a block of ``LANES`` draws (``design/model.md``).

    Parameters
    ----------
    values : numpy.ndarray of shape (n_variates, LANES)
        Sampled prior values, one column per draw.
    z : numpy.ndarray of shape (n_z, LANES)
        Normal scores of the draws (growth shocks, demand factor and market
        scores included).
    model : Model
        The compiled scenario.
    paths : numpy.ndarray of shape (N_PATHS, n_companies + 1, horizon, LANES)
        Output: rows ``PATH_*`` (``PATH_RAISED`` is left to
        :func:`entity_outcomes`); the last entity is the sector, the sum of
        the companies (supply-bound where any company is).
    cash0 : numpy.ndarray of shape (n_companies + 1, LANES)
        Output: starting cash of each entity.
    contract_gw : numpy.ndarray of shape (n_contracts, horizon, LANES)
        Output: each contract's GW delivered by year (:func:`contract_capacity`).
    contract_unit : numpy.ndarray of shape (n_contracts, LANES)
        Output: each contract's unit cost, $B per GW-year.
    contract_online : numpy.ndarray of shape (n_contracts, horizon, LANES)
        Output: GW online and paid for, after management's cancellations.
    contract_notice : numpy.ndarray of shape (n_contracts, horizon + 1, LANES)
        Scratch: rows ``0 .. horizon - 1`` the GW given notice in each year,
        row ``horizon`` their running total (:func:`_held`).
    market : numpy.ndarray of shape (horizon, LANES)
        Output: 1.0 where the funding market is open (:func:`market_states`).
    scratch : numpy.ndarray of shape (N_SCRATCH_ROWS * LANES,)
        Scratch for one company's or contract's running state (layout above).

    Notes
    -----
    Revenue is a flow: the year's mean of the exponential run-rate path,
    ``Dbar_t = D_(t-1) (e^l - 1) / l``, capped by supply.  Management's
    option: when demand is below supply, the lab gives notice on the
    cancellable GW (above ``binding_gw``, pro rata to each contract's
    cancellable GW not yet under notice) that demand does not need, less
    what is already under notice; a notice given in year ``t`` removes the
    fraction ``1 - clamp(notice - (s - t), 0, 1)`` of that capacity (cost
    and service) in year ``s >= t``: the rule of the exposure settlement.
    Revenue of year ``t`` is taken before its own notice (only capacity that
    demand does not need is cancelled).

    Lanes (draws) are the innermost loop, so the year-by-year recursion runs
    as SIMD code over the block; arrays are indexed, never sliced (a slice
    costs a reference count).
    """
    company_var, contract_var, terms = model.company_var, model.contract_var, model.contract_terms
    investments, horizon = model.investments, model.horizon
    lanes = values.shape[1]  # == LANES; a run-time bound, see the note at LANES
    n_companies = company_var.shape[0]
    n_contracts = contract_var.shape[0]
    sector = n_companies
    common = math.sqrt(model.demand_loading)
    own = math.sqrt(1.0 - model.demand_loading)
    factor_z = model.scenario_var[SV_FACTOR_Z]
    market_states(values, z, model, market, scratch)
    for row in (PATH_CAPACITY, PATH_COST, PATH_INFLOW):  # the rows the companies' contracts add to
        for e in range(n_companies):
            for t in range(horizon):
                for lane in range(lanes):
                    paths[row, e, t, lane] = 0.0
    for k in range(n_contracts):
        contract_capacity(values, model, k, contract_gw, contract_unit, scratch)
        c = contract_var[k, CONTRACT_COMPANY]
        if _cancellable_of(contract_var, terms, k, c):
            for t in range(horizon + 1):
                for lane in range(lanes):
                    contract_notice[k, t, lane] = 0.0
            continue
        # a binding contract is online as delivered: its GW and cost go to the company's paths
        # once, for every year (the year loop below visits only the cancellable contracts)
        for t in range(horizon):
            for lane in range(lanes):
                contract_online[k, t, lane] = contract_gw[k, t, lane]
            for lane in range(lanes):
                gw = contract_gw[k, t, lane]
                paths[PATH_CAPACITY, c, t, lane] += gw
                paths[PATH_COST, c, t, lane] += gw * contract_unit[k, lane]
    for c in range(n_companies):
        revenue0 = company_var[c, REVENUE0]
        vol = company_var[c, GROWTH_VOL]
        opex_1 = company_var[c, OPEX_RATIO_INITIAL]
        opex_term = company_var[c, OPEX_RATIO_TERMINAL]
        sbc_1 = company_var[c, SBC_RATIO_INITIAL]
        sbc_term = company_var[c, SBC_RATIO_TERMINAL]
        shock_0 = company_var[c, COMPANY_SHOCK_Z]
        utilization_0 = company_var[c, UTILIZATION]
        price_decline = company_var[c, PRICE_DECLINE]
        training = company_var[c, TRAINING_SHARE]
        training_decay = company_var[c, TRAINING_SHARE_DECAY]
        yield_var = company_var[c, YIELD_PER_GW]
        from_revenue = company_var[c, YIELD_FROM_REVENUE] == 1
        cancellable = False
        for k in range(n_contracts):
            cancellable = cancellable or _cancellable_of(contract_var, terms, k, c)
        halflife = company_var[c, GROWTH_HALFLIFE]  # indices read before the loops: they vectorise
        for lane in range(lanes):
            scratch[_RUNRATE * LANES + lane] = values[revenue0, lane]
            scratch[_EXCESS * LANES + lane] = 1.0
            scratch[_DECAY * LANES + lane] = exp(-_LN2 / values[halflife, lane])
            scratch[_TRAINING * LANES + lane] = values[training, lane]
            scratch[_SUPPLY_PER_GW * LANES + lane] = values[yield_var, lane]
        cash = company_var[c, CASH0]
        for lane in range(lanes):
            cash0[c, lane] = values[cash, lane]
        if from_revenue:
            # yield_1 = revenue_per_gw / ((1 - ts_1) mean(utilization)): the observed
            # revenue per total GW carries the prior; the split adds no variance
            for lane in range(lanes):
                scratch[_GW * LANES + lane] = 0.0
            for t in range(horizon):
                for lane in range(lanes):
                    scratch[_GW * LANES + lane] += values[utilization_0 + t, lane]
            for lane in range(lanes):
                serving = (1.0 - values[training, lane]) * scratch[_GW * LANES + lane] / horizon
                scratch[_SUPPLY_PER_GW * LANES + lane] = (values[yield_var, lane] / serving
                                                          if serving > 0.0 else 0.0)
        growth_initial = company_var[c, GROWTH_INITIAL]
        growth_terminal = company_var[c, GROWTH_TERMINAL]
        for lane in range(lanes):
            scratch[_LOG_GROWTH_1 * LANES + lane] = log1p(values[growth_initial, lane])
            scratch[_LOG_GROWTH_TERM * LANES + lane] = log1p(values[growth_terminal, lane])
        for t in range(horizon):
            # capacity online before this year's notice: the binding contracts', then the others'
            for lane in range(lanes):
                scratch[_CAPACITY * LANES + lane] = paths[PATH_CAPACITY, c, t, lane]
            for k in range(n_contracts):
                if not _cancellable_of(contract_var, terms, k, c):
                    continue
                _online(contract_gw, contract_notice, terms, k, t, horizon, contract_online, scratch)
                for lane in range(lanes):
                    scratch[_CAPACITY * LANES + lane] += contract_online[k, t, lane]
            # the recursion reads values, z and the scratch, and writes only the scratch (SIMD over lanes)
            for lane in range(lanes):
                shock = common * z[factor_z + t, lane] + own * z[shock_0 + t, lane]
                excess = scratch[_EXCESS * LANES + lane]
                log_growth_term = scratch[_LOG_GROWTH_TERM * LANES + lane]
                log_growth = (log_growth_term + (scratch[_LOG_GROWTH_1 * LANES + lane] - log_growth_term) * excess
                              + values[vol, lane] * shock)
                start = scratch[_RUNRATE * LANES + lane]
                growth = exp(log_growth)
                scratch[_RUNRATE * LANES + lane] = start * growth
                scratch[_GROWTH * LANES + lane] = growth - 1.0
                demand = start * relative_flow(log_growth, growth)
                supply = (scratch[_CAPACITY * LANES + lane] * (1.0 - scratch[_TRAINING * LANES + lane])
                          * values[utilization_0 + t, lane] * scratch[_SUPPLY_PER_GW * LANES + lane])
                scratch[_DEMAND * LANES + lane] = demand
                scratch[_SUPPLY * LANES + lane] = supply
                scratch[_BOUND * LANES + lane] = 1.0 if supply < demand else 0.0
                revenue = min(supply, demand)
                scratch[_REVENUE * LANES + lane] = revenue
                opex_ratio = values[opex_term, lane] + (values[opex_1, lane] - values[opex_term, lane]) * excess
                sbc_ratio = values[sbc_term, lane] + (values[sbc_1, lane] - values[sbc_term, lane]) * excess
                scratch[_EARNINGS * LANES + lane] = revenue * (1.0 - opex_ratio)
                scratch[_SBC * LANES + lane] = revenue * sbc_ratio
                scratch[_EXCESS * LANES + lane] = excess * scratch[_DECAY * LANES + lane]
                scratch[_SUPPLY_PER_GW * LANES + lane] *= 1.0 - values[price_decline, lane]
                scratch[_TRAINING * LANES + lane] *= 1.0 - values[training_decay, lane]
            if cancellable:
                _give_notice(contract_gw, contract_notice, contract_online, terms, contract_var, c, t, horizon, scratch)
            # the year's cost and capacity, after any notice that takes effect this year
            for lane in range(lanes):
                scratch[_CAPACITY * LANES + lane] = paths[PATH_CAPACITY, c, t, lane]
            for lane in range(lanes):
                scratch[_COST * LANES + lane] = paths[PATH_COST, c, t, lane]
            for lane in range(lanes):
                scratch[_CANCELLED * LANES + lane] = 0.0
            if cancellable:
                for k in range(n_contracts):
                    if not _cancellable_of(contract_var, terms, k, c):
                        continue
                    for lane in range(lanes):
                        online = contract_online[k, t, lane]
                        scratch[_CAPACITY * LANES + lane] += online
                        scratch[_CANCELLED * LANES + lane] += contract_gw[k, t, lane] - online
                        scratch[_COST * LANES + lane] += online * contract_unit[k, lane]
            # ... then each row to the paths
            for row, source in ((PATH_REVENUE, _REVENUE), (PATH_EARNINGS, _EARNINGS), (PATH_COST, _COST),
                                (PATH_SUPPLY_BOUND, _BOUND), (PATH_CAPACITY, _CAPACITY), (PATH_SBC, _SBC),
                                (PATH_RUNRATE, _RUNRATE), (PATH_GROWTH, _GROWTH), (PATH_CANCELLED, _CANCELLED)):
                for lane in range(lanes):
                    paths[row, c, t, lane] = scratch[source * LANES + lane]
    _inflows(values, investments, contract_online, horizon, paths, scratch)
    for lane in range(lanes):
        cash0[sector, lane] = cash0[0, lane]
    for row in (PATH_REVENUE, PATH_EARNINGS, PATH_COST, PATH_CAPACITY, PATH_SBC, PATH_RUNRATE, PATH_INFLOW,
                PATH_CANCELLED, PATH_SUPPLY_BOUND):
        for t in range(horizon):
            for lane in range(lanes):
                paths[row, sector, t, lane] = paths[row, 0, t, lane]
    for c in range(1, n_companies):
        for lane in range(lanes):
            cash0[sector, lane] += cash0[c, lane]
        for row in (PATH_REVENUE, PATH_EARNINGS, PATH_COST, PATH_CAPACITY, PATH_SBC, PATH_RUNRATE, PATH_INFLOW,
                    PATH_CANCELLED):
            for t in range(horizon):
                for lane in range(lanes):
                    paths[row, sector, t, lane] += paths[row, c, t, lane]
        for t in range(horizon):
            for lane in range(lanes):
                paths[PATH_SUPPLY_BOUND, sector, t, lane] = max(paths[PATH_SUPPLY_BOUND, sector, t, lane],
                                                               paths[PATH_SUPPLY_BOUND, c, t, lane])


@njit(cache=True, error_model="numpy", inline="always")
def _cancellable_of(contract_var, terms, k, c):
    # contract k belongs to company c and some of it can be cancelled
    return contract_var[k, CONTRACT_COMPANY] == c and terms[k, TERM_BINDING] < ALL_BINDING


@njit(cache=True, error_model="numpy", inline="always")
def _held(contract_notice, terms, k, t, scratch, row):
    """``scratch[row]`` = GW of contract ``k`` under notice in year ``t`` whose notice still runs.

    ``contract_notice[k, d]`` holds the GW noticed in year ``d`` and row
    ``horizon`` their running total.  A notice given in year ``d`` is still
    paid for the fraction ``clamp(notice - (t - d), 0, 1)`` of year ``t``:
    only the last ``ceil(notice)`` years' notices count (one year for a
    notice of at most a year), so no schedule over the years ahead is kept.
    """
    notice = terms[k, TERM_NOTICE]
    lanes = contract_notice.shape[2]
    for lane in range(lanes):
        scratch[row * LANES + lane] = 0.0
    for j in range(t + 1):
        kept = min(max(notice - j, 0.0), 1.0)
        if kept <= 0.0:
            break
        for lane in range(lanes):
            scratch[row * LANES + lane] += contract_notice[k, t - j, lane] * kept


@njit(cache=True, error_model="numpy", inline="always")
def _online(contract_gw, contract_notice, terms, k, t, horizon, contract_online, scratch):
    # GW of contract k online in year t before this year's notice: delivered, less the cancellations
    # in effect (all noticed GW but those whose notice still runs), never below the binding part nor 0
    binding = terms[k, TERM_BINDING]
    _held(contract_notice, terms, k, t, scratch, _HELD)
    for lane in range(contract_gw.shape[2]):
        gw = contract_gw[k, t, lane]
        cancelled = contract_notice[k, horizon, lane] - scratch[_HELD * LANES + lane]
        contract_online[k, t, lane] = gw - min(cancelled, max(gw - binding, 0.0))


@njit(cache=True, error_model="numpy", inline="always")
def _give_notice(contract_gw, contract_notice, contract_online, terms, contract_var, c, t, horizon, scratch):
    """Management's option in year ``t`` for company ``c`` (see :func:`company_paths`)."""
    lanes = contract_gw.shape[2]
    for lane in range(lanes):
        demand = scratch[_DEMAND * LANES + lane]
        supply = scratch[_SUPPLY * LANES + lane]
        capacity = scratch[_CAPACITY * LANES + lane]
        scratch[_WANT * LANES + lane] = capacity * (1.0 - demand / supply) if supply > demand else 0.0
        scratch[_PENDING * LANES + lane] = 0.0
        scratch[_REMAINING * LANES + lane] = 0.0
    for k in range(contract_var.shape[0]):
        if not _cancellable_of(contract_var, terms, k, c):
            continue
        binding = terms[k, TERM_BINDING]
        _held(contract_notice, terms, k, t, scratch, _HELD)
        for lane in range(lanes):
            scratch[_PENDING * LANES + lane] += scratch[_HELD * LANES + lane]
        for lane in range(lanes):
            noticed = contract_notice[k, horizon, lane]
            scratch[_REMAINING * LANES + lane] += max(contract_gw[k, t, lane] - binding - noticed, 0.0)
    for lane in range(lanes):
        remaining = scratch[_REMAINING * LANES + lane]
        wanted = min(max(scratch[_WANT * LANES + lane] - scratch[_PENDING * LANES + lane], 0.0), remaining)
        # the share of each contract's cancellable GW that goes under notice now
        scratch[_WANT * LANES + lane] = wanted / remaining if remaining > 0.0 else 0.0
    for k in range(contract_var.shape[0]):
        if not _cancellable_of(contract_var, terms, k, c):
            continue
        binding = terms[k, TERM_BINDING]
        # of a notice given now, 1 - min(notice, 1) takes effect this year: what was cancelled
        # before (gw - online) grows by that much, never past the cancellable part
        now = 1.0 - min(terms[k, TERM_NOTICE], 1.0)
        for lane in range(lanes):  # reads the contract arrays, writes the scratch
            noticed = contract_notice[k, horizon, lane]
            gw = contract_gw[k, t, lane]
            amount = max(gw - binding - noticed, 0.0) * scratch[_WANT * LANES + lane]
            scratch[_GW * LANES + lane] = amount
            scratch[_HELD * LANES + lane] = gw - min(gw - contract_online[k, t, lane] + amount * now,
                                                     max(gw - binding, 0.0))
        for lane in range(lanes):
            contract_notice[k, t, lane] = scratch[_GW * LANES + lane]
        for lane in range(lanes):
            contract_notice[k, horizon, lane] += scratch[_GW * LANES + lane]
        for lane in range(lanes):
            contract_online[k, t, lane] = scratch[_HELD * LANES + lane]


@njit(cache=True, error_model="numpy", inline="always")
def _inflows(values, investments, contract_online, horizon, paths, scratch):
    # committed strategic money: upfront in year 1, per GW as a contract's
    # capacity online first reaches each level ("past" money is in cash0)
    lanes = values.shape[1]
    for j in range(investments.shape[0]):
        timing = int(investments[j, INV_TIMING])
        if timing == TIMING_PAST:
            continue
        c = int(investments[j, INV_COMPANY])
        amount = int(investments[j, INV_VARIATE])
        if timing == TIMING_UPFRONT:
            for lane in range(lanes):
                paths[PATH_INFLOW, c, 0, lane] += values[amount, lane]
            continue
        k = int(investments[j, INV_CONTRACT])
        for lane in range(lanes):
            scratch[_HELD * LANES + lane] = 0.0  # the highest GW online so far
        for t in range(horizon):
            for lane in range(lanes):
                online = contract_online[k, t, lane]
                scratch[_GW * LANES + lane] = values[amount, lane] * max(online - scratch[_HELD * LANES + lane], 0.0)
                scratch[_HELD * LANES + lane] = max(scratch[_HELD * LANES + lane], online)
            for lane in range(lanes):
                paths[PATH_INFLOW, c, t, lane] += scratch[_GW * LANES + lane]


# Rows of ``entity_outcomes``'s output (outcomes[row, entity, lane]).
OUT_COVERAGE = 0  # PV(E) / PV(I); the sector: the lowest of its companies'
OUT_GAP = 1  # funding gap, PV; the sector: the sum of its companies' (no netting)
OUT_PV_EARNINGS = 2
OUT_PV_COST = 3
OUT_BREAKEVEN = 4  # 0-based first year from which E_t >= I_t to the horizon; horizon when none
OUT_DISTRESS = 5  # 1.0 when cash without raises falls below zero in some year
OUT_DEFAULT = 6  # 1.0 when cash after raising falls below zero in some year
OUT_NEW_MONEY = 7  # total raised, $B (undiscounted)
OUT_COVERAGE_ECONOMIC = 8  # PV(E - SBC) / PV(I)
OUT_COVERAGE_POOLED = 9  # PV of all earnings / PV of all costs (= coverage for a company)
N_OUTCOMES = 10

# Rows of its scratch (flat, as ``company_paths``'s).
_FACTOR = 0
_DISCOUNT_STEP = 1
_CASH = 2
_PV_EARNINGS = 3
_PV_COST = 4
_GAP = 5
_LAST_LOSS = 6
_DISTRESS = 7
_CASH_ALONE = 8  # cash without raises
_DEFAULT = 9
_NEW_MONEY = 10
_PV_ECONOMIC = 11
_HURDLE = 12
_MULTIPLE = 13
_RAISED = 14
_COVERAGE_OUT = 15
_ECONOMIC_OUT = 16


@njit(cache=True, error_model="numpy")
def entity_outcomes(paths, cash0, market, values, model, outcomes, scratch):
    """Per-draw outcomes of every entity of a block (``design/model.md``), and each company's raises.

    Parameters
    ----------
    paths, cash0, market : numpy.ndarray
        The block's paths, starting cash and market states
        (:func:`company_paths`); ``paths[PATH_RAISED]`` is written here.
    values : numpy.ndarray of shape (n_variates, LANES)
        The block's prior values (discount rate, funding market).
    model : Model
        The compiled scenario.
    outcomes : numpy.ndarray of shape (N_OUTCOMES, n_entities, LANES)
        Output: rows ``OUT_*``.
    scratch : numpy.ndarray of shape (N_SCRATCH_ROWS * LANES,)
        Flat scratch (its layout lets the loops over lanes vectorise).

    Notes
    -----
    Cash: ``C_t = C_(t-1) + E_t - I_t + inflow_t + raised_t``.  At the end of
    a year a company whose cash is below one year of its burn
    ``max(0, I_t - E_t)`` raises, when the market is open and its run-rate
    grew by at least ``growth_hurdle``, as much as restores that buffer, at
    most ``raise_multiple * D_t``.  Default: cash below zero after raising;
    distress: cash below zero without raises.  The sector is not one
    balance sheet: short when any company is (its coverage is the lowest of
    theirs), its gap and new money the sums of theirs, in default or
    distress when any company is, broken even when all are.

    Year-dependent choices are selects, not branches: they vary from draw
    to draw, and the loops over lanes run as SIMD code.
    """
    lanes = outcomes.shape[2]  # == LANES; a run-time bound, see the note at LANES
    horizon = model.horizon
    sv = model.scenario_var
    discount = sv[SV_DISCOUNT]
    has_market = sv[SV_P_CLOSE] >= 0
    n_companies = cash0.shape[0] - 1
    sector = n_companies
    hurdle, multiple = sv[SV_HURDLE], sv[SV_RAISE_MULTIPLE]  # indices read before the loops: they vectorise
    for lane in range(lanes):
        scratch[_DISCOUNT_STEP * LANES + lane] = 1.0 / (1.0 + values[discount, lane])
    for lane in range(lanes):
        scratch[_HURDLE * LANES + lane] = values[hurdle, lane] if has_market else 0.0
    for lane in range(lanes):
        scratch[_MULTIPLE * LANES + lane] = values[multiple, lane] if has_market else 0.0
    for e in range(n_companies):
        for lane in range(lanes):
            scratch[_FACTOR * LANES + lane] = 1.0
            scratch[_CASH * LANES + lane] = cash0[e, lane]
            scratch[_CASH_ALONE * LANES + lane] = cash0[e, lane]
            scratch[_PV_EARNINGS * LANES + lane] = 0.0
            scratch[_PV_ECONOMIC * LANES + lane] = 0.0
            scratch[_PV_COST * LANES + lane] = 0.0
            scratch[_GAP * LANES + lane] = 0.0
            scratch[_LAST_LOSS * LANES + lane] = -1.0
            scratch[_DISTRESS * LANES + lane] = 0.0
            scratch[_DEFAULT * LANES + lane] = 0.0
            scratch[_NEW_MONEY * LANES + lane] = 0.0
        for t in range(horizon):
            for lane in range(lanes):
                factor = scratch[_FACTOR * LANES + lane] * scratch[_DISCOUNT_STEP * LANES + lane]
                scratch[_FACTOR * LANES + lane] = factor
                earnings = paths[PATH_EARNINGS, e, t, lane]
                cost = paths[PATH_COST, e, t, lane]
                scratch[_PV_EARNINGS * LANES + lane] += earnings * factor
                scratch[_PV_ECONOMIC * LANES + lane] += (earnings - paths[PATH_SBC, e, t, lane]) * factor
                scratch[_PV_COST * LANES + lane] += cost * factor
                loss = cost > earnings
                scratch[_GAP * LANES + lane] += (cost - earnings) * factor if loss else 0.0
                scratch[_LAST_LOSS * LANES + lane] = t if loss else scratch[_LAST_LOSS * LANES + lane]
                flow = earnings - cost + paths[PATH_INFLOW, e, t, lane]
                alone = scratch[_CASH_ALONE * LANES + lane] + flow
                scratch[_CASH_ALONE * LANES + lane] = alone
                scratch[_DISTRESS * LANES + lane] = 1.0 if alone < 0.0 else scratch[_DISTRESS * LANES + lane]
                before = scratch[_CASH * LANES + lane] + flow
                burn = cost - earnings if loss else 0.0
                # open market and growth above the hurdle (a product of flags: no branch)
                can_raise = ((1.0 if market[t, lane] > 0.0 else 0.0)
                             * (1.0 if paths[PATH_GROWTH, e, t, lane] >= scratch[_HURDLE * LANES + lane] else 0.0))
                need = burn - before if burn > before else 0.0
                cap = scratch[_MULTIPLE * LANES + lane] * paths[PATH_RUNRATE, e, t, lane]
                raised = min(need, cap) * can_raise
                scratch[_RAISED * LANES + lane] = raised
                scratch[_NEW_MONEY * LANES + lane] += raised
                after = before + raised
                scratch[_CASH * LANES + lane] = after
                scratch[_DEFAULT * LANES + lane] = 1.0 if after < 0.0 else scratch[_DEFAULT * LANES + lane]
            for lane in range(lanes):  # the loop above writes only the scratch: it runs as SIMD code
                paths[PATH_RAISED, e, t, lane] = scratch[_RAISED * LANES + lane]
        # one loop per row: a loop writing many rows of ``outcomes`` does not vectorise
        for lane in range(lanes):
            pv_cost = scratch[_PV_COST * LANES + lane]
            scratch[_COVERAGE_OUT * LANES + lane] = (scratch[_PV_EARNINGS * LANES + lane] / pv_cost
                                                     if pv_cost > 0.0 else np.inf)
            scratch[_ECONOMIC_OUT * LANES + lane] = (scratch[_PV_ECONOMIC * LANES + lane] / pv_cost
                                                     if pv_cost > 0.0 else np.inf)
            scratch[_LAST_LOSS * LANES + lane] += 1.0  # the break-even year
        for row, source in ((OUT_COVERAGE, _COVERAGE_OUT), (OUT_COVERAGE_POOLED, _COVERAGE_OUT),
                            (OUT_COVERAGE_ECONOMIC, _ECONOMIC_OUT), (OUT_GAP, _GAP),
                            (OUT_PV_EARNINGS, _PV_EARNINGS), (OUT_PV_COST, _PV_COST),
                            (OUT_BREAKEVEN, _LAST_LOSS), (OUT_DISTRESS, _DISTRESS), (OUT_DEFAULT, _DEFAULT),
                            (OUT_NEW_MONEY, _NEW_MONEY)):
            for lane in range(lanes):
                outcomes[row, e, lane] = scratch[source * LANES + lane]
    # the sector: no netting of one lab's surplus against another's deficit (one loop per row written)
    for t in range(horizon):
        for lane in range(lanes):
            paths[PATH_RAISED, sector, t, lane] = paths[PATH_RAISED, 0, t, lane]
    for row in (OUT_COVERAGE, OUT_COVERAGE_ECONOMIC, OUT_GAP, OUT_PV_EARNINGS, OUT_PV_COST, OUT_BREAKEVEN,
                OUT_DISTRESS, OUT_DEFAULT, OUT_NEW_MONEY):
        for lane in range(lanes):
            outcomes[row, sector, lane] = outcomes[row, 0, lane]
    for e in range(1, n_companies):
        for row in (OUT_COVERAGE, OUT_COVERAGE_ECONOMIC):  # the weakest lab's
            for lane in range(lanes):
                outcomes[row, sector, lane] = min(outcomes[row, sector, lane], outcomes[row, e, lane])
        for row in (OUT_GAP, OUT_PV_EARNINGS, OUT_PV_COST, OUT_NEW_MONEY):  # sums
            for lane in range(lanes):
                outcomes[row, sector, lane] += outcomes[row, e, lane]
        for row in (OUT_BREAKEVEN, OUT_DISTRESS, OUT_DEFAULT):  # the latest, any
            for lane in range(lanes):
                outcomes[row, sector, lane] = max(outcomes[row, sector, lane], outcomes[row, e, lane])
        for t in range(horizon):
            for lane in range(lanes):
                paths[PATH_RAISED, sector, t, lane] += paths[PATH_RAISED, e, t, lane]
    for lane in range(lanes):
        pv_cost = outcomes[OUT_PV_COST, sector, lane]
        outcomes[OUT_COVERAGE_POOLED, sector, lane] = (outcomes[OUT_PV_EARNINGS, sector, lane] / pv_cost
                                                       if pv_cost > 0.0 else np.inf)
