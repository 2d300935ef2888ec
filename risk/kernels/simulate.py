"""The parallel driver: a batch of chunks of draws -> streaming accumulators.

Reproducibility by construction:

* draw ``d`` of an input always uses the same block of that input's named
  stream (``rng.stream_keys``, ``rng.draw_offset``);
* integer accumulators (counts, histograms) are per slot and merge exactly
  in any order;
* floating-point sums are kept per chunk and added up by the caller in
  chunk order, so a seed gives bit-identical numbers for any thread count.

Slots run in parallel (``prange``); slot ``s`` takes chunks ``s, s + S, ...``
of the batch, so no two threads write the same memory.
"""

import numpy as np
from numba import njit, prange

from .histogram import N_BINS, bin_index
from .model import (N_PATHS, PATH_COST, PATH_EARNINGS, PATH_REVENUE, PATH_SUPPLY_BOUND,
                    company_paths, entity_outcome)
from .rng import draw_offset, next_normal
from .sampling import fill_fixed, sample_values

# Integer counters per entity.
C_SHORTFALL = 0
C_DISTRESS = 1
C_BREAKEVEN = 2  # horizon + 1 entries: year index, then "none"


def c_supply(horizon):
    """First counter of the per-year supply-bound counts."""
    return C_BREAKEVEN + horizon + 1


def n_counts(horizon):
    """Number of integer counters per entity."""
    return c_supply(horizon) + horizon


# Floating-point sums per entity (kept per chunk).
F_GAP = 0
F_GAP_SQ = 1
F_PV_EARNINGS = 2
F_PV_COST = 3
F_SHORTFALL = 4  # the counts again, per chunk: batch-means errors (engine)
F_DISTRESS = 5
F_REVENUE = 6  # horizon entries each, then earnings, then cost

# Samplers: where a draw's normal scores come from.
SAMPLER_MC = 0  # its own counter-based streams
SAMPLER_ANTITHETIC = 1  # draws 2k and 2k + 1 share streams, with opposite signs
SAMPLER_SCORES = 2  # rows of a given matrix (randomised quasi-Monte Carlo)


def n_floats(horizon):
    """Number of floating-point sums per entity."""
    return F_REVENUE + 3 * horizon


# Histograms per entity.
H_COVERAGE = 0
H_GAP = 1
H_REVENUE = 2  # horizon entries each: revenue, earnings, cost, earnings / cost


def n_histograms(horizon):
    """Number of histograms per entity."""
    return H_REVENUE + 4 * horizon


@njit(cache=True, error_model="numpy")
def _draw_scores(draw, sampler, z_keys, scores, z_active, z):
    # fixed priors' scores are never drawn: nothing reads them.  The keys are
    # contiguous (one load per score; an indexed key load cost 15 %).
    if sampler == SAMPLER_SCORES:
        for j in range(z_active.shape[0]):
            z[z_active[j]] = scores[draw, j]
    elif sampler == SAMPLER_ANTITHETIC:
        offset = draw_offset(draw >> 1)
        sign = -1.0 if draw & 1 else 1.0
        for j in range(z_active.shape[0]):
            score, _ = next_normal(z_keys[j] + offset)
            z[z_active[j]] = sign * score
    else:
        offset = draw_offset(draw)
        for j in range(z_active.shape[0]):
            z[z_active[j]], _ = next_normal(z_keys[j] + offset)


@njit(cache=True, error_model="numpy")
def draw_scratch(n_z, spec, n_entities, horizon):
    """One thread's scratch for a draw: ``(z, values, paths, cash0, gw, no_scores)``.

    ``values`` has the fixed priors written once; ``gw`` holds one contract's
    GW by year; ``no_scores`` is the empty score matrix of the RNG samplers.
    """
    z = np.zeros(n_z)
    values = np.empty(spec.shape[0])
    fill_fixed(values, spec)
    return (z, values, np.zeros((N_PATHS, n_entities, horizon)), np.empty(n_entities), np.empty(horizon),
            np.empty((0, 0)))


@njit(cache=True, error_model="numpy", inline="always")  # per draw: 13 % slower as a call (4e6 draws, 1 thread)
def simulate_draw(draw, sampler, z_keys, scores, z_active, z, values, spec, tables, order, family_start,
                  copula_index, copula_chol, company_var, contract_var, contract_ramp, factor_z, demand_loading,
                  horizon, paths, cash0, gw):
    """Draw ``draw``'s normal scores, its prior values and its yearly paths (into the scratch arrays)."""
    _draw_scores(draw, sampler, z_keys, scores, z_active, z)
    _sample_draw(z, values, spec, tables, order, family_start, copula_index, copula_chol)
    company_paths(values, z, company_var, contract_var, contract_ramp, factor_z, demand_loading, horizon,
                  paths, cash0, gw)


