"""The year-by-year coverage model of ``design/model.md`` for one draw.

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


# Rows of the per-draw ``paths`` array (paths[row, entity, year]).
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


@njit(cache=True, error_model="numpy", inline="always")
def contract_schedule(values, contract_var, contract_ramp, k, horizon, gw):
    """Fill ``gw[t]`` (GW of contract ``k`` online in year ``t``) and return its unit cost ($B per GW-year).

    A ramp delay shifts the whole ramp later; before its first year the ramp
    is 0 and fractional delays interpolate linearly between years.
    """
    last_year = contract_ramp.shape[1] - 1
    delivered = values[contract_var[k, DELIVERED_FRACTION]]
    if contract_var[k, CONTRACT_KIND] == KIND_LEASE:
        unit_cost = values[contract_var[k, LEASE_PER_GW_YEAR]]
    else:
        unit_cost = (values[contract_var[k, CAPEX_PER_GW]] / values[contract_var[k, LIFE_YEARS]]
                     + GWYEAR_MWH_PER_1000 * values[contract_var[k, PUE]]
                     * values[contract_var[k, POWER_PRICE]] / 1000.0)
    # year t sits at ramp position t - delay = (t + shift) + fraction
    lag = -values[contract_var[k, RAMP_DELAY]]
    shift_floor = math.floor(lag)
    fraction = lag - shift_floor
    shift = int(shift_floor)
    for t in range(horizon):
        i = t + shift
        if i < -1:
            gw[t] = 0.0
            continue
        if i >= last_year:
            ramp = contract_ramp[k, last_year]
        else:
            left = contract_ramp[k, i] if i >= 0 else 0.0
            ramp = left + fraction * (contract_ramp[k, i + 1] - left)
        gw[t] = delivered * ramp
    return unit_cost


@njit(cache=True, error_model="numpy")
def company_paths(values, z, company_var, contract_var, contract_ramp, factor_z, demand_loading,
                  horizon, paths, cash0, gw):
    """Fill the per-entity, per-year paths of one draw (``design/model.md``).

    Parameters
    ----------
    values : numpy.ndarray of shape (n_variates,)
        Sampled prior values of this draw.
    z : numpy.ndarray
        Normal scores of this draw (growth shocks and demand factor included).
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
    paths : numpy.ndarray of shape (N_PATHS, n_companies + 1, horizon)
        Output: revenue, earnings, compute cost, supply-bound flags and GW
        online; the last entity is the sector (supply-bound where any
        company is).
    cash0 : numpy.ndarray of shape (n_companies + 1,)
        Output: starting cash of each entity.
    gw : numpy.ndarray of shape (horizon,)
        Scratch for one contract's GW by year (``contract_schedule``).

    Notes
    -----
    Arrays are indexed, never sliced, in the loops (a slice costs a reference count).
    """
    n_companies = company_var.shape[0]
    sector = n_companies
    common = math.sqrt(demand_loading)
    own = math.sqrt(1.0 - demand_loading)
    for row in range(N_PATHS):
        for e in range(n_companies + 1):
            for t in range(horizon):
                paths[row, e, t] = 0.0
    # Capacity online and compute cost, contract by contract: a contract's
    # unit cost and ramp offset are computed once per draw, not once per year.
    for k in range(contract_var.shape[0]):
        c = contract_var[k, CONTRACT_COMPANY]
        unit_cost = contract_schedule(values, contract_var, contract_ramp, k, horizon, gw)
        for t in range(horizon):
            paths[PATH_CAPACITY, c, t] += gw[t]
            paths[PATH_COST, c, t] += gw[t] * unit_cost
    for c in range(n_companies):
        revenue0 = values[company_var[c, REVENUE0]]
        log_growth_1 = math.log1p(values[company_var[c, GROWTH_INITIAL]])
        log_growth_term = math.log1p(values[company_var[c, GROWTH_TERMINAL]])
        decay = math.exp(-_LN2 / values[company_var[c, GROWTH_HALFLIFE]])
        vol = values[company_var[c, GROWTH_VOL]]
        opex_1 = values[company_var[c, OPEX_RATIO_INITIAL]]
        opex_term = values[company_var[c, OPEX_RATIO_TERMINAL]]
        # revenue per GW online: serving share x yield, eroded by the price decline
        supply_per_gw = (1.0 - values[company_var[c, TRAINING_SHARE]]) * values[company_var[c, YIELD_PER_GW]]
        price_keep = 1.0 - values[company_var[c, PRICE_DECLINE]]
        utilization_0 = company_var[c, UTILIZATION]
        shock_0 = company_var[c, COMPANY_SHOCK_Z]
        cash0[c] = values[company_var[c, CASH0]]
        excess = 1.0  # 2^(-(t-1)/halflife)
        cumulative = 0.0
        for t in range(horizon):
            shock = common * z[factor_z + t] + own * z[shock_0 + t]
            cumulative += log_growth_term + (log_growth_1 - log_growth_term) * excess + vol * shock
            demand = revenue0 * math.exp(cumulative)
            supply = paths[PATH_CAPACITY, c, t] * values[utilization_0 + t] * supply_per_gw
            if supply < demand:
                revenue = supply
                paths[PATH_SUPPLY_BOUND, c, t] = 1.0
                paths[PATH_SUPPLY_BOUND, sector, t] = 1.0
            else:
                revenue = demand
            paths[PATH_REVENUE, c, t] = revenue
            paths[PATH_EARNINGS, c, t] = revenue * (1.0 - (opex_term + (opex_1 - opex_term) * excess))
            excess *= decay
            supply_per_gw *= price_keep
    cash0[sector] = 0.0
    for c in range(n_companies):
        cash0[sector] += cash0[c]
        for t in range(horizon):
            for row in (PATH_REVENUE, PATH_EARNINGS, PATH_COST, PATH_CAPACITY):
                paths[row, sector, t] += paths[row, c, t]


@njit(cache=True, error_model="numpy")
def entity_outcome(paths, e, cash0, discount, horizon):
    """Per-draw outcomes of entity ``e``.

    Returns
    -------
    tuple
        ``(coverage, funding_gap, pv_earnings, pv_cost, breakeven, distress)``
        where ``breakeven`` is the 0-based index of the first year with
        ``E_t >= I_t`` (``horizon`` when none) and ``distress`` is True when
        cash ``C_t`` falls below zero in some year.
    """
    v = 1.0 / (1.0 + discount)
    factor = 1.0
    pv_earnings = 0.0
    pv_cost = 0.0
    gap = 0.0
    cash = cash0
    breakeven = horizon
    distress = False
    for t in range(horizon):
        factor *= v
        earnings = paths[PATH_EARNINGS, e, t]
        cost = paths[PATH_COST, e, t]
        pv_earnings += earnings * factor
        pv_cost += cost * factor
        if cost > earnings:
            gap += (cost - earnings) * factor
        elif breakeven == horizon:
            breakeven = t
        cash += earnings - cost
        if cash < 0.0:
            distress = True
    coverage = pv_earnings / pv_cost if pv_cost > 0.0 else np.inf
    return coverage, gap, pv_earnings, pv_cost, breakeven, distress
