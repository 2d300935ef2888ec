"""Who holds the bag: a draw's payments to each provider, what goes unpaid, and round-trip money.

The settlement of one draw, company by company (``design`` notes in the
package docs, ``risk/exposure.py``):

* investments add to the lab's cash when they arrive: ``past`` ones are
  already in ``cash0``, ``upfront`` ones arrive at the start, ``per_gw`` ones
  with each GW a contract delivers (``amount`` per GW of growth);
* capacity that management cancelled because demand did not need it
  (``model.company_paths``, the headline's own rule) is never owed: it
  counts as cancelled;
* each year the lab owes every contract its GW online times its unit cost;
  cash includes the new money the draw raised (``model.entity_outcomes``);
  the first year its cash would still go negative it cancels what it can
  cancel (the GW above ``binding_gw``), with the same notice rule
  (effective after ``notice_years``; a fraction of a year of payments
  still falls due);
* when cash still does not cover what is owed, the lab pays what it has and
  the rest is **unpaid**, allocated across contracts pro rata to what each is
  owed that year;
* per provider, in present value at the draw's discount rate: revenue
  **booked** (all contracted payments), **paid**, **unpaid** (revenue at
  risk) and **cancelled**, with ``booked = paid + unpaid + cancelled`` in
  every draw; **invested**; **round trip**: the part of its received payments
  that is its own investment coming back, pro rata to its share of the lab's
  funding (cash0, investments and positive earnings; money is fungible);
  **investment loss**: its investment times ``1 - equity_recovery`` when the
  lab leaves some payment unpaid.

Simplification (documented): earnings follow the draw's path; cancelling
capacity does not lower them, so revenue at risk is a lower bound when
capacity, not demand, binds revenue.
"""

import numpy as np
from ._jit import driver, njit

from .histogram import bin_index
from .model import (CONTRACT_COMPANY, INV_COMPANY, INV_CONTRACT, INV_INVESTOR, INV_TIMING, INV_VARIATE,
                    PATH_EARNINGS, PATH_RAISED, SV_DISCOUNT, TERM_BINDING, TERM_NOTICE, TERM_PROVIDER,
                    TIMING_PAST, TIMING_UPFRONT)
from .simulate import LANES, SAMPLER_MC, set_block, simulate_block

# Per-provider outcomes of one draw.
X_BOOKED = 0
X_PAID = 1
X_UNPAID = 2
X_CANCELLED = 3
X_INVESTED = 4
X_ROUND_TRIP = 5
X_LOSS = 6
N_X = 7

# Per-provider sums per chunk (the last provider row is the total).
S_BOOKED = 0
S_PAID = 1
S_UNPAID = 2
S_UNPAID_SQ = 3
S_AT_RISK = 4  # draws with unpaid > 0
S_CANCELLED = 5
S_INVESTED = 6
S_ROUND_TRIP = 7
S_SHARE = 8  # sum of round trip / paid over draws with payments
S_SHARE_DRAWS = 9
S_LOSS = 10
S_LOSS_SQ = 11
S_SHARE_SQ = 12
N_S = 13


