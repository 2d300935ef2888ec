"""The checks every entry point shares: draws, seeds, threads, chunk sizes, targets, the scenario.

Each raises ``InputError`` naming the argument and what is allowed, before
any work.  ``resolve_scenario`` turns a path, a shipped name or a loaded
``Scenario`` (with overlays and overrides on top) into one ``Scenario``.
"""

from __future__ import annotations

import secrets

import numba

from . import cluster, engine
from .errors import InputError
from .scenario import Scenario, load_scenario
from .scenario.schema import with_changes

MAX_DRAWS = 2**52  # each seed's draw streams are disjoint up to here (kernels.rng)


def check_draws(draws, *, source: str = "draws") -> int:
    """Validate a number of draws: a positive whole number."""
    if isinstance(draws, bool) or not isinstance(draws, int) or draws < 1:
        if isinstance(draws, float) and draws.is_integer() and draws >= 1:
            draws = int(draws)
        else:
            raise InputError(f"{draws!r} is not a positive whole number of draws", source=source,
                             allowed="an integer >= 1, e.g. 1_000_000")
    if draws > MAX_DRAWS:
        raise InputError(f"{draws} draws is more than one seed's streams hold", source=source,
                         allowed=f"at most 2**52 = {MAX_DRAWS}")
    return draws


def check_seed(seed) -> int:
    if seed is None:
        return secrets.randbelow(engine.MAX_SEED)
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed <= engine.MAX_SEED:
        raise InputError(f"{seed!r} is not a valid seed", source="seed",
                         allowed="an integer in [0, 2**63 - 1], or None for a fresh one")
    return seed


def check_threads(threads) -> int:
    available = numba.config.NUMBA_NUM_THREADS
    if threads is None:
        return available
    if isinstance(threads, bool) or not isinstance(threads, int) or threads < 1:
        raise InputError(f"{threads!r} is not a positive number of threads", source="threads",
                         allowed=f"an integer in [1, {available}]")
    return min(threads, available)


def check_targets(target_mcse, target_rel_err) -> dict:
    targets = {}
    for name, value in (("target_mcse", target_mcse), ("target_rel_err", target_rel_err)):
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value < 1:
            raise InputError(f"{value!r} is not a usable {name.replace('_', ' ')}", source=name,
                             allowed="a number in (0, 1), e.g. 0.001 (absolute) or 0.02 (relative)")
        targets[name] = float(value)
    return targets


def resolve_scenario(scenario, *, overrides=None, stress=None) -> Scenario:
    """A scenario from a path, a shipped name or a loaded :class:`Scenario`, with overlays and overrides on top."""
    if isinstance(scenario, Scenario):
        return with_changes(scenario, overrides=overrides, stress=stress)
    return load_scenario(scenario, overrides=overrides, stress=stress)


def check_chunk_size(chunk_size) -> int:
    """Validate a chunk size (draws per chunk)."""
    if isinstance(chunk_size, bool) or not isinstance(chunk_size, int) or chunk_size < 1:
        raise InputError(f"{chunk_size!r} is not a positive chunk size", source="chunk_size",
                         allowed="an integer >= 1 (default 65536)")
    return chunk_size


def executor_for(threads: int, client=None):
    """Where passes run: this machine's ``threads``, or the Dask cluster of ``client``."""
    return cluster.Dask(client) if client is not None else engine.Threads(threads)


def check_sampler(sampler) -> str:
    """Validate a sampler name (``engine.SAMPLERS``)."""
    if sampler not in engine.SAMPLERS:
        raise InputError(f"unknown sampler {sampler!r}", source="sampler", allowed=", ".join(engine.SAMPLERS))
    return sampler


def check_count(value, *, source: str, minimum: int, why: str = ""):
    """Validate an optional whole number of at least ``minimum`` (None passes through)."""
    if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < minimum):
        raise InputError(f"{value!r} is not a usable number of {source}", source=source,
                         allowed=f"an integer >= {minimum}" + (f" ({why})" if why else ""))
    return value


# what each option needs of the others: (applies, source, problem, allowed)
_COMBINATIONS = (
    (lambda o: o["by_provider"] and o["sampler"] != "mc", "by_provider",
     "provider exposure settles plain Monte Carlo draws", "sampler mc"),
    (lambda o: o["observations"] is not None and (o["sampler"] != "mc" or o["targets"]), "observations",
     "observations weight plain Monte Carlo draws of a fixed number", "sampler mc, no target"),
    (lambda o: o["keep"] is not None and o["sampler"] == "rqmc", "keep",
     "kept draws are not available with rqmc", "keep with --sampler mc or antithetic"),
)


def check_combination(**options) -> None:
    """Refuse options that cannot go together (``_COMBINATIONS``), naming the one that cannot."""
    for applies, source, problem, allowed in _COMBINATIONS:
        if applies(options):
            raise InputError(problem, source=source, allowed=allowed)