@njit(cache=True, error_model="numpy")
def _sample_draw(z, values, spec, tables, order, family_start, copula_index, copula_chol):
    # Gaussian copula: z[idx] <- L @ z[idx], in place from the last row up.
    for i in range(copula_index.shape[0] - 1, -1, -1):
        acc = 0.0
        for j in range(i + 1):
            acc += copula_chol[i, j] * z[copula_index[j]]
        z[copula_index[i]] = acc
    sample_values(z, values, spec, tables, order, family_start)


@njit(cache=True, error_model="numpy")
def _accumulate(e, horizon, paths, outcome, counts, sums, hists):
    coverage, gap, pv_earnings, pv_cost, breakeven, distress = outcome
    if coverage < 1.0:
        counts[e, C_SHORTFALL] += 1
        sums[e, F_SHORTFALL] += 1.0
    if distress:
        counts[e, C_DISTRESS] += 1
        sums[e, F_DISTRESS] += 1.0
    counts[e, C_BREAKEVEN + breakeven] += 1
    supply_first = C_BREAKEVEN + horizon + 1
    sums[e, F_GAP] += gap
    sums[e, F_GAP_SQ] += gap * gap
    sums[e, F_PV_EARNINGS] += pv_earnings
    sums[e, F_PV_COST] += pv_cost
    hists[e, H_COVERAGE, bin_index(coverage)] += 1
    hists[e, H_GAP, bin_index(gap)] += 1
    for t in range(horizon):
        if paths[PATH_SUPPLY_BOUND, e, t] > 0.0:
            counts[e, supply_first + t] += 1
        revenue = paths[PATH_REVENUE, e, t]
        earnings = paths[PATH_EARNINGS, e, t]
        cost = paths[PATH_COST, e, t]
        sums[e, F_REVENUE + t] += revenue
        sums[e, F_REVENUE + horizon + t] += earnings
        sums[e, F_REVENUE + 2 * horizon + t] += cost
        if cost > 0.0:
            ratio = earnings / cost
        else:
            ratio = np.inf if earnings >= 0.0 else -np.inf
        hists[e, H_REVENUE + t, bin_index(revenue)] += 1
        hists[e, H_REVENUE + horizon + t, bin_index(earnings)] += 1
        hists[e, H_REVENUE + 2 * horizon + t, bin_index(cost)] += 1
        hists[e, H_REVENUE + 3 * horizon + t, bin_index(ratio)] += 1


@njit(cache=True, parallel=True, error_model="numpy")
def run_batch(sampler, z_keys, scores, first_chunk, batch_chunks, chunk_size, total_draws,
              n_z, z_active, spec, tables, order, family_start, copula_index, copula_chol,
              company_var, contract_var, contract_ramp, factor_z, demand_loading, discount_var,
              horizon, counts, hists, sums):
    """Simulate chunks ``first_chunk .. first_chunk + batch_chunks - 1``.

    Parameters
    ----------
    sampler : int
        ``SAMPLER_MC``, ``SAMPLER_ANTITHETIC`` or ``SAMPLER_SCORES``.
    z_keys : numpy.ndarray of uint64
        Key of the stream of each score in ``z_active`` (``rng.stream_keys``):
        the seed and the input's name.
    scores : numpy.ndarray of shape (total_draws, len(z_active))
        With ``SAMPLER_SCORES``: draw ``d``'s normal scores are row ``d``
        (otherwise an empty array).
    first_chunk, batch_chunks, chunk_size, total_draws : int
        Chunk ``c`` holds draws ``[c * chunk_size, min((c + 1) * chunk_size, total_draws))``.
    spec, tables, order, family_start : numpy.ndarray
        Compiled priors, one ``spec`` row per variate (see ``sampling.sample_values``).
    copula_index, copula_chol : numpy.ndarray
        Variates under the Gaussian copula and the Cholesky factor of their
        correlation matrix (empty when there is no copula).
    n_z : int
        Normal scores per draw (variates, growth shocks, demand factor).
    z_active : numpy.ndarray of int64
        The normal scores to draw (those of fixed priors are skipped).
    company_var, contract_var, contract_ramp, factor_z, demand_loading, horizon
        The compiled scenario (see ``model.company_paths``).
    discount_var : int
        Index of the discount rate among the variates.
    counts : numpy.ndarray of int64, shape (n_slots, n_entities, n_counts)
        Integer counters, added to (one slot per parallel worker).
    hists : numpy.ndarray of int64, shape (n_slots, n_entities, n_histograms, N_BINS)
        Histograms, added to.
    sums : numpy.ndarray of float64, shape (batch_chunks, n_entities, n_floats)
        Output: floating-point sums of each chunk (overwritten).
    """
    n_slots = counts.shape[0]
    n_entities = counts.shape[1]
    for slot in prange(n_slots):
        z, values, paths, cash0, gw, _ = draw_scratch(n_z, spec, n_entities, horizon)
        slot_counts = counts[slot]
        slot_hists = hists[slot]
        for ci in range(slot, batch_chunks, n_slots):
            chunk_sums = sums[ci]
            chunk_sums[:, :] = 0.0
            first = (first_chunk + ci) * chunk_size
            last = min(first + chunk_size, total_draws)
            for draw in range(first, last):
                simulate_draw(draw, sampler, z_keys, scores, z_active, z, values, spec, tables, order,
                              family_start, copula_index, copula_chol, company_var, contract_var,
                              contract_ramp, factor_z, demand_loading, horizon, paths, cash0, gw)
                discount = values[discount_var]
                for e in range(n_entities):
                    outcome = entity_outcome(paths, e, cash0[e], discount, horizon)
                    _accumulate(e, horizon, paths, outcome, slot_counts, chunk_sums, slot_hists)


