"""The parallel driver: a batch of chunks of draws -> streaming accumulators.

Reproducibility by construction:

* draw ``d`` of an input always uses the same block of that input's named
  stream (``rng.stream_keys``, ``rng.draw_offset``);
* integer accumulators (counts, histograms) are per slot and merge exactly
  in any order;
* floating-point sums are kept per chunk and added up by the caller in
  chunk order, so a seed gives bit-identical numbers for any thread count.

Slots run in parallel, one thread each (``risk.engine.in_slots``; the batch
kernels release the GIL); slot ``s`` takes chunks ``s, s + S, ...`` of the
batch, so no two threads write the same memory.
"""

from collections import namedtuple

import numpy as np
from ._jit import driver, njit

from .histogram import N_BINS, bin_index
from .model import (LANES, Model, N_OUTCOMES, N_PATHS, N_SCRATCH_ROWS, OUT_BREAKEVEN, OUT_COVERAGE,
                    OUT_COVERAGE_ECONOMIC, OUT_COVERAGE_POOLED, OUT_DEFAULT, OUT_DISTRESS, OUT_GAP,
                    OUT_NEW_MONEY, OUT_PV_COST, OUT_PV_EARNINGS, PATH_CANCELLED, PATH_COST, PATH_EARNINGS,
                    PATH_INFLOW, PATH_RAISED, PATH_REVENUE, PATH_RUNRATE, PATH_SUPPLY_BOUND, company_paths,
                    entity_outcomes)
from .rng import draw_offset, fill_normals
from .sampling import FAMILY_FIXED, SPEC_FAMILY, SPEC_P0, fill_fixed, sample_values

# Integer counters per entity.
C_SHORTFALL = 0
C_DISTRESS = 1
C_DEFAULT = 2
C_SHORTFALL_ECONOMIC = 3
C_BREAKEVEN = 4  # horizon + 1 entries: year index, then "none"


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
F_DEFAULT = 6
F_NEW_MONEY = 7
F_NEW_MONEY_SQ = 8
F_REVENUE = 9  # horizon entries each: revenue, earnings, cost, new money, GW cancelled
N_YEARLY_SUMS = 5

# Samplers: where a draw's normal scores come from.
SAMPLER_MC = 0  # its own counter-based streams
SAMPLER_ANTITHETIC = 1  # draws 2k and 2k + 1 share streams, with opposite signs
SAMPLER_SCORES = 2  # rows of a given matrix (randomised quasi-Monte Carlo)


def n_floats(horizon):
    """Number of floating-point sums per entity."""
    return F_REVENUE + N_YEARLY_SUMS * horizon


# Histograms per entity.
H_COVERAGE = 0
H_GAP = 1
H_NEW_MONEY = 2
H_COVERAGE_POOLED = 3  # the sector's only (a company's is its coverage)
H_REVENUE = 4  # horizon entries each: revenue, earnings, cost, earnings / cost


def n_histograms(horizon):
    """Number of histograms per entity."""
    return H_REVENUE + 4 * horizon


@njit(cache=True, error_model="numpy", inline="always")
def draw_scores(draws, sampler, z_keys, scores, z_active, z, offsets, signs, words):
    """Fill ``z[:, lane]`` with the normal scores of draw ``draws[lane]`` (``SAMPLER_*`` says from where).

    Fixed priors' scores are never drawn: nothing reads them.  ``offsets``,
    ``signs`` and ``words`` are scratch of one entry per lane.
    """
    # The keys are contiguous (one load per score; an indexed key load cost 15 %).
    lanes = draws.shape[0]
    if sampler == SAMPLER_SCORES:
        for j in range(z_active.shape[0]):
            for lane in range(lanes):
                z[z_active[j], lane] = scores[draws[lane], j]
        return
    antithetic = sampler == SAMPLER_ANTITHETIC
    for lane in range(lanes):
        offsets[lane] = draw_offset(draws[lane] >> 1 if antithetic else draws[lane])
    for j in range(z_active.shape[0]):
        fill_normals(z_keys[j], offsets, words, z, z_active[j])
    if antithetic:  # the odd draw of a pair: its even partner's scores, negated (a pass of its own:
        # a sign multiply in fill_normals cost the plain sampler 20 ns per draw)
        for lane in range(lanes):
            signs[lane] = -1.0 if draws[lane] & 1 else 1.0
        for j in range(z_active.shape[0]):
            row = z_active[j]
            for lane in range(lanes):
                z[row, lane] *= signs[lane]


