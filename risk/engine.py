"""Orchestration: plan chunks, run the kernel batch by batch, merge accumulators.

The Python layer never touches a draw: it plans fixed-size chunks, calls the
parallel kernel on batches of chunks, adds the batch's per-chunk sums in
chunk order and reports progress between batches.  Memory is the
accumulators (a few tens of MB) whatever the number of draws.
"""

from __future__ import annotations

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


@dataclass
class Accumulators:
    """Merged streaming statistics of a run (see ``kernels.simulate`` for the layout)."""

    draws: int
    counts: np.ndarray   # (n_entities, n_counts) int64
    hists: np.ndarray    # (n_entities, n_histograms, N_BINS) int64
    sums: np.ndarray     # (n_entities, n_floats) float64
    horizon: int


def run(compiled: CompiledScenario, *, draws: int, seed: int, threads: int,
        chunk_size: int = DEFAULT_CHUNK_SIZE,
        progress: Callable[[int, int], None] | None = None,
        chunks: range | None = None) -> Accumulators:
    """Simulate ``draws`` draws of a compiled scenario.

    Parameters
    ----------
    compiled : CompiledScenario
    draws : int
        Number of draws, >= 1.
    seed : int
        In ``[0, 2**63)``; the same seed gives bit-identical accumulators for
        any ``threads`` (and the same ``chunk_size``).
    threads : int
        numba threads to use (at most ``numba.config.NUMBA_NUM_THREADS``).
    chunk_size : int
        Draws per chunk: the unit of the floating-point summation order.
    progress : callable, optional
        Called as ``progress(done, draws)`` after every batch.
    chunks : range, optional
        Run only these chunks of the ``draws``-draw plan (a batch of a paired
        comparison); their draws are the very draws of a full run.

    Returns
    -------
    Accumulators
    """
    horizon = compiled.horizon
    n_entities = compiled.n_companies + 1
    n_chunks = -(-draws // chunk_size)
    chunks = range(n_chunks) if chunks is None else chunks
    slots = max(1, min(threads, len(chunks)))
    counts, hists, batch_sums = k.allocate(slots, n_entities, horizon, BATCH_CHUNKS)
    totals = np.zeros((n_entities, k.n_floats(horizon)))
    z_keys = score_keys(compiled, seed)
    args = compiled.kernel_args()
    previous = numba.get_num_threads()
    numba.set_num_threads(max(1, min(threads, numba.config.NUMBA_NUM_THREADS)))
    try:
        for first in range(chunks.start, chunks.stop, BATCH_CHUNKS):
            batch = min(BATCH_CHUNKS, chunks.stop - first)
            sums = batch_sums[:batch]
            k.run_batch(z_keys, first, batch, chunk_size, draws, *args,
                        counts, hists, sums)
            k.add_in_order(totals, sums)
            if progress is not None:
                progress(min((first + batch) * chunk_size, draws), draws)
    finally:
        numba.set_num_threads(previous)
    done = min(chunks.stop * chunk_size, draws) - chunks.start * chunk_size
    return Accumulators(draws=done, counts=counts.sum(axis=0), hists=hists.sum(axis=0),
                        sums=totals, horizon=horizon)

    
def merge(parts: list[Accumulators]) -> Accumulators:
    """Merge the accumulators of consecutive chunk ranges, in order (exact for counts)."""
    sums = np.zeros_like(parts[0].sums)
    for part in parts:  # floating-point sums added in chunk order
        sums += part.sums
    return Accumulators(draws=sum(p.draws for p in parts), counts=sum(p.counts for p in parts),
                        hists=sum(p.hists for p in parts), sums=sums, horizon=parts[0].horizon)



def score_keys(compiled: CompiledScenario, seed: int, *, variant: int = 0) -> np.ndarray:
    """Stream keys of the scores a draw uses (``z_active`` order) for ``seed``.

    ``variant`` > 0 gives further, independent sets of streams for the same
    seed (the second sample of a Saltelli design).
    """
    key = np.uint64(seed_key(np.int64(seed)))  # keep the type fixed: numba returns a Python int
    for _ in range(variant):
        key = np.uint64(seed_key(np.int64(key >> np.uint64(1))))
    return stream_keys(key, compiled.arrays["z_stream"][compiled.arrays["z_active"]])


def record(compiled: CompiledScenario, *, z_keys: np.ndarray, draws: int, first_draw: int = 0,
           keep_values: bool = False, threads: int | None = None) -> tuple[np.ndarray, np.ndarray | None]:
    """Per-draw coverage ``(draws, n_entities)`` (and prior values) of the given draws.

    This is the one place that keeps draws: sensitivity analysis needs them
    paired across runs.  Memory is ``draws x (n_entities [+ n_variates]) x 8`` bytes.
    """
    n_entities = compiled.n_companies + 1
    coverage = np.empty((draws, n_entities))
    n_var = compiled.arrays["spec"].shape[0]
    values = np.empty((draws if keep_values else 0, n_var))
    args = compiled.kernel_args()
    previous = numba.get_num_threads()
    if threads is not None:
        numba.set_num_threads(max(1, min(threads, numba.config.NUMBA_NUM_THREADS)))
    try:
        k.record_draws(z_keys, first_draw, *args, values, coverage)
    finally:
        numba.set_num_threads(previous)
    return coverage, (values if keep_values else None)