@njit(cache=True, error_model="numpy")
def add_in_order(total, sums):
    """``total += sums[0]; total += sums[1]; ...``: the fixed summation order."""
    for ci in range(sums.shape[0]):
        for e in range(sums.shape[1]):
            for f in range(sums.shape[2]):
                total[e, f] += sums[ci, e, f]


def allocate(n_slots, n_entities, horizon, batch_chunks):
    """Allocate the accumulators of a run (numpy; called from the engine)."""
    counts = np.zeros((n_slots, n_entities, n_counts(horizon)), dtype=np.int64)
    hists = np.zeros((n_slots, n_entities, n_histograms(horizon), N_BINS), dtype=np.int64)
    sums = np.zeros((batch_chunks, n_entities, n_floats(horizon)))
    return counts, hists, sums


# Columns of ``record_draws``'s per-draw outcomes.
R_COVERAGE = 0
R_GAP = 1
R_BREAKEVEN = 2  # year index, or horizon when none
R_DISTRESS = 3  # 1.0 or 0.0


@njit(cache=True, parallel=True, error_model="numpy")
def record_draws(sampler, z_keys, draw_index, n_z, z_active, spec, tables, order, family_start,
                 copula_index, copula_chol, company_var, contract_var, contract_ramp, factor_z,
                 demand_loading, discount_var, horizon, values_out, outcomes_out, paths_out):
    """Keep per-draw records of the draws ``draw_index`` (kept draws, sensitivity).

    The same draws as :func:`run_batch` gives for the same keys and sampler
    (``SAMPLER_MC`` or ``SAMPLER_ANTITHETIC``).  Memory is the caller's:
    ``outcomes_out`` has shape ``(n, n_entities, 4)`` (``R_*`` columns),
    ``values_out`` ``(n, n_variates)`` and ``paths_out`` ``(n, 3, n_entities,
    horizon)`` (revenue, earnings, compute cost), or a first dimension of 0
    when not wanted.
    """
    n = outcomes_out.shape[0]
    n_entities = outcomes_out.shape[1]
    keep_values = values_out.shape[0] == n
    keep_paths = paths_out.shape[0] == n
    block = 1024
    for b in prange((n + block - 1) // block):
        z, values, paths, cash0, gw, no_scores = draw_scratch(n_z, spec, n_entities, horizon)
        for i in range(b * block, min((b + 1) * block, n)):
            simulate_draw(draw_index[i], sampler, z_keys, no_scores, z_active, z, values, spec, tables, order,
                          family_start, copula_index, copula_chol, company_var, contract_var, contract_ramp,
                          factor_z, demand_loading, horizon, paths, cash0, gw)
            discount = values[discount_var]
            for e in range(n_entities):
                coverage, gap, _, _, breakeven, distress = entity_outcome(paths, e, cash0[e], discount, horizon)
                outcomes_out[i, e, R_COVERAGE] = coverage
                outcomes_out[i, e, R_GAP] = gap
                outcomes_out[i, e, R_BREAKEVEN] = breakeven
                outcomes_out[i, e, R_DISTRESS] = 1.0 if distress else 0.0
                if keep_paths:
                    for t in range(horizon):
                        paths_out[i, 0, e, t] = paths[PATH_REVENUE, e, t]
                        paths_out[i, 1, e, t] = paths[PATH_EARNINGS, e, t]
                        paths_out[i, 2, e, t] = paths[PATH_COST, e, t]
            if keep_values:
                for v in range(values.shape[0]):
                    values_out[i, v] = values[v]