# One thread's scratch for a block of ``LANES`` draws (``new_block``).
Block = namedtuple("Block", [
    "draws",  # (LANES,) int64: the block's draw indices
    "z",  # (n_z, LANES): normal scores
    "values",  # (n_variates, LANES): prior values (fixed priors written once)
    "paths",  # (N_PATHS, n_entities, horizon, LANES): model.company_paths
    "cash0",  # (n_entities, LANES): starting cash
    "contract_gw",  # (n_contracts, horizon, LANES): GW delivered by year
    "contract_unit",  # (n_contracts, LANES): unit cost, $B per GW-year
    "contract_online",  # (n_contracts, horizon, LANES): GW online after management's cancellations
    "contract_notice",  # (n_contracts, horizon + 1, LANES): cancellations (model.company_paths)
    "market",  # (horizon, LANES): 1.0 where the funding market is open
    "outcomes",  # (N_OUTCOMES, n_entities, LANES): model.entity_outcomes
    "lane_sums",  # (n_entities, n_floats, LANES): run_batch's per-lane partial float sums
    "scratch",  # (N_SCRATCH_ROWS * LANES,): the model's flat scratch
    "offsets",  # (LANES,) uint64: the lanes' stream offsets
    "signs",  # (LANES,): +1 or -1 (antithetic pairs)
    "words",  # (LANES,) uint64: random words
    "no_scores",  # (0, 0): the empty score matrix of the RNG samplers
    "judged",  # (J_N, n_entities, LANES): a draw's shortfalls and defaults counted over calibrations
])

# Per-calibration counters (``run_batch``'s ``cal_counts[slot, j, entity, J_*]``) and the sums of the
# squared per-draw counts over calibrations (``y_sums[slot, entity, J_*]``): the two-level error.
J_SHORTFALL = 0
J_DEFAULT = 1
J_N = 2


def new_block(n_z: int, spec: np.ndarray, n_entities: int, n_contracts: int, horizon: int) -> Block:
    """Allocate one thread's :class:`Block` (numpy; :func:`simulate_block` fills it).

    Allocated here rather than inside the kernels: a dozen array shapes
    allocated in compiled code cost 0.8 s of the first compile.
    """
    values = np.zeros((spec.shape[0], LANES))
    fill_fixed(values, spec)
    return Block(draws=np.zeros(LANES, dtype=np.int64), z=np.zeros((n_z, LANES)), values=values,
                 paths=np.zeros((N_PATHS, n_entities, horizon, LANES)), cash0=np.zeros((n_entities, LANES)),
                 contract_gw=np.zeros((n_contracts, horizon, LANES)), contract_unit=np.zeros((n_contracts, LANES)),
                 contract_online=np.zeros((n_contracts, horizon, LANES)),
                 contract_notice=np.zeros((n_contracts, horizon + 1, LANES)), market=np.zeros((horizon, LANES)),
                 outcomes=np.zeros((N_OUTCOMES, n_entities, LANES)),
                 lane_sums=np.zeros((n_entities, n_floats(horizon), LANES)), scratch=np.zeros(N_SCRATCH_ROWS * LANES),
                 offsets=np.zeros(LANES, dtype=np.uint64), signs=np.zeros(LANES),
                 words=np.zeros(LANES, dtype=np.uint64), no_scores=np.zeros((0, 0)),
                 judged=np.zeros((J_N, n_entities, LANES)))


