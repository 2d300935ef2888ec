"""Run the engine on a Dask cluster (``dask.distributed``): same draws, same numbers.

:class:`Dask` is an executor of ``risk.engine`` passes: one task per block
of a pass.  A block's random streams depend only on the seed and its draw
numbers, so any worker can run any block, and a block recomputed after a
worker dies is the same block.  Exact accumulators (counts, histograms) are
merged in a tree of tasks on the workers; the client receives only each
block's small ordered part (floating-point sums) and adds them in block
order, exactly as ``engine.Threads`` does locally: the result is
bit-identical to a local run with the same seed and chunk size, for any
number of workers.  Memory per worker is that of one block (the histograms,
about 10 MB per entity set), whatever the number of draws.

Workers compile the kernels once each (``warm_up``); on one machine they
share the numba cache of ``risk._cache``, so after the first local run they
only load it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from . import engine
from .errors import InputError

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
    from distributed.comm.addressing import parse_host_port

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
        host, port = parse_host_port(scheduler.split("://", 1)[-1])
        if not host or not port:
            raise ValueError("no host or port")
    except (ValueError, TypeError) as err:
        raise InputError(f"'{scheduler}' is not a scheduler address ({err})", source="--scheduler",
                         allowed="tcp://HOST:PORT, e.g. tcp://10.0.0.5:8786") from None
    try:
        return ClusterHandle(Client(scheduler, timeout=timeout))
    except (OSError, TimeoutError, ValueError) as err:
        raise InputError(f"cannot reach the Dask scheduler within {timeout:g} s ({type(err).__name__})",
                         source="--scheduler", key=scheduler,
                         allowed="the address of a running scheduler, e.g. tcp://10.0.0.5:8786") from None


def warm_up(compiled) -> int:
    """Load or compile the kernels in this process (``client.run`` it once per worker); returns the pid."""
    engine.run(compiled, draws=1, seed=0, threads=1)
    return os.getpid()


def _task(job, index, threads):
    # one block of a pass on a worker: its exact part merged over the worker's threads, and its ordered part
    slots = engine.slot_count(threads, job.tasks(index))
    exact = job.new_exact(slots)
    ordered = job.run_block(index, job.scratch(slots), exact)
    return job.finish(exact), ordered


def _identity(value):
    return value


def _exact(found):
    return found[0]


def _ordered(found):
    return found[1]


def _combine(job, a, b):
    return job.combine(a, b)


class Dask:
    """Run passes on a Dask cluster: one task per block, exact parts merged on the workers.

    Parameters
    ----------
    client : distributed.Client
    """

    def __init__(self, client):
        self.client = client

    @property
    def threads(self) -> int:
        """Threads over all workers."""
        return int(sum(self.client.nthreads().values()))

    def describe(self) -> dict:
        """The executor, for a result's provenance: the scheduler's address and the workers."""
        return {"executor": "dask", "scheduler": self.client.scheduler.address,
                "workers": len(self.client.nthreads()), "threads": self.threads}

    def run(self, job, block_range: range, *, progress=None, state=None) -> tuple:
        """``engine.Threads.run`` on the cluster: the same numbers, bit for bit."""
        from distributed import as_completed

        client = self.client
        # the pass (the compiled scenario, ~1 MB) as a task of its own rather than scattered data: if the
        # worker holding it leaves, the scheduler recomputes it instead of cancelling every block
        # ("lost dependencies", seen when workers are retired during a run)
        job_future = client.submit(_identity, job, pure=False)
        threads = max(1, min(client.nthreads().values(), default=1))
        found = [client.submit(_task, job_future, index, threads, pure=False) for index in block_range]
        ordered = [client.submit(_ordered, block, pure=False) for block in found]
        level = [client.submit(_exact, block, pure=False) for block in found]
        found = None  # hold no leaf: a block's histograms are freed once added
        while len(level) > 1:  # a tree of exact merges on the workers
            level = [client.submit(_combine, job_future, level[i], level[i + 1], pure=False)
                     if i + 1 < len(level) else level[i] for i in range(0, len(level), 2)]
        total = sum(job.block_draws(index) for index in block_range)
        where = {future.key: index for future, index in zip(ordered, block_range)}
        done = 0
        for future in as_completed(ordered):
            done += job.block_draws(where[future.key])
            if progress is not None:
                progress(done, total)
        acc = job.start() if state is None else state[1]
        for future in ordered:  # in block order: the local arithmetic
            acc = job.fold(acc, future.result())
        exact = level[0].result() if level else job.finish(job.new_exact(1))
        return (exact if state is None else job.combine(state[0], exact)), acc


__all__ = ["ClusterHandle", "Dask", "connect", "warm_up"]
