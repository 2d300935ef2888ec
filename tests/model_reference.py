"""An independent, plain-numpy reading of ``design/model.md`` (v2), one draw at a time.

It shares nothing with the kernels but the inputs: a draw's prior values and
normal scores, looked up by name.  Written from the design text, not from the
kernels: loops over years and contracts, scipy for the normal quantile,
``numpy.expm1`` for the flow, the annuity's closed form.  The tests compare it
with the kernels draw for draw.
"""

from __future__ import annotations

import math

import numpy as np
from scipy.stats import norm

from risk.scenario.compile import prior_variates, score_names


class Draw:
    """Named access to one draw's prior values and normal scores."""

    def __init__(self, scenario, values, z):
        self.scenario = scenario
        self.index = prior_variates(scenario)
        self.names = {name: i for i, name in enumerate(score_names(scenario))}
        self.values, self.z = values, z

    def __call__(self, path, t=None):
        indices = self.index[path][1]
        return float(self.values[indices[0] if t is None else indices[t]])

    def score(self, name):
        return float(self.z[self.names[name]])


def logmean(a, b):
    return a if a == b else (b - a) / math.log(b / a)


def annuity(rate, years):
    return 1.0 / years if rate == 0.0 else rate / (1.0 - (1.0 + rate) ** -years)


def ramp_at(ramp, position):
    """The contracted ramp at a (fractional) position: 0 before year 0, flat after its end."""
    last = len(ramp) - 1
    if position <= -1:
        return 0.0
    if position >= last:
        return ramp[last]
    i = math.floor(position)
    left = ramp[i] if i >= 0 else 0.0
    return left + (position - i) * (ramp[i + 1] - left)


def market_path(draw, horizon):
    """Open (True) or closed in each year: closes on a weak demand factor, reopens on its own stream."""
    market = draw.scenario.funding_market
    if not market:
        return [False] * horizon
    p_close, p_reopen = draw("funding_market.p_close"), draw("funding_market.p_reopen")
    states, open_ = [], True
    for t in range(horizon):
        if open_:
            open_ = draw.score(f"demand_factor[{t}]") >= norm.ppf(p_close)
        else:
            open_ = draw.score(f"funding_market.reopen[{t}]") < norm.ppf(p_reopen)
        states.append(open_)
    return states


def company(draw, c, horizon):
    """Year-by-year quantities of company ``c`` (dict of arrays) and its contracts' online GW."""
    scenario = draw.scenario
    name = c.name
    p = lambda prior, t=None: draw(f"companies.{name}.{prior}", t)  # noqa: E731
    loading = scenario.demand_correlation
    l1, lterm = math.log1p(p("growth_initial")), math.log1p(p("growth_terminal"))
    halflife, vol = p("growth_halflife"), p("growth_vol")
    utilization = [p("utilization", t) for t in range(horizon)]
    ts1 = p("training_share")
    if "revenue_per_gw" in c.priors:
        serving = (1 - ts1) * np.mean(utilization)
        yield1 = p("revenue_per_gw") / serving if serving > 0 else 0.0
    else:
        yield1 = p("yield_per_gw")
    financing = draw("financing_rate")
    contracts = []
    for k in c.contracts:
        q = lambda prior: draw(f"companies.{name}.contracts.{k.name}.{prior}")  # noqa: E731
        delay = q("ramp_delay")
        gw = [q("delivered_fraction") * ramp_at(k.capacity_gw, t - delay) for t in range(horizon)]
        if k.kind == "lease":
            unit = q("lease_per_gw_year")
        else:
            unit = (q("capex_per_gw") * annuity(financing, q("life_years"))
                    + 8.76 * q("pue") * q("power_price") / 1000)
        contracts.append({"gw": gw, "unit": unit, "binding": k.binding_gw, "notice": k.notice_years,
                          "notices": [], "online": [0.0] * horizon})

    def scheduled(contract, s):
        # notices given in year d remove 1 - clamp(notice - (s - d), 0, 1) of their GW in year s
        return sum(x * (1 - min(max(contract["notice"] - (s - d), 0.0), 1.0))
                   for d, x in contract["notices"] if d <= s)

    def cancelled_in(contract, s):
        # never below the binding part
        return min(scheduled(contract, s), max(contract["gw"][s] - contract["binding"], 0.0))

    out = {key: np.zeros(horizon) for key in ("revenue", "earnings", "sbc", "cost", "runrate", "growth",
                                              "capacity", "cancelled", "inflow")}
    run_rate = p("revenue0")
    for t in range(horizon):
        shock = (math.sqrt(loading) * draw.score(f"demand_factor[{t}]")
                 + math.sqrt(1 - loading) * draw.score(f"companies.{name}.growth_shock[{t}]"))
        excess = 2.0 ** (-t / halflife)
        log_growth = lterm + (l1 - lterm) * excess + vol * shock
        previous, run_rate = run_rate, run_rate * math.exp(log_growth)
        demand = logmean(previous, run_rate)
        online = [k["gw"][t] - cancelled_in(k, t) for k in contracts]
        capacity = sum(online)
        ts = ts1 * (1 - p("training_share_decay")) ** t
        supply = capacity * (1 - ts) * utilization[t] * yield1 * (1 - p("price_decline")) ** t
        revenue = min(demand, supply)
        if demand < supply:  # management's option
            excess_gw = capacity * (1 - demand / supply)
            # GW under notice whose notice has not yet run out
            pending = sum(sum(x for _, x in k["notices"]) - scheduled(k, t) for k in contracts)
            remaining = [max(k["gw"][t] - k["binding"] - sum(x for _, x in k["notices"]), 0.0)
                         for k in contracts]
            wanted = min(max(excess_gw - pending, 0.0), sum(remaining))
            if wanted > 0:
                for k, r in zip(contracts, remaining):
                    k["notices"].append((t, wanted * r / sum(remaining)))
        for k in contracts:
            k["online"][t] = k["gw"][t] - cancelled_in(k, t)
        opex = p("opex_ratio_terminal") + (p("opex_ratio_initial") - p("opex_ratio_terminal")) * excess
        sbc = p("sbc_ratio_terminal") + (p("sbc_ratio_initial") - p("sbc_ratio_terminal")) * excess
        out["revenue"][t] = revenue
        out["earnings"][t] = revenue * (1 - opex)
        out["sbc"][t] = revenue * sbc
        out["cost"][t] = sum(k["online"][t] * k["unit"] for k in contracts)
        out["capacity"][t] = sum(k["online"][t] for k in contracts)
        out["cancelled"][t] = sum(k["gw"][t] - k["online"][t] for k in contracts)
        out["runrate"][t] = run_rate
        out["growth"][t] = run_rate / previous - 1
    for j, investment in enumerate(c.investments):
        amount = draw(f"companies.{name}.investments[{j}].amount")
        if investment.timing == "upfront":
            out["inflow"][0] += amount
        elif investment.timing == "per_gw":
            k = contracts[[x.name for x in c.contracts].index(investment.contract)]
            peak = 0.0
            for t in range(horizon):
                out["inflow"][t] += amount * max(k["online"][t] - peak, 0.0)
                peak = max(peak, k["online"][t])
    out["cash0"] = p("cash0")
    return out