@njit(cache=True, error_model="numpy")
def settle(block, lane, model, recovery, gw, delivered, unit, inflow, paid_by, invested_by, out):
    """Fill ``out[provider, X_*]`` with the settlement of lane ``lane``'s draw (``out`` is zeroed here).

    ``block`` has been filled by ``simulate.simulate_block``.

    Scratch arrays: ``gw`` and ``delivered`` (n_contracts, horizon), ``unit``
    (n_contracts,), ``inflow`` (horizon,), ``paid_by`` and ``invested_by``
    (n_providers,).
    """
    values, paths, cash0 = block.values, block.paths, block.cash0
    company_var, contract_var, contract_terms = model.company_var, model.contract_var, model.contract_terms
    investments, horizon = model.investments, model.horizon
    n_contracts = contract_var.shape[0]
    n_providers = out.shape[0]
    v = 1.0 / (1.0 + values[model.scenario_var[SV_DISCOUNT], lane])
    out[:, :] = 0.0
    for k in range(n_contracts):
        unit[k] = block.contract_unit[k, lane]
        for t in range(horizon):
            gw[k, t] = block.contract_online[k, t, lane]
            delivered[k, t] = block.contract_gw[k, t, lane]
    for c in range(company_var.shape[0]):
        for p in range(n_providers):
            paid_by[p] = 0.0
            invested_by[p] = 0.0
        for t in range(horizon):
            inflow[t] = 0.0
        cash = cash0[c, lane]
        funding = cash0[c, lane]
        for j in range(investments.shape[0]):
            if int(investments[j, INV_COMPANY]) != c:
                continue
            amount = values[int(investments[j, INV_VARIATE]), lane]
            investor = int(investments[j, INV_INVESTOR])
            timing = int(investments[j, INV_TIMING])
            if timing == TIMING_PAST:
                invested_by[investor] += amount  # already in cash0
            elif timing == TIMING_UPFRONT:
                invested_by[investor] += amount
                cash += amount
                funding += amount
            else:
                k = int(investments[j, INV_CONTRACT])
                factor = 1.0
                previous = 0.0
                for t in range(horizon):
                    factor *= v
                    added = amount * max(gw[k, t] - previous, 0.0)
                    previous = max(previous, gw[k, t])
                    inflow[t] += added
                    invested_by[investor] += added * factor
                    funding += added * factor
        decided = np.int64(-1)  # int64 from the start: one specialization of _owed and _kept_gw
        distressed = False
        factor = 1.0
        for t in range(horizon):
            factor *= v
            earnings = paths[PATH_EARNINGS, c, t, lane]
            raised = paths[PATH_RAISED, c, t, lane]
            if earnings > 0.0:
                funding += earnings * factor
            funding += raised * factor
            cash += earnings + inflow[t] + raised
            owed = _owed(c, t, decided, contract_var, contract_terms, gw, unit, horizon)
            if decided < 0 and cash < owed:
                decided = t
                owed = _owed(c, t, decided, contract_var, contract_terms, gw, unit, horizon)
            pay = owed if cash >= owed else max(cash, 0.0)
            share = pay / owed if owed > 0.0 else 1.0
            if pay < owed:
                distressed = True
            cash -= pay
            for k in range(n_contracts):
                if contract_var[k, CONTRACT_COMPANY] != c:
                    continue
                p = int(contract_terms[k, TERM_PROVIDER])
                contracted = unit[k] * delivered[k, t]
                due = unit[k] * _kept_gw(k, t, decided, contract_terms, gw)
                out[p, X_BOOKED] += contracted * factor
                out[p, X_PAID] += due * share * factor
                out[p, X_UNPAID] += due * (1.0 - share) * factor
                out[p, X_CANCELLED] += (contracted - due) * factor
                paid_by[p] += due * share * factor
        for p in range(n_providers):
            out[p, X_INVESTED] += invested_by[p]
            if funding > 0.0:
                out[p, X_ROUND_TRIP] += paid_by[p] * min(invested_by[p] / funding, 1.0)
            if distressed:
                out[p, X_LOSS] += invested_by[p] * (1.0 - recovery)


@njit(cache=True, error_model="numpy")
def _kept_gw(k, t, decided, contract_terms, gw):
    # GW still owed: the binding part, plus the cancellable part until the notice runs out
    binding = min(gw[k, t], contract_terms[k, TERM_BINDING])
    if decided < 0:
        return gw[k, t]
    keep = min(max(contract_terms[k, TERM_NOTICE] - (t - decided), 0.0), 1.0)
    return binding + (gw[k, t] - binding) * keep


