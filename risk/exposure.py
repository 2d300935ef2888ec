"""Provider exposure and circular financing: who holds the bag (``risk exposure``, ``--by provider``).

For every provider and investor named in the scenario (and in total), over
the draws: the expected **revenue at risk** (present value of payments owed
but not made) with its standard error, ``P(revenue at risk > 0)`` with a
Wilson interval, VaR95 and CVaR95 of revenue at risk (from its histogram,
0.78 % bins), revenue booked, paid and cancelled, the expected **round-trip
share** (the part of the payments received that is the provider's own
investment coming back, pro rata to its share of the lab's funding), and the
expected **investment loss** (investment times ``1 - equity_recovery`` when
the lab leaves a payment unpaid).  The settlement rules are in
``risk.kernels.exposure``.
"""

from __future__ import annotations

import math

import numpy as np

from . import engine
from .kernels import exposure as kx
from .result import probability, tail_risk


def provider_stats(sums: np.ndarray, hists: np.ndarray, names: list[str], draws: int) -> dict:
    """Per-provider statistics (and ``"total"``) from ``engine.run_exposure``'s accumulators."""
    stats = {}
    n = draws
    for row, name in enumerate(list(names) + ["total"]):
        s = sums[row]
        at_risk = s[kx.S_UNPAID] / n
        at_risk_var = max(s[kx.S_UNPAID_SQ] / n - at_risk ** 2, 0.0) * n / max(n - 1, 1)
        loss = s[kx.S_LOSS] / n
        loss_var = max(s[kx.S_LOSS_SQ] / n - loss ** 2, 0.0) * n / max(n - 1, 1)
        share_n = s[kx.S_SHARE_DRAWS]
        share = s[kx.S_SHARE] / share_n if share_n else 0.0
        share_var = max(s[kx.S_SHARE_SQ] / share_n - share ** 2, 0.0) if share_n > 1 else 0.0
        tail = tail_risk(hists[row])
        stats[name] = {
            "revenue_booked_mean": s[kx.S_BOOKED] / n,
            "revenue_paid_mean": s[kx.S_PAID] / n,
            "revenue_cancelled_mean": s[kx.S_CANCELLED] / n,
            "revenue_at_risk_mean": at_risk,
            "revenue_at_risk_mean_mcse": math.sqrt(at_risk_var / n),
            "p_revenue_at_risk": probability(int(round(s[kx.S_AT_RISK])), n),
            "revenue_at_risk_var95": tail["var"],
            "revenue_at_risk_cvar95": tail["cvar"],
            "revenue_at_risk_cvar95_mcse": tail["cvar_mcse"],
            "invested_mean": s[kx.S_INVESTED] / n,
            "round_trip_mean": s[kx.S_ROUND_TRIP] / n,
            "round_trip_share_mean": share,
            "round_trip_share_mcse": math.sqrt(share_var / share_n) if share_n > 1 else 0.0,
            "investment_loss_mean": loss,
            "investment_loss_mean_mcse": math.sqrt(loss_var / n),
        }
    return stats


def run(compiled, *, draws: int, seed: int, threads: int | None = None,
        chunk_size: int = engine.DEFAULT_CHUNK_SIZE, executor=None) -> dict:
    """Settle every draw and summarise per provider (see the module docstring)."""
    sums, hists = engine.run_exposure(compiled, draws=draws, seed=seed, threads=threads, chunk_size=chunk_size,
                                      executor=executor)
    return provider_stats(sums, hists, compiled.providers, draws)
