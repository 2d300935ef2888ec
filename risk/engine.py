"""Orchestration: plan chunks, run the kernel batch by batch, merge accumulators.

The Python layer never touches a draw: it plans fixed-size chunks, calls the
kernel on batches of chunks (one thread per slot, :func:`in_slots`), adds
the batch's per-chunk sums in chunk order and reports progress between
batches.  Memory is the
accumulators (a few tens of MB) whatever the number of draws.

Three samplers feed the kernel its normal scores:

``mc``
    Plain Monte Carlo: each input of each draw has its own counter-based
    stream (``kernels.rng``).
``antithetic``
    Draws ``2k`` and ``2k + 1`` use the same streams with opposite signs.
    Chunks hold whole pairs, so chunks stay independent.
``rqmc``
    Randomised quasi-Monte Carlo: ``R`` independent scramblings of a Sobol
    sequence (``scipy.stats.qmc.Sobol``, Owen-type scrambling), one
    dimension per score, turned into normal scores by the inverse normal
    CDF.  Each replicate has ``2**m`` points (the balance properties of a
    Sobol net hold for powers of two).

Monte Carlo errors that do not rest on independent draws come from
*batches*: per-batch counts of shortfall and distress and the sum of the
funding gap.  For ``mc`` and ``antithetic`` the batches are 32 interleaved
sets of chunks (chunk ``c`` goes to batch ``c % 32``; chunks are independent);
for ``rqmc`` each replicate is a batch.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Callable

import numba
import numpy as np

from .kernels import simulate as k
from .kernels.rng import seed_key, stream_keys
from .scenario.compile import CompiledScenario

DEFAULT_CHUNK_SIZE = 65_536
BATCH_CHUNKS = 16
MAX_SEED = 2**63 - 1
SAMPLERS = {"mc": k.SAMPLER_MC, "antithetic": k.SAMPLER_ANTITHETIC, "rqmc": k.SAMPLER_SCORES}
ERROR_BATCHES = 32
RQMC_BLOCK = 8192  # Sobol points generated and simulated at a time (memory: block x scores x 8 bytes)

# Columns of ``Accumulators.batches``.
B_DRAWS = 0
B_SHORTFALL = 1
B_DISTRESS = 2
B_GAP = 3
B_DEFAULT = 4
N_B = 5


@dataclass
class Accumulators:
    """Merged streaming statistics of a run (see ``kernels.simulate`` for the layout)."""

    draws: int
    counts: np.ndarray   # (n_entities, n_counts) int64
    hists: np.ndarray    # (n_entities, n_histograms, N_BINS) int64
    sums: np.ndarray     # (n_entities, n_floats) float64
    horizon: int
    batches: np.ndarray | None = None  # (n_batches, n_entities, N_B): draws, shortfalls, distress, gap sum, defaults
    next_chunk: int = 0  # where a resumed run continues (mc and antithetic)


def slot_count(threads: int, tasks: int) -> int:
    """Threads a run uses: ``threads``, at most ``numba.config.NUMBA_NUM_THREADS`` and the number of tasks."""
    return max(1, min(threads, numba.config.NUMBA_NUM_THREADS, tasks))


def blocks(compiled: CompiledScenario, slots: int) -> list:
    """One scratch block per slot (``kernels.simulate.new_block``), for :func:`in_slots`."""
    return [k.new_block(compiled.n_z, compiled.arrays["spec"], compiled.n_companies + 1,
                        compiled.arrays["contract_var"].shape[0], compiled.horizon) for _ in range(slots)]


def in_slots(kernel: Callable, slot_blocks: list, *args) -> None:
    """Run ``kernel(slot, n, slot_blocks[slot], *args)`` for every slot, each on its own thread.

    ``n = len(slot_blocks)``.  The batch kernels are compiled with
    ``nogil=True``, so the threads run in parallel; slot ``s`` takes chunks
    (or tasks) ``s, s + n, ...``, works in its own scratch block and writes
    only its own accumulators.  Plain threads rather than numba's ``prange``:
    the parallel-loop passes cost 3.5 s of the first compile of
    ``run_batch`` (measured, 10.4 s -> 6.8 s), for the same speed.
    """
    n = len(slot_blocks)
    if n == 1:
        kernel(0, 1, slot_blocks[0], *args)
        return
    with ThreadPoolExecutor(max_workers=n, thread_name_prefix="risk-slot") as pool:
        for future in [pool.submit(kernel, slot, n, slot_blocks[slot], *args) for slot in range(n)]:
            future.result()


def run(compiled: CompiledScenario, *, draws: int, seed: int, threads: int,
        chunk_size: int = DEFAULT_CHUNK_SIZE,
        progress: Callable[[int, int], None] | None = None,
        chunks: range | None = None, sampler: str = "mc",
        resume: Accumulators | None = None) -> Accumulators:
    """Simulate ``draws`` draws of a compiled scenario (``mc`` or ``antithetic``).

    Parameters
    ----------
    compiled : CompiledScenario
    draws : int
        Number of draws, >= 1.
    seed : int
        In ``[0, 2**63)``; the same seed gives bit-identical accumulators for
        any ``threads`` (and the same ``chunk_size``).
    threads : int
        Threads to use (at most ``numba.config.NUMBA_NUM_THREADS``; see :func:`in_slots`).
    chunk_size : int
        Draws per chunk: the unit of the floating-point summation order
        (rounded up to an even number for ``antithetic``, so pairs never split).
    progress : callable, optional
        Called as ``progress(done, draws)`` after every batch.
    chunks : range, optional
        Run only these chunks of the ``draws``-draw plan (a batch of a paired
        comparison); their draws are the very draws of a full run.
    sampler : {"mc", "antithetic"}
        Where the normal scores come from (``rqmc`` runs through :func:`run_rqmc`).
    resume : Accumulators, optional
        Continue a run of the same plan: add chunks ``resume.next_chunk ..``
        to it.  A run of ``n`` draws made in rounds is bit-identical to one
        made at once.

    Returns
    -------
    Accumulators
    """
    horizon = compiled.horizon
    n_entities = compiled.n_companies + 1
    chunk_size = sampler_chunk_size(chunk_size, sampler)
    n_chunks = -(-draws // chunk_size)
    if chunks is None:
        chunks = range(resume.next_chunk if resume is not None else 0, n_chunks)
    slots = slot_count(threads, len(chunks))
    counts, hists, batch_sums = k.allocate(slots, n_entities, horizon, BATCH_CHUNKS)
    if resume is not None:
        totals, batches = resume.sums.copy(), resume.batches.copy()
    else:
        totals = np.zeros((n_entities, k.n_floats(horizon)))
        batches = np.zeros((ERROR_BATCHES, n_entities, N_B))
    z_keys = score_keys(compiled, seed)
    slot_blocks = blocks(compiled, slots)
    for first in range(chunks.start, chunks.stop, BATCH_CHUNKS):
        size = min(BATCH_CHUNKS, chunks.stop - first)
        block_sums, block_batches = run_block(compiled, z_keys, first, size, chunk_size, draws, sampler,
                                              counts, hists, batch_sums[:size], slot_blocks)
        totals += block_sums  # blocks in order: the same arithmetic on a cluster (risk.cluster)
        batches += block_batches
        if progress is not None:
            progress(min((first + size) * chunk_size, draws), draws)
    done = min(chunks.stop * chunk_size, draws) - chunks.start * chunk_size
    result = Accumulators(draws=done, counts=counts.sum(axis=0), hists=hists.sum(axis=0),
                          sums=totals, horizon=horizon, batches=batches, next_chunk=chunks.stop)
    if resume is not None:
        result.draws += resume.draws
        result.counts += resume.counts
        result.hists += resume.hists
    return result


def sampler_chunk_size(chunk_size: int, sampler: str) -> int:
    """The chunk size a sampler runs with: antithetic chunks hold whole pairs (rounded up to even)."""
    return chunk_size + chunk_size % 2 if sampler == "antithetic" else chunk_size


def run_block(compiled: CompiledScenario, z_keys: np.ndarray, first: int, size: int, chunk_size: int,
              draws: int, sampler: str, counts: np.ndarray, hists: np.ndarray,
              chunk_sums: np.ndarray, slot_blocks: list | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Run chunks ``first .. first + size - 1``: add to ``counts`` and ``hists``, return the block's floats.

    One thread per slot of ``counts`` (:func:`in_slots`), in ``slot_blocks``
    (allocated here when not given).

    The floating-point sums of a block are added chunk by chunk from zero,
    and a run adds its blocks in order: so a run is bit-identical whether its
    blocks run here in sequence or as tasks on a Dask cluster.

    Returns
    -------
    (block_sums, block_batches)
        The block's sums ``(n_entities, n_floats)`` and its error-batch sums
        ``(ERROR_BATCHES, n_entities, N_B)``.
    """
    if slot_blocks is None:
        slot_blocks = blocks(compiled, counts.shape[0])
    in_slots(k.run_batch, slot_blocks, SAMPLERS[sampler], z_keys, np.empty((0, 0)), first, size, chunk_size,
             draws, compiled.model, counts, hists, chunk_sums)
    block_sums = np.zeros(chunk_sums.shape[1:])
    k.add_in_order(block_sums, chunk_sums)
    block_batches = np.zeros((ERROR_BATCHES, chunk_sums.shape[1], N_B))
    for offset in range(size):
        chunk = first + offset
        rows = min((chunk + 1) * chunk_size, draws) - chunk * chunk_size
        _add_batch(block_batches[chunk % ERROR_BATCHES], chunk_sums[offset], rows)
    return block_sums, block_batches


