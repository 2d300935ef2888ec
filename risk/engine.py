"""Orchestration: every computation over draws is a *pass*, and one runner executes passes.

A pass is a plan of blocks (each a batch of chunks of draws), a kernel that
fills a block's accumulators, and an exact merge.  Its accumulators come in
two kinds:

*exact*
    integers (counts, histograms; a posterior's largest log-weights), per
    thread slot while a block runs, merged by addition in any order;
*ordered*
    floating-point sums (and kept draws), one per block, merged in block
    order.  Within a block they are added chunk by chunk from zero.

So a pass gives bit-identical numbers whether its blocks run here one after
another on any number of threads (:class:`Threads`) or as tasks on a Dask
cluster (``risk.cluster.Dask``), for the same seed and chunk size.  The
Python layer never touches a draw; memory is the accumulators (a few tens of
MB), whatever the number of draws.

The passes: :class:`SimulatePass` (``mc`` and ``antithetic``, one or ``M``
calibrations), :class:`RqmcPass`, :class:`ExposurePass`,
:class:`LogWeightPass` and :class:`WeightedPass` (the posterior's two) and
:class:`RecordPass` (kept draws).

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
from dataclasses import dataclass, field
from typing import Callable

import numba
import numpy as np

from .kernels import exposure as kx
from .kernels import observe as ko
from .kernels import simulate as k
from .kernels.histogram import N_BINS
from .kernels.rng import seed_key, stream_keys
from .scenario.compile import CompiledScenario

DEFAULT_CHUNK_SIZE = 65_536
BATCH_CHUNKS = 16
MAX_SEED = 2**63 - 1
SAMPLERS = {"mc": k.SAMPLER_MC, "antithetic": k.SAMPLER_ANTITHETIC, "rqmc": k.SAMPLER_SCORES}
ERROR_BATCHES = 32
RQMC_BLOCK = 8192  # Sobol points generated and simulated per block (memory: block x scores x 8 bytes)
RQMC_CHUNK = 1024  # points per chunk: the summation unit, whatever the thread count
RECORD_TASK = 64 * k.LANES  # kept draws per task of kernels.simulate.record_draws

# Columns of ``Accumulators.batches``.
B_DRAWS = 0
B_SHORTFALL = 1
B_DISTRESS = 2
B_GAP = 3
B_DEFAULT = 4
N_B = 5


@dataclass
class Accumulators:
    """Merged streaming statistics of a run (see ``kernels.simulate`` for the layout).

    With ``M`` calibrations (judgement) every field but ``cal_counts`` and
    ``y_sums`` is over all ``M x draws`` model runs: the mixture.
    """

    draws: int  # draws per calibration (inner draws)
    counts: np.ndarray   # (n_entities, n_counts) int64
    hists: np.ndarray    # (n_entities, n_histograms, N_BINS) int64
    sums: np.ndarray     # (n_entities, n_floats) float64
    horizon: int
    batches: np.ndarray | None = None  # (n_batches, n_entities, N_B): draws, shortfalls, distress, gap sum, defaults
    next_chunk: int = 0  # where a resumed run continues: the next block (mc, antithetic) or replicate (rqmc)
    cal_counts: np.ndarray | None = None  # (M, n_entities, J_N) int64: each calibration's shortfalls, defaults
    y_sums: np.ndarray | None = None  # (n_entities, J_N) int64: sum over draws of (calibrations short)**2

    @property
    def runs(self) -> int:
        """Model runs: draws times calibrations."""
        return self.draws * (1 if self.cal_counts is None else self.cal_counts.shape[0])


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


# The runner


class Pass:
    """One kind of computation over draws (see the module docstring); subclasses fill in the kernel.

    A pass is plain data (it is shipped to Dask workers): the compiled
    scenario and the plan.  Blocks are numbered ``0 .. n_blocks - 1``.
    """

    compiled: CompiledScenario

    def n_blocks(self) -> int:
        raise NotImplementedError

    def block_draws(self, index: int) -> int:
        """Model runs in block ``index`` (progress)."""
        raise NotImplementedError

    def tasks(self, index: int) -> int:
        """Parallel tasks in block ``index`` (the most threads it can use)."""
        raise NotImplementedError

    def scratch(self, slots: int) -> list:
        return blocks(self.compiled, slots)

    def new_exact(self, slots: int):
        """Exact accumulators of ``slots`` threads, added to by :meth:`run_block`."""
        raise NotImplementedError

    def run_block(self, index: int, scratch: list, exact):
        """Run block ``index`` on ``len(scratch)`` threads; add to ``exact``; return the block's ordered part."""
        raise NotImplementedError

    def finish(self, exact):
        """The exact accumulators merged over slots."""
        return {name: value.sum(axis=0) for name, value in exact.items()}

    def combine(self, a, b):
        """Two finished exact parts merged (in any order: the merge is exact)."""
        return {name: a[name] + b[name] for name in a}

    def start(self):
        """The ordered part before any block."""
        return None

    def fold(self, acc, ordered):
        """Add a block's ordered part to ``acc``; blocks come in order."""
        raise NotImplementedError


