"""Importance weights from observations, and weighted streaming accumulators.

A draw's log-likelihood compares each observation (annualized revenue or GW
in service of a company at a time ``tau`` years after the scenario's as-of
date) with the draw's own path, with lognormal measurement error
(``log observed ~ Normal(log model, sigma)``; constants dropped, they cancel
in self-normalised weights).  The model's annualized revenue at ``tau``
interpolates the log-revenue linearly between ``(0, log revenue0)`` and the
year ends ``(t, log D_t)`` of the run-rate path (the path is exponential
within a year, so this is exact), extrapolating the first segment backwards
for observations before the as-of date and holding the last value after the
horizon; GW in service interpolates ``K_t`` linearly between
the mid-points and holds its end values.

Weighted accumulators must merge exactly in any order (the same seed gives
the same numbers for any thread count): weighted histograms hold weights as
fixed-point integers (``WEIGHT_SCALE``, so a weight below 2**-30 of the
largest counts as 0), and floating-point sums are kept per chunk and added
in chunk order by the caller.
"""

import math

import numpy as np
from ._jit import driver, njit

from .histogram import bin_index
from .model import OUT_COVERAGE, OUT_DISTRESS, OUT_GAP, OUT_PV_COST, PATH_CAPACITY, PATH_RUNRATE, REVENUE0
from .simulate import LANES, SAMPLER_MC, calibrated, model_block, score_block, set_block, set_fixed

OBS_REVENUE = 0
OBS_CAPACITY = 1
WEIGHT_SCALE = float(2**30)

# Per-entity weighted sums (per chunk).
W_SUM = 0
W_SQ = 1
W_SHORT = 2
W_SHORT_SQ = 3  # sum of w**2 over shortfall draws
W_DISTRESS = 4
W_DISTRESS_SQ = 5
W_GAP = 6
W_GAP_W2 = 7  # sum of w**2 * gap
W_GAP2_W2 = 8  # sum of w**2 * gap**2
W_PV_COST = 9
N_WEIGHTED = 10


@njit(cache=True, error_model="numpy")
def model_at(paths, values, lane, company_var, company, kind, tau, horizon):
    """Lane ``lane``'s annualized revenue or GW in service of ``company`` at ``tau`` years after as-of."""
    if kind == OBS_REVENUE:
        # the run-rate path: revenue0 at as-of, D_t at the end of year t, exponential in between
        start = values[company_var[company, REVENUE0], lane]
        if tau >= horizon:
            return paths[PATH_RUNRATE, company, horizon - 1, lane]
        i = int(math.floor(tau))  # year i + 1 runs from i to i + 1
        if i < 0:
            i = 0
        left = start if i == 0 else paths[PATH_RUNRATE, company, i - 1, lane]
        right = paths[PATH_RUNRATE, company, i, lane]
        if left <= 0.0 or right <= 0.0:
            return 0.0
        fraction = tau - i
        return math.exp(math.log(left) + fraction * (math.log(right) - math.log(left)))
    position = tau + 0.5
    if position <= 1.0:
        return paths[PATH_CAPACITY, company, 0, lane]
    if position >= horizon:
        return paths[PATH_CAPACITY, company, horizon - 1, lane]
    i = int(position) - 1
    fraction = position - (i + 1)
    left = paths[PATH_CAPACITY, company, i, lane]
    return left + fraction * (paths[PATH_CAPACITY, company, i + 1, lane] - left)


@njit(cache=True, error_model="numpy")
def log_likelihood(paths, values, lane, company_var, observations, horizon):
    """Sum over observations of ``-((log y - log model) / sigma)**2 / 2`` (-inf if a model value is 0).

    ``observations`` has one row per observation: company, kind, tau, log value, sigma.
    """
    total = 0.0
    for j in range(observations.shape[0]):
        modelled = model_at(paths, values, lane, company_var, int(observations[j, 0]), int(observations[j, 1]),
                            observations[j, 2], horizon)
        if modelled <= 0.0:
            return -math.inf
        residual = (observations[j, 3] - math.log(modelled)) / observations[j, 4]
        total -= 0.5 * residual * residual
    return total