@njit(cache=True, error_model="numpy")
def set_block(draws, first, last):
    """Point the block at draws ``first, first + 1, ...``; lanes past ``last - 1`` repeat it (and are ignored)."""
    for lane in range(draws.shape[0]):
        draws[lane] = min(first + lane, last - 1)


# simulate_block's stages (draw_scores, _copula, sampling.sample_values,
# model.company_paths with model.contract_capacity, rng.fill_normals) are
# inline="always": each has this one call site, and inlining them spares
# compiling each on its own first (cold engine.run 7.2-7.6 s -> 6.5-6.6 s,
# and 5 % faster).  The two halves are separate functions because a
# two-level run (judgement) draws a block's scores once and runs the model
# once per calibration on them.
@njit(cache=True, error_model="numpy")
def score_block(block, sampler, z_keys, scores, model):
    """Fill the block's normal scores (``draw_scores``), correlated by the copula."""
    draw_scores(block.draws, sampler, z_keys, scores, model.z_active, block.z, block.offsets, block.signs,
                block.words)
    _copula(block.z, model.copula_index, model.copula_chol)


@njit(cache=True, error_model="numpy")
def model_block(block, model):
    """Turn the block's scores into prior values, yearly paths and outcomes under ``model``."""
    sample_values(block.z, block.values, model.spec, model.tables, model.order, model.family_start)
    company_paths(block.values, block.z, model, block.paths, block.cash0, block.contract_gw, block.contract_unit,
                  block.contract_online, block.contract_notice, block.market, block.scratch)
    entity_outcomes(block.paths, block.cash0, block.market, block.values, model, block.outcomes, block.scratch)


@driver(cache=True, error_model="numpy")
def simulate_block(block, sampler, z_keys, scores, model):
    """Fill the block's normal scores, prior values, yearly paths and outcomes (``block``: see :func:`new_block`)."""
    score_block(block, sampler, z_keys, scores, model)
    model_block(block, model)


# The calibrations of a two-level run (judgement): calibration j samples its priors with
# ``specs[j]``, ``orders[j]`` and ``family_starts[j]`` (tables shared through ``model.tables``).
# A one-level run is the one calibration of its own spec.
Calibrations = namedtuple("Calibrations", ["specs", "orders", "family_starts"])


def one_calibration(model) -> Calibrations:
    """The calibrations of a one-level run: the model's own priors."""
    return Calibrations(model.spec[None].copy(), model.order[None].copy(), model.family_start[None].copy())


@njit(cache=True, error_model="numpy")
def calibrated(model, calibrations, j):
    """``model`` with calibration ``j``'s priors."""
    return Model(model.z_active, calibrations.specs[j], model.tables, calibrations.orders[j],
                 calibrations.family_starts[j], model.copula_index, model.copula_chol, model.company_var,
                 model.contract_var, model.contract_ramp, model.contract_terms, model.investments,
                 model.scenario_var, model.demand_loading, model.horizon)


@njit(cache=True, error_model="numpy", inline="always")
def _copula(z, copula_index, copula_chol):
    # Gaussian copula: z[idx] <- L @ z[idx], in place from the last row up.
    for i in range(copula_index.shape[0] - 1, -1, -1):
        for lane in range(z.shape[1]):
            acc = 0.0
            for j in range(i + 1):
                acc += copula_chol[i, j] * z[copula_index[j], lane]
            z[copula_index[i], lane] = acc


@njit(cache=True, error_model="numpy")
def _accumulate_block(n_valid, horizon, paths, outcomes, counts, hists):
    # a block's integer counters and histogram bins, draw by draw (one call per block, not per draw:
    # the arrays' many fields are passed once)
    sector = counts.shape[0] - 1
    for lane in range(n_valid):
        for e in range(counts.shape[0]):
            _accumulate(e, lane, horizon, paths, outcomes, counts, hists)
        # the sector's pooled ratio beside "any company short"
        hists[sector, H_COVERAGE_POOLED, bin_index(outcomes[OUT_COVERAGE_POOLED, sector, lane])] += 1