@njit(cache=True, error_model="numpy")
def _owed(c, t, decided, contract_var, contract_terms, gw, unit, horizon):
    total = 0.0
    for k in range(contract_var.shape[0]):
        if contract_var[k, CONTRACT_COMPANY] == c:
            total += unit[k] * _kept_gw(k, t, decided, contract_terms, gw)
    return total


@njit(cache=True, error_model="numpy")
def _accumulate(out, sums, hists, slot):
    n_providers = out.shape[0]
    total_row = n_providers
    for row in range(n_providers + 1):
        if row < n_providers:
            booked, paid, unpaid = out[row, X_BOOKED], out[row, X_PAID], out[row, X_UNPAID]
            cancelled, invested = out[row, X_CANCELLED], out[row, X_INVESTED]
            round_trip, loss = out[row, X_ROUND_TRIP], out[row, X_LOSS]
        else:
            booked = paid = unpaid = cancelled = invested = round_trip = loss = 0.0
            for p in range(n_providers):
                booked += out[p, X_BOOKED]
                paid += out[p, X_PAID]
                unpaid += out[p, X_UNPAID]
                cancelled += out[p, X_CANCELLED]
                invested += out[p, X_INVESTED]
                round_trip += out[p, X_ROUND_TRIP]
                loss += out[p, X_LOSS]
        sums[row, S_BOOKED] += booked
        sums[row, S_PAID] += paid
        sums[row, S_UNPAID] += unpaid
        sums[row, S_UNPAID_SQ] += unpaid * unpaid
        if unpaid > 0.0:
            sums[row, S_AT_RISK] += 1.0
        sums[row, S_CANCELLED] += cancelled
        sums[row, S_INVESTED] += invested
        sums[row, S_ROUND_TRIP] += round_trip
        if paid > 0.0:
            share = round_trip / paid
            sums[row, S_SHARE] += share
            sums[row, S_SHARE_SQ] += share * share
            sums[row, S_SHARE_DRAWS] += 1.0
        sums[row, S_LOSS] += loss
        sums[row, S_LOSS_SQ] += loss * loss
        hists[slot, row if row < n_providers else total_row, bin_index(unpaid)] += 1


@driver(cache=True, nogil=True, error_model="numpy")
def exposure_batch(slot, n_slots, block, z_keys, first_chunk, batch_chunks, chunk_size, total_draws, model,
                   recovery, sums, hists):
    """Provider settlements of chunks ``first_chunk ..`` (plain Monte Carlo draws, the streams of ``run_batch``).

    ``sums`` (batch_chunks, n_providers + 1, N_S): per-chunk floats, overwritten;
    ``hists`` (n_slots, n_providers + 1, N_BINS): histograms of the unpaid PV, added to.
    Slot ``slot`` of ``n_slots`` (threads) runs chunks ``slot, slot + n_slots, ...``.
    """
    n_providers = hists.shape[1] - 1
    n_contracts = model.contract_var.shape[0]
    horizon = model.horizon
    draws = block.draws
    gw = np.empty((n_contracts, horizon))
    delivered = np.empty((n_contracts, horizon))
    unit = np.empty(n_contracts)
    inflow = np.empty(horizon)
    paid_by = np.empty(n_providers)
    invested_by = np.empty(n_providers)
    out = np.zeros((n_providers, N_X))
    for ci in range(slot, batch_chunks, n_slots):
        sums[ci, :, :] = 0.0
        first = (first_chunk + ci) * chunk_size
        last = min(first + chunk_size, total_draws)
        for block_first in range(first, last, LANES):
            set_block(draws, block_first, last)
            # np.int64, not the literal constant: the same specialization of simulate_block as every other
            # caller's (a Literal[int] argument compiles a second one, ~4 s of a first run)
            simulate_block(block, np.int64(SAMPLER_MC), z_keys, block.no_scores, model)
            for lane in range(min(LANES, last - block_first)):
                settle(block, lane, model, recovery, gw, delivered, unit, inflow, paid_by, invested_by, out)
                _accumulate(out, sums[ci], hists, slot)