@driver(cache=True, nogil=True, error_model="numpy")
def log_weights(slot, n_slots, block, sampler, z_keys, first_draw, model, calibrations, observations, out):
    """Log-likelihood of draws ``first_draw ..`` under every calibration: ``out[i * M + j]`` for draw
    ``first_draw + i`` under calibration ``j`` (``M`` calibrations; ``len(out) = n * M``).

    Slot ``slot`` of ``n_slots`` (threads, each with its own ``block``) fills tasks ``slot, slot + n_slots,
    ...`` of ``64 * LANES`` draws.
    """
    n_cal = calibrations.specs.shape[0]
    n = out.shape[0] // n_cal
    per_task = 64 * LANES
    draws, values, paths = block.draws, block.values, block.paths
    for task in range(slot, (n + per_task - 1) // per_task, n_slots):
        task_last = min((task + 1) * per_task, n)
        for block_first in range(task * per_task, task_last, LANES):
            set_block(draws, first_draw + block_first, first_draw + task_last)
            score_block(block, sampler, z_keys, block.no_scores, model)
            for j in range(n_cal):
                if n_cal > 1:
                    set_fixed(values, calibrations.specs[j])
                model_block(block, calibrated(model, calibrations, j))
                for lane in range(min(LANES, task_last - block_first)):
                    out[(block_first + lane) * n_cal + j] = log_likelihood(paths, values, lane, model.company_var,
                                                                           observations, model.horizon)


@njit(cache=True, error_model="numpy")
def _weight(draw, lw, lw_max, tail_draws, tail_lw):
    # tail draws (sorted) take their Pareto-smoothed log-weight; the others their raw one
    lo, hi = 0, tail_draws.shape[0]
    while lo < hi:
        mid = (lo + hi) // 2
        if tail_draws[mid] < draw:
            lo = mid + 1
        else:
            hi = mid
    if lo < tail_draws.shape[0] and tail_draws[lo] == draw:
        return math.exp(tail_lw[lo] - lw_max)
    return math.exp(lw - lw_max)


@driver(cache=True, nogil=True, error_model="numpy")
def weighted_batch(slot, n_slots, block, sampler, z_keys, first_chunk, batch_chunks, chunk_size, total_draws,
                   model, calibrations, observations, lw_max, tail_draws, tail_lw, sums, prior_sums, hists,
                   prior_hists):
    """Weighted statistics of chunks ``first_chunk ..`` (the second pass of the posterior).

    Draw ``d`` under calibration ``j`` is run ``d * M + j`` (``log_weights``).
    ``sums`` (batch_chunks, n_entities, N_WEIGHTED) and ``prior_sums``
    (batch_chunks, n_variates) are per-chunk floats (overwritten); ``hists``
    (n_slots, n_entities, 2, N_BINS) weighted coverage and funding-gap
    histograms and ``prior_hists`` (n_slots, n_variates, N_BINS) weighted
    prior histograms are fixed-point integers (added to).  Slot ``slot`` of
    ``n_slots`` (threads) runs chunks ``slot, slot + n_slots, ...``.
    """
    n_cal = calibrations.specs.shape[0]
    draws, values, paths, outcomes = block.draws, block.values, block.paths, block.outcomes
    for ci in range(slot, batch_chunks, n_slots):
        sums[ci, :, :] = 0.0
        prior_sums[ci, :] = 0.0
        first = (first_chunk + ci) * chunk_size
        last = min(first + chunk_size, total_draws)
        for block_first in range(first, last, LANES):
            set_block(draws, block_first, last)
            score_block(block, sampler, z_keys, block.no_scores, model)
            for j in range(n_cal):
                if n_cal > 1:
                    set_fixed(values, calibrations.specs[j])
                model_block(block, calibrated(model, calibrations, j))
                for lane in range(min(LANES, last - block_first)):
                    _add_weighted(draws[lane] * n_cal + j, lane, values, paths, outcomes, model.company_var,
                                  observations, lw_max, tail_draws, tail_lw, model.horizon, sums[ci], prior_sums[ci],
                                  hists[slot], prior_hists[slot])


@njit(cache=True, error_model="numpy")
def _add_weighted(draw, lane, values, paths, outcomes, company_var, observations, lw_max, tail_draws, tail_lw,
                  horizon, sums, prior_sums, hists, prior_hists):
    # one draw's contribution to the weighted sums and fixed-point histograms
    lw = log_likelihood(paths, values, lane, company_var, observations, horizon)
    w = _weight(draw, lw, lw_max, tail_draws, tail_lw)
    if w == 0.0:
        return
    units = np.int64(w * WEIGHT_SCALE + 0.5)
    w2 = w * w
    for e in range(hists.shape[0]):
        coverage = outcomes[OUT_COVERAGE, e, lane]
        gap = outcomes[OUT_GAP, e, lane]
        pv_cost = outcomes[OUT_PV_COST, e, lane]
        distress = outcomes[OUT_DISTRESS, e, lane] > 0.0
        sums[e, W_SUM] += w
        sums[e, W_SQ] += w2
        if coverage < 1.0:
            sums[e, W_SHORT] += w
            sums[e, W_SHORT_SQ] += w2
        if distress:
            sums[e, W_DISTRESS] += w
            sums[e, W_DISTRESS_SQ] += w2
        sums[e, W_GAP] += w * gap
        sums[e, W_GAP_W2] += w2 * gap
        sums[e, W_GAP2_W2] += w2 * gap * gap
        sums[e, W_PV_COST] += w * pv_cost
        hists[e, 0, bin_index(coverage)] += units
        hists[e, 1, bin_index(gap)] += units
    for v in range(values.shape[0]):
        prior_sums[v] += w * values[v, lane]
        prior_hists[v, bin_index(values[v, lane])] += units


# Per-observation sums of the prior predictive (``predict_batch``), per chunk.
P_CDF = 0  # sum over draws of Phi((log y - log model) / sigma): the PIT's numerator
P_CDF_SQ = 1  # its square: the PIT's Monte Carlo error
P_DENSITY = 2  # sum over draws of the predictive density of log y
N_PREDICTED = 3
_SQRT_2PI = math.sqrt(2.0 * math.pi)


@driver(cache=True, nogil=True, error_model="numpy")
def predict_batch(slot, n_slots, block, z_keys, first_chunk, batch_chunks, chunk_size, total_draws, model,
                  calibrations, observations, sums):
    """Prior-predictive sums of each observation (``P_*``) over chunks ``first_chunk ..`` (a backtest).

    Every calibration runs on each draw's scores, as in ``simulate.run_batch``;
    ``sums`` (batch_chunks, n_observations, n_calibrations, N_PREDICTED) is overwritten, one row per chunk.
    Slot ``slot`` of ``n_slots`` (threads) runs chunks ``slot, slot + n_slots, ...``.
    """
    n_cal = calibrations.specs.shape[0]
    draws, values, paths = block.draws, block.values, block.paths
    for ci in range(slot, batch_chunks, n_slots):
        sums[ci, :, :, :] = 0.0
        first = (first_chunk + ci) * chunk_size
        last = min(first + chunk_size, total_draws)
        for block_first in range(first, last, LANES):
            set_block(draws, block_first, last)
            score_block(block, np.int64(SAMPLER_MC), z_keys, block.no_scores, model)  # int64: one specialization
            for j in range(n_cal):
                if n_cal > 1:
                    set_fixed(values, calibrations.specs[j])
                model_block(block, calibrated(model, calibrations, j))
                for lane in range(min(LANES, last - block_first)):
                    for o in range(observations.shape[0]):
                        modelled = model_at(paths, values, lane, model.company_var, int(observations[o, 0]),
                                            int(observations[o, 1]), observations[o, 2], model.horizon)
                        sigma = observations[o, 4]
                        if modelled <= 0.0:
                            sums[ci, o, j, P_CDF] += 1.0  # a model value of 0 lies below any observation
                            sums[ci, o, j, P_CDF_SQ] += 1.0
                            continue
                        z = (observations[o, 3] - math.log(modelled)) / sigma
                        cdf = 0.5 * math.erfc(-z / math.sqrt(2.0))
                        sums[ci, o, j, P_CDF] += cdf
                        sums[ci, o, j, P_CDF_SQ] += cdf * cdf
                        sums[ci, o, j, P_DENSITY] += math.exp(-0.5 * z * z) / (sigma * _SQRT_2PI)