@njit(cache=True, error_model="numpy", inline="always")
def _accumulate(e, lane, horizon, paths, outcomes, counts, hists):
    # one draw's integer counters and histogram bins (its float sums: _add_floats, a block at a time)
    # counters add 0 or 1 (selects, not branches: a shortfall is a coin flip the predictor cannot learn)
    coverage = outcomes[OUT_COVERAGE, e, lane]
    counts[e, C_SHORTFALL] += 1 if coverage < 1.0 else 0
    counts[e, C_SHORTFALL_ECONOMIC] += 1 if outcomes[OUT_COVERAGE_ECONOMIC, e, lane] < 1.0 else 0
    counts[e, C_DISTRESS] += 1 if outcomes[OUT_DISTRESS, e, lane] > 0.0 else 0
    counts[e, C_DEFAULT] += 1 if outcomes[OUT_DEFAULT, e, lane] > 0.0 else 0
    counts[e, C_BREAKEVEN + int(outcomes[OUT_BREAKEVEN, e, lane])] += 1
    supply_first = C_BREAKEVEN + horizon + 1
    hists[e, H_COVERAGE, bin_index(coverage)] += 1
    hists[e, H_GAP, bin_index(outcomes[OUT_GAP, e, lane])] += 1
    hists[e, H_NEW_MONEY, bin_index(outcomes[OUT_NEW_MONEY, e, lane])] += 1
    for t in range(horizon):
        counts[e, supply_first + t] += 1 if paths[PATH_SUPPLY_BOUND, e, t, lane] > 0.0 else 0
        earnings = paths[PATH_EARNINGS, e, t, lane]
        cost = paths[PATH_COST, e, t, lane]
        ratio = earnings / cost if cost > 0.0 else (np.inf if earnings >= 0.0 else -np.inf)
        hists[e, H_REVENUE + t, bin_index(paths[PATH_REVENUE, e, t, lane])] += 1
        hists[e, H_REVENUE + horizon + t, bin_index(earnings)] += 1
        hists[e, H_REVENUE + 2 * horizon + t, bin_index(cost)] += 1
        hists[e, H_REVENUE + 3 * horizon + t, bin_index(ratio)] += 1


# The float sums a draw adds (F_* column, then where the value is): a row of outcomes, or a row of paths
# for each year.  Per-lane partial sums (``Block.lane_sums``) take a block of draws at a time as SIMD
# code; a chunk's sums are their lanes added in lane order: a fixed order, whatever the thread count.
_OUTCOME_SUMS = ((F_GAP, OUT_GAP), (F_PV_EARNINGS, OUT_PV_EARNINGS), (F_PV_COST, OUT_PV_COST),
                 (F_NEW_MONEY, OUT_NEW_MONEY))
_PATH_SUMS = ((0, PATH_REVENUE), (1, PATH_EARNINGS), (2, PATH_COST), (3, PATH_RAISED), (4, PATH_CANCELLED))