def outcomes(draw, path, market, horizon):
    """Coverage, gap, break-even, distress, default and new money of one company's path."""
    v = 1.0 / (1.0 + draw("discount_rate"))
    factors = v ** np.arange(1, horizon + 1)
    earnings, cost = path["earnings"], path["cost"]
    pv_e, pv_i = float(np.sum(earnings * factors)), float(np.sum(cost * factors))
    has_market = bool(draw.scenario.funding_market)
    hurdle = draw("funding_market.growth_hurdle") if has_market else 0.0
    multiple = draw("funding_market.raise_multiple") if has_market else 0.0
    cash = alone = path["cash0"]
    distress = default = False
    raised = np.zeros(horizon)
    for t in range(horizon):
        flow = earnings[t] - cost[t] + path["inflow"][t]
        alone += flow
        distress |= alone < 0
        before = cash + flow
        burn = max(0.0, cost[t] - earnings[t])
        if before < burn and market[t] and path["growth"][t] >= hurdle:
            raised[t] = min(burn - before, multiple * path["runrate"][t])
        cash = before + raised[t]
        default |= cash < 0
    losses = [t for t in range(horizon) if cost[t] > earnings[t]]
    return {
        "coverage": pv_e / pv_i if pv_i > 0 else math.inf,
        "coverage_economic": float(np.sum((earnings - path["sbc"]) * factors)) / pv_i if pv_i > 0 else math.inf,
        "gap": float(np.sum(np.maximum(cost - earnings, 0.0) * factors)),
        "pv_earnings": pv_e, "pv_cost": pv_i,
        "breakeven": (losses[-1] + 1) if losses else 0,
        "distress": distress, "default": default, "new_money": float(raised.sum()), "raised": raised,
    }


def simulate_draw(scenario, values, z):
    """Every company's path and outcomes, and the sector's, of one draw."""
    draw = Draw(scenario, values, z)
    horizon = scenario.horizon
    market = market_path(draw, horizon)
    paths = {c.name: company(draw, c, horizon) for c in scenario.companies}
    results = {name: outcomes(draw, path, market, horizon) for name, path in paths.items()}
    each = list(results.values())
    pv_e, pv_i = sum(r["pv_earnings"] for r in each), sum(r["pv_cost"] for r in each)
    results["sector"] = {
        "coverage": min(r["coverage"] for r in each),
        "coverage_economic": min(r["coverage_economic"] for r in each),
        "coverage_pooled": pv_e / pv_i if pv_i > 0 else math.inf,
        "gap": sum(r["gap"] for r in each), "pv_earnings": pv_e, "pv_cost": pv_i,
        "breakeven": max(r["breakeven"] for r in each),
        "distress": any(r["distress"] for r in each), "default": any(r["default"] for r in each),
        "new_money": sum(r["new_money"] for r in each),
    }
    return paths, results, market
