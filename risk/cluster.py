"""Run the engine on a Dask cluster (``dask.distributed``): same draws, same numbers.

A run is cut into blocks of ``engine.BATCH_CHUNKS`` chunks, one task each.
A block's random streams depend only on the seed and its chunks' draw
numbers, so any worker can run any block, and a block recomputed after a
worker dies is the same block.  Integer accumulators (counts, histograms)
are added in a tree of tasks on the workers; the client receives only each
block's small floating-point sums and adds them in block order, exactly as
``engine.run`` does locally: the result is bit-identical to a local run with
the same seed and chunk size, for any number of workers.  Memory per worker
is that of one block (the histograms, about 10 MB per entity set), whatever
the number of draws.

Workers compile the kernels once each (``warm_up``); on one machine they
share the numba cache of ``risk._cache``, so after the first local run they
only load it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np

from . import engine
from .errors import InputError
from .kernels import simulate as k

CONNECT_TIMEOUT = 10  # seconds to reach a scheduler before giving up


@dataclass
class ClusterHandle:
    """A connected client, and the LocalCluster we started (if any), to close together."""

    client: object
    cluster: object = None

    def close(self) -> None:
        self.client.close()
        if self.cluster is not None:
            self.cluster.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def connect(*, scheduler: str | None = None, cluster: str | None = None,
            timeout: float = CONNECT_TIMEOUT) -> ClusterHandle:
    """Connect to a scheduler (``tcp://host:8786``) or start ``local:N`` (N worker processes on loopback).

    Raises
    ------
    InputError
        For a malformed ``--cluster`` or a scheduler that cannot be reached
        within ``timeout`` seconds.
    """
    from distributed import Client, LocalCluster

    if (scheduler is None) == (cluster is None):
        raise InputError("give exactly one of a scheduler address and a local cluster", source="--scheduler",
                         allowed="--scheduler tcp://HOST:8786 or --cluster local:N")
    if cluster is not None:
        kind, _, count = cluster.partition(":")
        if kind != "local" or not count.isdigit() or int(count) < 1:
            raise InputError(f"'{cluster}' is not a cluster spec", source="--cluster",
                             allowed="local:N with N >= 1 worker processes")
        local = LocalCluster(n_workers=int(count), threads_per_worker=1, processes=True, host="127.0.0.1",
                             dashboard_address=None)
        return ClusterHandle(Client(local), local)
    try:
        return ClusterHandle(Client(scheduler, timeout=timeout))
    except (OSError, TimeoutError) as err:
        raise InputError(f"cannot reach the Dask scheduler within {timeout:g} s ({type(err).__name__})",
                         source="--scheduler", key=scheduler,
                         allowed="the address of a running scheduler, e.g. tcp://10.0.0.5:8786") from None


def warm_up(compiled) -> int:
    """Load or compile the kernels in this process (``client.run`` it once per worker); returns the pid."""
    engine.run(compiled, draws=1, seed=0, threads=1)
    return os.getpid()


def _block_task(compiled, seed, first, size, chunk_size, draws, sampler, threads):
    n_entities = compiled.n_companies + 1
    slots = engine.slot_count(threads, size)
    counts, hists, chunk_sums = k.allocate(slots, n_entities, compiled.horizon, size)
    z_keys = engine.score_keys(compiled, seed)
    block_sums, block_batches = engine.run_block(compiled, z_keys, first, size, chunk_size, draws, sampler,
                                                 counts, hists, chunk_sums)
    return {"counts": counts.sum(axis=0), "hists": hists.sum(axis=0), "sums": block_sums, "batches": block_batches}


def _floats(block):
    return block["sums"], block["batches"]


def _add_integers(a, b):
    return {"counts": a["counts"] + b["counts"], "hists": a["hists"] + b["hists"]}


def run(client, compiled, *, draws: int, seed: int, chunk_size: int = engine.DEFAULT_CHUNK_SIZE,
        sampler: str = "mc", progress=None, resume: engine.Accumulators | None = None) -> engine.Accumulators:
    """``engine.run`` on a Dask cluster: one task per block, integers reduced on the workers.

    Parameters are those of :func:`risk.engine.run`; ``client`` is a
    ``distributed.Client``.  Threads per task: the worker's thread count.
    """
    from distributed import as_completed

    if sampler not in ("mc", "antithetic"):
        raise InputError(f"the {sampler} sampler runs locally", source="sampler",
                         allowed="mc or antithetic on a cluster")
    chunk_size = engine.sampler_chunk_size(chunk_size, sampler)
    n_chunks = -(-draws // chunk_size)
    start = resume.next_chunk if resume is not None else 0
    compiled_future = client.scatter(compiled, broadcast=True)
    threads = max(1, min(client.nthreads().values(), default=1))
    blocks = []
    for first in range(start, n_chunks, engine.BATCH_CHUNKS):
        size = min(engine.BATCH_CHUNKS, n_chunks - first)
        blocks.append(client.submit(_block_task, compiled_future, seed, first, size, chunk_size, draws, sampler,
                                    threads, pure=False))
    floats = [client.submit(_floats, block, pure=False) for block in blocks]
    level, blocks = blocks, None  # hold no leaf: a block's histograms are freed once added
    while len(level) > 1:  # a tree of additions on the workers
        level = [client.submit(_add_integers, level[i], level[i + 1]) if i + 1 < len(level) else level[i]
                 for i in range(0, len(level), 2)]
    totals = resume.sums.copy() if resume is not None else np.zeros((compiled.n_companies + 1,
                                                                       k.n_floats(compiled.horizon)))
    batches = resume.batches.copy() if resume is not None else np.zeros((engine.ERROR_BATCHES,
                                                                         compiled.n_companies + 1, engine.N_B))
    done = 0
    block_draws = engine.BATCH_CHUNKS * chunk_size
    for _ in as_completed(floats):
        done += 1
        if progress is not None:
            progress(min(start * chunk_size + done * block_draws, draws), draws)
    for future in floats:  # in block order: the local arithmetic
        block_sums, block_batches = future.result()
        totals += block_sums
        batches += block_batches
    integers = level[0].result()
    result = engine.Accumulators(draws=draws - start * chunk_size, counts=integers["counts"],
                                 hists=integers["hists"], sums=totals, horizon=compiled.horizon,
                                 batches=batches, next_chunk=n_chunks)
    if resume is not None:
        result.draws += resume.draws
        result.counts = result.counts + resume.counts
        result.hists = result.hists + resume.hists
    return result


__all__ = ["ClusterHandle", "connect", "run", "warm_up"]