@njit(cache=True, error_model="numpy")  # not inlined: a driver's own loops get one optimisation (_jit)
def _add_floats(paths, outcomes, n_valid, horizon, lane_sums):
    """Add a block's draws (its first ``n_valid`` lanes) to the per-lane partial sums."""
    lanes = lane_sums.shape[2]
    for e in range(lane_sums.shape[0]):
        for f, row in _OUTCOME_SUMS:
            for lane in range(lanes):
                value = outcomes[row, e, lane]
                lane_sums[e, f, lane] += value if lane < n_valid else 0.0
        # one loop per row written: a loop writing several rows of an array does not vectorise
        for lane in range(lanes):
            gap = outcomes[OUT_GAP, e, lane]
            lane_sums[e, F_GAP_SQ, lane] += gap * gap if lane < n_valid else 0.0
        for lane in range(lanes):
            money = outcomes[OUT_NEW_MONEY, e, lane]
            lane_sums[e, F_NEW_MONEY_SQ, lane] += money * money if lane < n_valid else 0.0
        for lane in range(lanes):
            short = lane < n_valid and outcomes[OUT_COVERAGE, e, lane] < 1.0
            lane_sums[e, F_SHORTFALL, lane] += 1.0 if short else 0.0
        for lane in range(lanes):
            distress = lane < n_valid and outcomes[OUT_DISTRESS, e, lane] > 0.0
            lane_sums[e, F_DISTRESS, lane] += 1.0 if distress else 0.0
        for lane in range(lanes):
            default = lane < n_valid and outcomes[OUT_DEFAULT, e, lane] > 0.0
            lane_sums[e, F_DEFAULT, lane] += 1.0 if default else 0.0
        for offset, row in _PATH_SUMS:
            for t in range(horizon):
                f = F_REVENUE + offset * horizon + t
                for lane in range(lanes):
                    value = paths[row, e, t, lane]
                    lane_sums[e, f, lane] += value if lane < n_valid else 0.0


@njit(cache=True, error_model="numpy")
def _sum_lanes(lane_sums, chunk_sums):
    # a chunk's float sums: its per-lane partial sums added in lane order (then cleared for the next chunk)
    for e in range(lane_sums.shape[0]):
        for f in range(lane_sums.shape[1]):
            total = 0.0
            for lane in range(lane_sums.shape[2]):
                total += lane_sums[e, f, lane]
                lane_sums[e, f, lane] = 0.0
            chunk_sums[e, f] = total


@driver(cache=True, nogil=True, error_model="numpy")
def run_batch(slot, n_slots, block, sampler, z_keys, scores, first_chunk, batch_chunks, chunk_size, total_draws,
              model, calibrations, counts, hists, sums, cal_counts, y_sums):
    """Simulate slot ``slot``'s chunks of the batch ``first_chunk .. first_chunk + batch_chunks - 1``.

    Parameters
    ----------
    slot, n_slots : int
        This call runs chunks ``slot, slot + n_slots, ...`` of the batch and
        adds to ``counts[slot]`` and ``hists[slot]`` only: ``n_slots`` calls
        on as many threads (``risk.engine.in_slots``; the GIL is released)
        run the batch in parallel.
    block : Block
        This slot's scratch (:func:`new_block`).
    sampler : int
        ``SAMPLER_MC``, ``SAMPLER_ANTITHETIC`` or ``SAMPLER_SCORES``.
    z_keys : numpy.ndarray of uint64
        Key of the stream of each score in ``model.z_active``
        (``rng.stream_keys``): the seed and the input's name.
    scores : numpy.ndarray of shape (total_draws, len(z_active))
        With ``SAMPLER_SCORES``: draw ``d``'s normal scores are row ``d``
        (otherwise an empty array).
    first_chunk, batch_chunks, chunk_size, total_draws : int
        Chunk ``c`` holds draws ``[c * chunk_size, min((c + 1) * chunk_size, total_draws))``.
    model : Model
        The compiled scenario (``model.Model``).
    calibrations : Calibrations
        ``M`` sets of priors; every draw's scores run through each (common
        random numbers), so a chunk of ``n`` draws is ``M n`` model runs.
        One calibration (:func:`one_calibration`): the one-level run.
    counts : numpy.ndarray of int64, shape (n_slots, n_entities, n_counts)
        Integer counters over all calibrations (the mixture), added to.
    hists : numpy.ndarray of int64, shape (n_slots, n_entities, n_histograms, N_BINS)
        Histograms of the mixture, added to.
    sums : numpy.ndarray of float64, shape (batch_chunks, n_entities, n_floats)
        Output: floating-point sums of each chunk (overwritten).
    cal_counts : numpy.ndarray of int64, shape (n_slots, M, n_entities, J_N)
        Shortfalls and defaults of each calibration, added to.
    y_sums : numpy.ndarray of int64, shape (n_slots, n_entities, J_N)
        Sum over draws of the squared number of calibrations in which the
        draw falls short (defaults), added to: ``Var_i(Y_i)`` of model.md.
    """
    n_entities = counts.shape[1]
    horizon = model.horizon
    n_cal = calibrations.specs.shape[0]
    draws, paths, outcomes, lane_sums, judged = block.draws, block.paths, block.outcomes, block.lane_sums, block.judged
    slot_counts = counts[slot]
    slot_hists = hists[slot]
    for ci in range(slot, batch_chunks, n_slots):
        first = (first_chunk + ci) * chunk_size
        last = min(first + chunk_size, total_draws)
        for lane in range(LANES):
            for e in range(n_entities):
                for f in range(lane_sums.shape[1]):
                    lane_sums[e, f, lane] = 0.0
        for block_first in range(first, last, LANES):
            set_block(draws, block_first, last)
            score_block(block, sampler, z_keys, scores, model)
            n_valid = min(LANES, last - block_first)
            judged[:, :, :] = 0.0
            for j in range(n_cal):
                if n_cal > 1:
                    set_fixed(block.values, calibrations.specs[j])
                model_block(block, calibrated(model, calibrations, j))
                _add_floats(paths, outcomes, n_valid, horizon, lane_sums)
                _accumulate_block(n_valid, horizon, paths, outcomes, slot_counts, slot_hists)
                _judge(n_valid, outcomes, j, judged, cal_counts[slot])
            _add_judged(n_valid, judged, y_sums[slot])
        _sum_lanes(lane_sums, sums[ci])