class ChunkedPass(Pass):
    """A pass over chunks of ``chunk_size`` draws: block ``b`` holds chunks ``chunks.start + 16 b ..``.

    Subclasses are dataclasses with ``compiled``, ``seed``, ``draws`` and
    ``chunk_size`` (and may carry ``chunks``, else every chunk of the
    draws, and ``calibrations``, else the model's own: a block then runs each
    draw under every calibration).
    """

    def __post_init__(self):
        self._keys = score_keys(self.compiled, self.seed)
        if getattr(self, "chunks", None) is None:
            self.chunks = range(-(-self.draws // self.chunk_size))
        if hasattr(self, "calibrations") and self.calibrations is None:
            self.calibrations = k.one_calibration(self.compiled.model)

    def _range(self, index):
        first = self.chunks.start + index * BATCH_CHUNKS
        return first, min(BATCH_CHUNKS, self.chunks.stop - first)

    def n_blocks(self):
        return -(-len(self.chunks) // BATCH_CHUNKS)

    def tasks(self, index):
        return self._range(index)[1]

    def block_draws(self, index):
        first, size = self._range(index)
        calibrations = getattr(self, "calibrations", None)
        runs = 1 if calibrations is None else calibrations.specs.shape[0]
        return (min((first + size) * self.chunk_size, self.draws) - first * self.chunk_size) * runs


@dataclass
class Threads:
    """Run passes here, on ``threads`` threads (the default executor)."""

    threads: int

    def describe(self) -> dict:
        return {"executor": "threads", "threads": self.threads}

    def run(self, job: Pass, block_range: range, *, progress: Callable[[int, int], None] | None = None,
            state: tuple | None = None) -> tuple:
        """Run blocks ``block_range`` of ``job``; continue from ``state`` (a previous ``run``'s return)."""
        slots = slot_count(self.threads, max((job.tasks(i) for i in block_range), default=1))
        scratch = job.scratch(slots)
        exact = job.new_exact(slots)
        acc = job.start() if state is None else state[1]
        total = sum(job.block_draws(i) for i in block_range)
        done = 0
        for index in block_range:
            acc = job.fold(acc, job.run_block(index, scratch, exact))
            done += job.block_draws(index)
            if progress is not None:
                progress(done, total)
        finished = job.finish(exact)
        return (finished if state is None else job.combine(state[0], finished)), acc


def local_executor(executor=None, threads: int | None = None):
    """``executor``, or this machine's ``threads`` (default: every core numba may use)."""
    if executor is not None:
        return executor
    return Threads(numba.config.NUMBA_NUM_THREADS if threads is None else threads)


def run_pass(job: Pass, *, executor=None, blocks_to_run: range | None = None,
             progress: Callable[[int, int], None] | None = None, state: tuple | None = None) -> tuple:
    """Run a pass (all its blocks, or ``blocks_to_run``) on ``executor`` (default: every core here).

    Returns ``(exact, ordered)``: the merged exact accumulators and the
    ordered part folded in block order.
    """
    executor = local_executor(executor)
    block_range = range(job.n_blocks()) if blocks_to_run is None else blocks_to_run
    return executor.run(job, block_range, progress=progress, state=state)


# Simulation


@dataclass
class SimulatePass(ChunkedPass):
    """The headline statistics of ``draws`` draws (``mc`` or ``antithetic``), under one or ``M`` calibrations.

    Block ``b`` holds chunks ``chunks.start + b * BATCH_CHUNKS ..``; ``chunks``
    (default: all) selects part of the plan (a paired comparison's group of chunks).
    """

    compiled: CompiledScenario
    seed: int
    draws: int
    chunk_size: int = DEFAULT_CHUNK_SIZE
    sampler: str = "mc"
    calibrations: k.Calibrations | None = None
    chunks: range | None = None

    def __post_init__(self):
        self.chunk_size = sampler_chunk_size(self.chunk_size, self.sampler)
        super().__post_init__()

    @property
    def n_calibrations(self) -> int:
        return self.calibrations.specs.shape[0]

    def new_exact(self, slots):
        return _simulation_exact(self.compiled, slots, self.n_calibrations)

    def run_block(self, index, scratch, exact):
        first, size = self._range(index)
        c = self.compiled
        block_sums = np.zeros((c.n_companies + 1, k.n_floats(c.horizon)))
        chunk_sums = _simulate_chunks(scratch, SAMPLERS[self.sampler], self._keys, scratch[0].no_scores, first,
                                      size, self.chunk_size, self.draws, c.model, self.calibrations, exact,
                                      block_sums)
        block_batches = np.zeros((ERROR_BATCHES, chunk_sums.shape[1], N_B))
        for offset in range(size):
            chunk = first + offset
            rows = min((chunk + 1) * self.chunk_size, self.draws) - chunk * self.chunk_size
            _add_batch(block_batches[chunk % ERROR_BATCHES], chunk_sums[offset], rows * self.n_calibrations)
        return block_sums, block_batches

    def start(self):
        c = self.compiled
        n_entities = c.n_companies + 1
        return np.zeros((n_entities, k.n_floats(c.horizon))), np.zeros((ERROR_BATCHES, n_entities, N_B))

    def fold(self, acc, ordered):
        return acc[0] + ordered[0], acc[1] + ordered[1]  # blocks in order: the same arithmetic on a cluster

    def accumulators(self, found: tuple) -> Accumulators:
        """The :class:`Accumulators` of a :func:`run_pass` of all the blocks (possibly in rounds)."""
        exact, (sums, batches) = found
        draws = min(self.chunks.stop * self.chunk_size, self.draws) - self.chunks.start * self.chunk_size
        judged = self.n_calibrations > 1
        return Accumulators(draws=draws, counts=exact["counts"], hists=exact["hists"], sums=sums,
                            horizon=self.compiled.horizon, batches=batches, next_chunk=self.n_blocks(),
                            cal_counts=exact["cal_counts"] if judged else None,
                            y_sums=exact["y_sums"] if judged else None)


def sampler_chunk_size(chunk_size: int, sampler: str) -> int:
    """The chunk size a sampler runs with: antithetic chunks hold whole pairs (rounded up to even)."""
    return chunk_size + chunk_size % 2 if sampler == "antithetic" else chunk_size


def _simulation_exact(compiled: CompiledScenario, slots: int, n_calibrations: int = 1) -> dict:
    """The exact accumulators of ``kernels.simulate.run_batch`` for ``slots`` threads."""
    counts, hists, _, cal_counts, y_sums = k.allocate(slots, compiled.n_companies + 1, compiled.horizon, 0,
                                                      n_calibrations)
    return {"counts": counts, "hists": hists, "cal_counts": cal_counts, "y_sums": y_sums}


def _simulate_chunks(scratch: list, sampler: int, z_keys, scores, first: int, size: int, chunk_size: int,
                     total_draws: int, model, calibrations, exact: dict, total: np.ndarray) -> np.ndarray:
    """``run_batch`` on chunks ``first .. first + size - 1`` on every slot; their float sums are added to
    ``total`` in chunk order, and returned per chunk (for the error batches)."""
    chunk_sums = np.zeros((size,) + total.shape)
    in_slots(k.run_batch, scratch, sampler, z_keys, scores, first, size, chunk_size, total_draws, model,
             calibrations, exact["counts"], exact["hists"], chunk_sums, exact["cal_counts"], exact["y_sums"])
    k.add_in_order(total, chunk_sums)
    return chunk_sums


def _add_batch(batch: np.ndarray, chunk_sums: np.ndarray, size: int) -> None:
    batch[:, B_DRAWS] += size
    batch[:, B_SHORTFALL] += chunk_sums[:, k.F_SHORTFALL]
    batch[:, B_DISTRESS] += chunk_sums[:, k.F_DISTRESS]
    batch[:, B_GAP] += chunk_sums[:, k.F_GAP]
    batch[:, B_DEFAULT] += chunk_sums[:, k.F_DEFAULT]


def run(compiled: CompiledScenario, *, draws: int, seed: int, threads: int | None = None,
        chunk_size: int = DEFAULT_CHUNK_SIZE, progress: Callable[[int, int], None] | None = None,
        chunks: range | None = None, sampler: str = "mc", calibrations: k.Calibrations | None = None,
        resume: Accumulators | None = None, executor=None) -> Accumulators:
    """Simulate ``draws`` draws of a compiled scenario (``mc`` or ``antithetic``): a :class:`SimulatePass`.

    Parameters
    ----------
    compiled : CompiledScenario
    draws : int
        Number of draws, >= 1 (per calibration).
    seed : int
        In ``[0, 2**63)``; the same seed gives bit-identical accumulators for
        any ``threads`` or executor (and the same ``chunk_size``).
    threads : int, optional
        Threads to use here (default every core); ignored with ``executor``.
    chunk_size : int
        Draws per chunk: the unit of the floating-point summation order
        (rounded up to an even number for ``antithetic``, so pairs never split).
    progress : callable, optional
        Called as ``progress(done, total)`` after every block.
    chunks : range, optional
        Run only these chunks of the ``draws``-draw plan (a batch of a paired
        comparison); their draws are the very draws of a full run.
    sampler : {"mc", "antithetic"}
    calibrations : kernels.simulate.Calibrations, optional
        ``M`` sets of priors run on every draw's scores (judgement).
    resume : Accumulators, optional
        Continue a run of the same plan from block ``resume.next_chunk``.  A
        run of ``n`` draws made in rounds is bit-identical to one made at once.
    executor : Threads or risk.cluster.Dask, optional

    Returns
    -------
    Accumulators
    """
    job = SimulatePass(compiled, seed, draws, chunk_size, sampler, calibrations, chunks)
    executor = local_executor(executor, threads)
    start = resume.next_chunk if resume is not None else 0
    state = None
    if resume is not None:
        exact = dict(job.finish(job.new_exact(1)), counts=resume.counts, hists=resume.hists)
        if resume.cal_counts is not None:
            exact.update(cal_counts=resume.cal_counts, y_sums=resume.y_sums)
        state = (exact, (resume.sums, resume.batches))
    block_range = range(start, job.n_blocks())
    found = run_pass(job, executor=executor, blocks_to_run=block_range, progress=progress, state=state)
    return job.accumulators(found)


# Randomised quasi-Monte Carlo


def rqmc_points(draws: int, replicates: int) -> int:
    """Points per RQMC replicate: the power of two that covers ``draws / replicates``."""
    per = max(1, -(-draws // replicates))
    return 1 << max(0, (per - 1).bit_length())


@dataclass
class RqmcPass(Pass):
    """``replicates`` scrambled Sobol nets of ``points`` points; block = ``RQMC_BLOCK`` points of one replicate.

    Replicate ``r`` is scrambled with ``numpy.random.default_rng([seed, r])``
    and a block starts its sequence at its own point (``fast_forward``), so
    any worker can run any block.  Chunks have ``RQMC_CHUNK`` points whatever
    the thread count: the same numbers on 1 or 64 threads.
    """

    compiled: CompiledScenario
    seed: int
    points: int
    first_replicate: int
    replicates: int

    def __post_init__(self):
        self.block = min(self.points, RQMC_BLOCK)
        self.chunk = min(self.block, RQMC_CHUNK)
        self.dimension = len(self.compiled.arrays["z_active"])
        if self.dimension > 21201:
            raise ValueError("scipy's Sobol sequence has at most 21201 dimensions")

    def _per_replicate(self):
        return self.points // self.block

    def n_blocks(self):
        return (self.replicates - self.first_replicate) * self._per_replicate()

    def block_draws(self, index):
        return self.block

    def tasks(self, index):
        return -(-self.block // self.chunk)

    def new_exact(self, slots):
        return _simulation_exact(self.compiled, slots)

    def run_block(self, index, scratch, exact):
        from scipy.special import ndtri
        from scipy.stats import qmc

        replicate = self.first_replicate + index // self._per_replicate()
        position = (index % self._per_replicate()) * self.block
        sobol = qmc.Sobol(self.dimension, scramble=True, seed=np.random.default_rng([self.seed, replicate]))
        if position:
            sobol.fast_forward(position)
        # a scrambled point is never exactly 0 or 1, but keep the scores finite regardless
        scores = np.ascontiguousarray(ndtri(np.clip(sobol.random(self.block), 1e-17, 1.0 - 1e-16)))
        c = self.compiled
        model = c.model
        n_chunks = -(-self.block // self.chunk)
        block_sums = np.zeros((c.n_companies + 1, k.n_floats(c.horizon)))
        batch = np.zeros((c.n_companies + 1, N_B))
        z_keys = np.zeros(self.dimension, dtype=np.uint64)
        calibrations = k.one_calibration(model)
        for first in range(0, n_chunks, BATCH_CHUNKS):
            size = min(BATCH_CHUNKS, n_chunks - first)
            sums = _simulate_chunks(scratch, k.SAMPLER_SCORES, z_keys, scores, first, size, self.chunk, self.block,
                                    model, calibrations, exact, block_sums)
            for offset in range(size):
                rows = min((first + offset + 1) * self.chunk, self.block) - (first + offset) * self.chunk
                _add_batch(batch, sums[offset], rows)
        return replicate, block_sums, batch

    def start(self):
        c = self.compiled
        n_entities = c.n_companies + 1
        return np.zeros((n_entities, k.n_floats(c.horizon))), np.zeros((self.replicates, n_entities, N_B))

    def fold(self, acc, ordered):
        replicate, sums, batch = ordered
        batches = acc[1].copy()
        batches[replicate] += batch
        return acc[0] + sums, batches


def run_rqmc(compiled: CompiledScenario, *, draws: int, seed: int, threads: int | None = None,
             replicates: int = 16, progress: Callable[[int, int], None] | None = None,
             resume: Accumulators | None = None, executor=None) -> Accumulators:
    """Randomised quasi-Monte Carlo: ``replicates`` scrambled Sobol nets of ``rqmc_points`` points.

    The same seed gives the same numbers for any thread count or executor,
    and a run resumed with more replicates (``resume``) equals one made with
    all of them at once.  ``draws`` is rounded up to ``replicates * 2**m``.
    """
    points = rqmc_points(draws, replicates)
    first = 0 if resume is None else resume.batches.shape[0]
    job = RqmcPass(compiled, seed, points, first, replicates)
    state = None
    if resume is not None:
        batches = np.zeros((replicates,) + resume.batches.shape[1:])
        batches[:first] = resume.batches
        state = (dict(job.finish(job.new_exact(1)), counts=resume.counts, hists=resume.hists),
                 (resume.sums, batches))
    executor = local_executor(executor, threads)
    exact, (sums, batches) = run_pass(job, executor=executor, progress=progress, state=state)
    total = replicates * points
    return Accumulators(draws=total, counts=exact["counts"], hists=exact["hists"], sums=sums,
                        horizon=compiled.horizon, batches=batches, next_chunk=replicates)


# Provider exposure


@dataclass
class ExposurePass(ChunkedPass):
    """Provider settlements of the run's draws (``kernels.exposure``): the same draws as :class:`SimulatePass`."""

    compiled: CompiledScenario
    seed: int
    draws: int
    chunk_size: int = DEFAULT_CHUNK_SIZE

    def new_exact(self, slots):
        return {"hists": np.zeros((slots, len(self.compiled.providers) + 1, N_BINS), dtype=np.int64)}

    def run_block(self, index, scratch, exact):
        first, size = self._range(index)
        chunk_sums = np.zeros((size, len(self.compiled.providers) + 1, kx.N_S))
        in_slots(kx.exposure_batch, scratch, self._keys, first, size, self.chunk_size, self.draws,
                 self.compiled.model, self.compiled.equity_recovery, chunk_sums, exact["hists"])
        block = np.zeros(chunk_sums.shape[1:])
        for ci in range(size):  # chunk order: thread-count invariant
            block += chunk_sums[ci]
        return block

    def start(self):
        return np.zeros((len(self.compiled.providers) + 1, kx.N_S))

    def fold(self, acc, ordered):
        return acc + ordered


def run_exposure(compiled: CompiledScenario, *, draws: int, seed: int, threads: int | None = None,
                 chunk_size: int = DEFAULT_CHUNK_SIZE, executor=None) -> tuple[np.ndarray, np.ndarray]:
    """Provider settlements: ``(sums, hists)``, ``sums`` (n_providers + 1, N_S) (the last row is the
    total over providers) and ``hists`` (n_providers + 1, N_BINS) of the unpaid present value."""
    executor = local_executor(executor, threads)
    exact, sums = run_pass(ExposurePass(compiled, seed, draws, chunk_size), executor=executor)
    return sums, exact["hists"]


# The posterior's two passes (risk.posterior)


@dataclass
class LogWeightPass(Pass):
    """Pass 1 of the posterior: the ``keep`` largest log-likelihoods of the draws, and their draw numbers.

    Exact: the largest values of a union are the largest of the parts'
    largest; ties are broken by draw number, so the merge is order-free.
    """

    compiled: CompiledScenario
    seed: int
    draws: int
    observations: np.ndarray
    keep: int
    chunk_size: int = DEFAULT_CHUNK_SIZE
    calibrations: k.Calibrations | None = None

    def __post_init__(self):
        self._keys = score_keys(self.compiled, self.seed)
        self._block = BATCH_CHUNKS * self.chunk_size
        if self.calibrations is None:
            self.calibrations = k.one_calibration(self.compiled.model)
        self._m = self.calibrations.specs.shape[0]

    def n_blocks(self):
        return -(-self.draws // self._block)

    def _inner(self, index):
        return min(self._block, self.draws - index * self._block)

    def block_draws(self, index):
        return self._inner(index) * self._m  # runs: draw d under calibration j is run d * M + j

    def tasks(self, index):
        return -(-self._inner(index) // RECORD_TASK)

    def new_exact(self, slots):
        return {"lw": np.empty(0), "draw": np.empty(0, dtype=np.int64), "finite": 0}

    def run_block(self, index, scratch, exact):
        first = index * self._block
        out = np.empty(self.block_draws(index))
        in_slots(ko.log_weights, scratch[:slot_count(len(scratch), self.tasks(index))], k.SAMPLER_MC,
                 self._keys, first, self.compiled.model, self.calibrations, self.observations, out)
        exact["finite"] += int(np.isfinite(out).sum())
        runs = np.arange(first * self._m, first * self._m + len(out), dtype=np.int64)
        merged = self.combine(exact, {"lw": out, "draw": runs, "finite": 0})
        exact.update(lw=merged["lw"], draw=merged["draw"])
        return None

    def finish(self, exact):
        return exact

    def combine(self, a, b):
        lw = np.concatenate([a["lw"], b["lw"]])
        draw = np.concatenate([a["draw"], b["draw"]])
        if len(lw) > self.keep:
            chosen = np.lexsort((draw, -lw))[:self.keep]  # largest first, then the lower draw number
            lw, draw = lw[chosen], draw[chosen]
        return {"lw": lw, "draw": draw, "finite": a["finite"] + b["finite"]}

    def fold(self, acc, ordered):
        return acc


@dataclass
class WeightedPass(ChunkedPass):
    """Pass 2 of the posterior: weighted statistics of the same draws (``kernels.observe.weighted_batch``)."""

    compiled: CompiledScenario
    seed: int
    draws: int
    observations: np.ndarray
    lw_max: float
    tail_draws: np.ndarray
    tail_lw: np.ndarray
    chunk_size: int = DEFAULT_CHUNK_SIZE
    calibrations: k.Calibrations | None = None

    def new_exact(self, slots):
        n_entities = self.compiled.n_companies + 1
        n_var = self.compiled.arrays["spec"].shape[0]
        return {"hists": np.zeros((slots, n_entities, 2, N_BINS), dtype=np.int64),
                "prior_hists": np.zeros((slots, n_var, N_BINS), dtype=np.int64)}

    def run_block(self, index, scratch, exact):
        first, size = self._range(index)
        n_entities = self.compiled.n_companies + 1
        n_var = self.compiled.arrays["spec"].shape[0]
        sums = np.zeros((size, n_entities, ko.N_WEIGHTED))
        prior_sums = np.zeros((size, n_var))
        in_slots(ko.weighted_batch, scratch, k.SAMPLER_MC, self._keys, first, size, self.chunk_size, self.draws,
                 self.compiled.model, self.calibrations, self.observations, self.lw_max, self.tail_draws, self.tail_lw, sums,
                 prior_sums, exact["hists"], exact["prior_hists"])
        total, prior = np.zeros(sums.shape[1:]), np.zeros(n_var)
        for ci in range(size):  # chunk order: the same numbers for any thread count
            total += sums[ci]
            prior += prior_sums[ci]
        return total, prior

    def start(self):
        n_var = self.compiled.arrays["spec"].shape[0]
        return np.zeros((self.compiled.n_companies + 1, ko.N_WEIGHTED)), np.zeros(n_var)

    def fold(self, acc, ordered):
        return acc[0] + ordered[0], acc[1] + ordered[1]


@dataclass
class PredictPass(ChunkedPass):
    """The prior predictive of observations (``kernels.observe.predict_batch``): a backtest, the run's draws."""

    compiled: CompiledScenario
    seed: int
    draws: int
    observations: np.ndarray
    calibrations: k.Calibrations | None = None
    chunk_size: int = DEFAULT_CHUNK_SIZE

    def new_exact(self, slots):
        return {}

    def finish(self, exact):
        return {}

    def run_block(self, index, scratch, exact):
        first, size = self._range(index)
        sums = np.zeros((size, len(self.observations), self.calibrations.specs.shape[0], ko.N_PREDICTED))
        in_slots(ko.predict_batch, scratch, self._keys, first, size, self.chunk_size, self.draws,
                 self.compiled.model, self.calibrations, self.observations, sums)
        block = np.zeros(sums.shape[1:])
        for ci in range(size):  # chunk order: thread-count invariant
            block += sums[ci]
        return block

    def start(self):
        return np.zeros((len(self.observations), self.calibrations.specs.shape[0], ko.N_PREDICTED))

    def fold(self, acc, ordered):
        return acc + ordered


# Kept draws


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
    calibration: np.ndarray | None = None  # (n,) the calibration of each kept draw (judgement), or None


@dataclass
class RecordPass(Pass):
    """Per-draw records of the draws ``index`` (kept draws, sensitivity); a block is 16 tasks of draws."""

    compiled: CompiledScenario
    z_keys: np.ndarray
    index: np.ndarray
    sampler: str = "mc"
    keep_values: bool = False
    keep_paths: bool = False
    per_block: int = field(default=16 * RECORD_TASK)

    def n_blocks(self):
        return -(-len(self.index) // self.per_block)

    def block_draws(self, index):
        return min(self.per_block, len(self.index) - index * self.per_block)

    def tasks(self, index):
        return -(-self.block_draws(index) // RECORD_TASK)

    def new_exact(self, slots):
        return {}

    def finish(self, exact):
        return {}

    def run_block(self, index, scratch, exact):
        c = self.compiled
        draws = self.index[index * self.per_block:index * self.per_block + self.block_draws(index)]
        n = len(draws)
        n_entities = c.n_companies + 1
        outcomes = np.empty((n, n_entities, k.N_RECORDED))
        values = np.empty((n if self.keep_values else 0, c.arrays["spec"].shape[0]))
        paths = np.empty((n if self.keep_paths else 0, len(k.KEPT_PATHS), n_entities, c.horizon))
        in_slots(k.record_draws, scratch[:slot_count(len(scratch), self.tasks(index))], SAMPLERS[self.sampler],
                 self.z_keys, np.ascontiguousarray(draws), c.model, values, outcomes, paths)
        return outcomes, values, paths

    def start(self):
        return []

    def fold(self, acc, ordered):
        return acc + [ordered]


def record(compiled: CompiledScenario, *, z_keys: np.ndarray, draws: int | None = None,
           indices: np.ndarray | None = None, sampler: str = "mc", keep_values: bool = False,
           keep_paths: bool = False, threads: int | None = None, executor=None) -> Records:
    """Per-draw records of draws ``0 .. draws - 1`` or of the draws ``indices``.

    Memory is ``n x (6 n_entities [+ n_variates] [+ 6 n_entities horizon]) x 8``
    bytes: the caller asks for what it needs.
    """
    if sampler not in ("mc", "antithetic"):
        raise ValueError("draws are kept for the mc and antithetic samplers")
    index = np.arange(draws, dtype=np.int64) if indices is None else np.ascontiguousarray(indices, dtype=np.int64)
    executor = local_executor(executor, threads)
    job = RecordPass(compiled, z_keys, index, sampler, keep_values, keep_paths)
    _, parts = run_pass(job, executor=executor)
    n_entities = compiled.n_companies + 1
    outcomes = (np.concatenate([p[0] for p in parts]) if parts else np.empty((0, n_entities, k.N_RECORDED)))
    values = np.concatenate([p[1] for p in parts]) if keep_values and parts else None
    paths = np.concatenate([p[2] for p in parts]) if keep_paths and parts else None
    return Records(draw_index=index, coverage=outcomes[:, :, k.R_COVERAGE], funding_gap=outcomes[:, :, k.R_GAP],
                   breakeven=outcomes[:, :, k.R_BREAKEVEN].astype(np.int64),
                   distress=outcomes[:, :, k.R_DISTRESS] > 0.5, default=outcomes[:, :, k.R_DEFAULT] > 0.5,
                   new_money=outcomes[:, :, k.R_NEW_MONEY], values=values, paths=paths)


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