def _add_batch(batch: np.ndarray, chunk_sums: np.ndarray, size: int) -> None:
    batch[:, B_DRAWS] += size
    batch[:, B_SHORTFALL] += chunk_sums[:, k.F_SHORTFALL]
    batch[:, B_DISTRESS] += chunk_sums[:, k.F_DISTRESS]
    batch[:, B_GAP] += chunk_sums[:, k.F_GAP]
    batch[:, B_DEFAULT] += chunk_sums[:, k.F_DEFAULT]


def rqmc_points(draws: int, replicates: int) -> int:
    """Points per RQMC replicate: the power of two that covers ``draws / replicates``."""
    per = max(1, -(-draws // replicates))
    return 1 << max(0, (per - 1).bit_length())


def run_rqmc(compiled: CompiledScenario, *, draws: int, seed: int, threads: int, replicates: int = 16,
             progress: Callable[[int, int], None] | None = None,
             resume: Accumulators | None = None) -> Accumulators:
    """Randomised quasi-Monte Carlo: ``replicates`` scrambled Sobol nets of ``rqmc_points`` points.

    Replicate ``r`` is scrambled with ``numpy.random.default_rng([seed, r])``,
    so the same seed gives the same numbers, and a run resumed with more
    replicates (``resume``) equals one made with all of them at once.
    ``draws`` is rounded up to ``replicates * 2**m``.
    """
    from scipy.special import ndtri
    from scipy.stats import qmc

    horizon = compiled.horizon
    n_entities = compiled.n_companies + 1
    points = rqmc_points(draws, replicates)
    first_replicate = 0 if resume is None else resume.batches.shape[0]
    dimension = len(compiled.arrays["z_active"])
    if dimension > 21201:
        raise ValueError("scipy's Sobol sequence has at most 21201 dimensions")
    block = min(points, RQMC_BLOCK)
    chunk = max(256, block // (4 * max(threads, 1)))
    slots = slot_count(threads, -(-block // chunk))
    counts, hists, batch_sums = k.allocate(slots, n_entities, horizon, BATCH_CHUNKS)
    totals = resume.sums.copy() if resume is not None else np.zeros((n_entities, k.n_floats(horizon)))
    batches = np.zeros((replicates, n_entities, N_B))
    if resume is not None:
        batches[:first_replicate] = resume.batches
    z_keys = np.zeros(dimension, dtype=np.uint64)
    model = compiled.model
    slot_blocks = blocks(compiled, slots)
    total = (replicates - first_replicate) * points
    done = 0
    for r in range(first_replicate, replicates):
        sobol = qmc.Sobol(dimension, scramble=True, seed=np.random.default_rng([seed, r]))
        for _ in range(points // block):
            uniforms = sobol.random(block)
            # a scrambled point is never exactly 0 or 1, but keep the scores finite regardless
            scores = np.ascontiguousarray(ndtri(np.clip(uniforms, 1e-17, 1.0 - 1e-16)))
            n_chunks = -(-block // chunk)
            for first in range(0, n_chunks, BATCH_CHUNKS):
                size = min(BATCH_CHUNKS, n_chunks - first)
                sums = batch_sums[:size]
                in_slots(k.run_batch, slot_blocks, k.SAMPLER_SCORES, z_keys, scores, first, size, chunk, block,
                         model, counts, hists, sums)
                k.add_in_order(totals, sums)
                for offset in range(size):
                    rows = min((first + offset + 1) * chunk, block) - (first + offset) * chunk
                    _add_batch(batches[r], sums[offset], rows)
            done += block
            if progress is not None:
                progress(done, total)
    result = Accumulators(draws=total, counts=counts.sum(axis=0), hists=hists.sum(axis=0), sums=totals,
                          horizon=horizon, batches=batches, next_chunk=replicates)
    if resume is not None:
        result.draws += resume.draws
        result.counts += resume.counts
        result.hists += resume.hists
    return result


def merge(parts: list[Accumulators]) -> Accumulators:
    """Merge the accumulators of consecutive chunk ranges, in order (exact for counts)."""
    sums = np.zeros_like(parts[0].sums)
    for part in parts:  # floating-point sums added in chunk order
        sums += part.sums
    batches = None
    if all(p.batches is not None for p in parts):
        batches = sum(p.batches for p in parts)
    return Accumulators(draws=sum(p.draws for p in parts), counts=sum(p.counts for p in parts),
                        hists=sum(p.hists for p in parts), sums=sums, horizon=parts[0].horizon,
                        batches=batches, next_chunk=parts[-1].next_chunk)


def score_keys(compiled: CompiledScenario, seed: int, *, variant: int = 0) -> np.ndarray:
    """Stream keys of the scores a draw uses (``z_active`` order) for ``seed``.

    ``variant`` > 0 gives further, independent sets of streams for the same
    seed (the second sample of a Saltelli design).
    """
    key = np.uint64(seed_key(np.int64(seed)))  # keep the type fixed: numba returns a Python int
    for _ in range(variant):
        key = np.uint64(seed_key(np.int64(key >> np.uint64(1))))
    return stream_keys(key, compiled.arrays["z_stream"][compiled.arrays["z_active"]])


@dataclass
class Records:
    """Per-draw records of some draws (``record``): the one place draws are kept."""

    draw_index: np.ndarray  # (n,) the draws' numbers in the run
    coverage: np.ndarray    # (n, n_entities)
    funding_gap: np.ndarray  # (n, n_entities)
    breakeven: np.ndarray   # (n, n_entities) year index, horizon = none
    distress: np.ndarray    # (n, n_entities) bool
    default: np.ndarray     # (n, n_entities) bool
    new_money: np.ndarray   # (n, n_entities) $B raised
    values: np.ndarray | None = None  # (n, n_variates) sampled priors
    paths: np.ndarray | None = None   # (n, 6, n_entities, horizon): kernels.simulate.KEPT_PATHS


def record(compiled: CompiledScenario, *, z_keys: np.ndarray, draws: int | None = None,
           indices: np.ndarray | None = None, sampler: str = "mc", keep_values: bool = False,
           keep_paths: bool = False, threads: int | None = None) -> Records:
    """Per-draw records of draws ``0 .. draws - 1`` or of the draws ``indices``.

    Memory is ``n x (6 n_entities [+ n_variates] [+ 3 n_entities horizon]) x 8``
    bytes: the caller asks for what it needs.
    """
    if sampler not in ("mc", "antithetic"):
        raise ValueError("draws are kept for the mc and antithetic samplers")
    index = np.arange(draws, dtype=np.int64) if indices is None else np.ascontiguousarray(indices, dtype=np.int64)
    n = len(index)
    n_entities = compiled.n_companies + 1
    outcomes = np.empty((n, n_entities, k.N_RECORDED))
    n_var = compiled.arrays["spec"].shape[0]
    values = np.empty((n if keep_values else 0, n_var))
    paths = np.empty((n if keep_paths else 0, len(k.KEPT_PATHS), n_entities, compiled.horizon))
    tasks = -(-n // (64 * k.LANES))  # record_draws's tasks
    slots = slot_count(numba.config.NUMBA_NUM_THREADS if threads is None else threads, tasks)
    in_slots(k.record_draws, blocks(compiled, slots), SAMPLERS[sampler], z_keys, index, compiled.model,
             values, outcomes, paths)
    return Records(draw_index=index, coverage=outcomes[:, :, k.R_COVERAGE], funding_gap=outcomes[:, :, k.R_GAP],
                   breakeven=outcomes[:, :, k.R_BREAKEVEN].astype(np.int64),
                   distress=outcomes[:, :, k.R_DISTRESS] > 0.5, default=outcomes[:, :, k.R_DEFAULT] > 0.5,
                   new_money=outcomes[:, :, k.R_NEW_MONEY],
                   values=values if keep_values else None, paths=paths if keep_paths else None)


def run_exposure(compiled: CompiledScenario, *, draws: int, seed: int, threads: int,
                 chunk_size: int = DEFAULT_CHUNK_SIZE) -> tuple[np.ndarray, np.ndarray]:
    """Provider settlements of the run's draws (``kernels.exposure``): the same draws as :func:`run`.

    Returns
    -------
    (sums, hists)
        ``sums`` (n_providers + 1, N_S) added chunk by chunk in chunk order
        (the last row is the total over providers) and ``hists``
        (n_providers + 1, N_BINS) of the unpaid present value.
    """
    from .kernels import exposure as kx
    from .kernels.histogram import N_BINS

    n_rows = len(compiled.providers) + 1
    n_chunks = -(-draws // chunk_size)
    slots = slot_count(threads, n_chunks)
    hists = np.zeros((slots, n_rows, N_BINS), dtype=np.int64)
    chunk_sums = np.zeros((BATCH_CHUNKS, n_rows, kx.N_S))
    totals = np.zeros((n_rows, kx.N_S))
    z_keys = score_keys(compiled, seed)
    slot_blocks = blocks(compiled, slots)
    for first in range(0, n_chunks, BATCH_CHUNKS):
        size = min(BATCH_CHUNKS, n_chunks - first)
        in_slots(kx.exposure_batch, slot_blocks, z_keys, first, size, chunk_size, draws, compiled.model,
                 compiled.equity_recovery, chunk_sums[:size], hists)
        block = np.zeros_like(totals)
        for ci in range(size):  # chunk order, then blocks in order: thread-count invariant
            block += chunk_sums[ci]
        totals += block
    return totals, hists.sum(axis=0)