@njit(cache=True, error_model="numpy")
def set_fixed(values, spec):
    """Write calibration ``spec``'s fixed priors into every lane (a calibration may fix a prior elsewhere)."""
    for v in range(spec.shape[0]):
        if spec[v, SPEC_FAMILY] == FAMILY_FIXED:
            for lane in range(values.shape[1]):
                values[v, lane] = spec[v, SPEC_P0]


@njit(cache=True, error_model="numpy")
def _judge(n_valid, outcomes, j, judged, cal_counts):
    # calibration j's shortfalls and defaults: its own counters, and each draw's count over calibrations
    for e in range(judged.shape[1]):
        for lane in range(n_valid):
            short = 1 if outcomes[OUT_COVERAGE, e, lane] < 1.0 else 0
            default = 1 if outcomes[OUT_DEFAULT, e, lane] > 0.0 else 0
            cal_counts[j, e, J_SHORTFALL] += short
            cal_counts[j, e, J_DEFAULT] += default
            judged[J_SHORTFALL, e, lane] += short
            judged[J_DEFAULT, e, lane] += default


@njit(cache=True, error_model="numpy")
def _add_judged(n_valid, judged, y_sums):
    for i in range(judged.shape[0]):
        for e in range(judged.shape[1]):
            for lane in range(n_valid):
                y = np.int64(judged[i, e, lane])
                y_sums[e, i] += y * y


@njit(cache=True, error_model="numpy")
def add_in_order(total, sums):
    """``total += sums[0]; total += sums[1]; ...``: the fixed summation order."""
    for ci in range(sums.shape[0]):
        for e in range(sums.shape[1]):
            for f in range(sums.shape[2]):
                total[e, f] += sums[ci, e, f]


def allocate(n_slots, n_entities, horizon, batch_chunks, n_calibrations=1):
    """Allocate the accumulators of a run (numpy; called from the engine).

    Returns ``counts``, ``hists``, ``sums``, ``cal_counts`` and ``y_sums`` (see :func:`run_batch`).
    """
    counts = np.zeros((n_slots, n_entities, n_counts(horizon)), dtype=np.int64)
    hists = np.zeros((n_slots, n_entities, n_histograms(horizon), N_BINS), dtype=np.int64)
    sums = np.zeros((batch_chunks, n_entities, n_floats(horizon)))
    cal_counts = np.zeros((n_slots, n_calibrations, n_entities, J_N), dtype=np.int64)
    y_sums = np.zeros((n_slots, n_entities, J_N), dtype=np.int64)
    return counts, hists, sums, cal_counts, y_sums


# Columns of ``record_draws``'s per-draw outcomes.
R_COVERAGE = 0
R_GAP = 1
R_BREAKEVEN = 2  # year index, or horizon when none
R_DISTRESS = 3  # 1.0 or 0.0
R_DEFAULT = 4  # 1.0 or 0.0
R_NEW_MONEY = 5
N_RECORDED = 6
# Rows of the block's paths kept per draw: revenue, earnings, compute cost, new money, inflow, run-rate.
KEPT_PATHS = np.array([PATH_REVENUE, PATH_EARNINGS, PATH_COST, PATH_RAISED, PATH_INFLOW, PATH_RUNRATE],
                      dtype=np.int64)


@driver(cache=True, nogil=True, error_model="numpy")
def record_draws(slot, n_slots, block, sampler, z_keys, draw_index, model, values_out, outcomes_out, paths_out):
    """Keep per-draw records of the draws ``draw_index`` (kept draws, sensitivity).

    Slot ``slot`` of ``n_slots`` (threads, as :func:`run_batch`, with its
    own ``block``) records tasks ``slot, slot + n_slots, ...`` of ``64 *
    LANES`` draws.

    The same draws as :func:`run_batch` gives for the same keys and sampler
    (``SAMPLER_MC`` or ``SAMPLER_ANTITHETIC``).  Memory is the caller's:
    ``outcomes_out`` has shape ``(n, n_entities, N_RECORDED)`` (``R_*``
    columns), ``values_out`` ``(n, n_variates)`` and ``paths_out`` ``(n,
    len(KEPT_PATHS), n_entities, horizon)`` (the ``KEPT_PATHS`` rows), or a
    first dimension of 0 when not wanted.
    """
    n = outcomes_out.shape[0]
    n_entities = outcomes_out.shape[1]
    horizon = model.horizon
    keep_values = values_out.shape[0] == n
    keep_paths = paths_out.shape[0] == n
    per_task = 64 * LANES
    draws, values, paths, outcomes = block.draws, block.values, block.paths, block.outcomes
    for task in range(slot, (n + per_task - 1) // per_task, n_slots):
        task_last = min((task + 1) * per_task, n)
        for block_first in range(task * per_task, task_last, LANES):
            for lane in range(LANES):
                draws[lane] = draw_index[min(block_first + lane, task_last - 1)]
            simulate_block(block, sampler, z_keys, block.no_scores, model)
            for lane in range(min(LANES, task_last - block_first)):
                i = block_first + lane
                for e in range(n_entities):
                    outcomes_out[i, e, R_COVERAGE] = outcomes[OUT_COVERAGE, e, lane]
                    outcomes_out[i, e, R_GAP] = outcomes[OUT_GAP, e, lane]
                    outcomes_out[i, e, R_BREAKEVEN] = outcomes[OUT_BREAKEVEN, e, lane]
                    outcomes_out[i, e, R_DISTRESS] = outcomes[OUT_DISTRESS, e, lane]
                    outcomes_out[i, e, R_DEFAULT] = outcomes[OUT_DEFAULT, e, lane]
                    outcomes_out[i, e, R_NEW_MONEY] = outcomes[OUT_NEW_MONEY, e, lane]
                    if keep_paths:
                        for r in range(KEPT_PATHS.shape[0]):
                            for t in range(horizon):
                                paths_out[i, r, e, t] = paths[KEPT_PATHS[r], e, t, lane]
                if keep_values:
                    for v in range(values.shape[0]):
                        values_out[i, v] = values[v, lane]
