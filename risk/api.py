"""The library entry point: ``risk.simulate(...)`` and its ``Result``."""

from __future__ import annotations

import datetime as _dt
import os
import platform
import secrets
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from . import engine
from ._version import __version__
from .errors import InputError
from .result import QUANTILES, EntityStats, entity_stats
from .scenario import Scenario, load_scenario
from .scenario.compile import compile_scenario

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
    import numba

    available = numba.config.NUMBA_NUM_THREADS
    if threads is None:
        return available
    if isinstance(threads, bool) or not isinstance(threads, int) or threads < 1:
        raise InputError(f"{threads!r} is not a positive number of threads", source="threads",
                         allowed=f"an integer in [1, {available}]")
    return min(threads, available)


@dataclass
class Result:
    """What a run found, for each company and the sector, with Monte Carlo errors.

    Attributes
    ----------
    scenario : Scenario
        The scenario simulated.
    entities : dict of str to EntityStats
        Company names, then ``"sector"``.
    draws, seed, threads, chunk_size : int
        How it was run (the same seed and chunk size give the same numbers
        for any thread count).
    wall_seconds : float
        Simulation wall time (kernels and merging).
    """

    scenario: Scenario
    entities: dict
    draws: int
    seed: int
    threads: int
    chunk_size: int
    wall_seconds: float
    timestamp: str

    def __getitem__(self, name: str) -> EntityStats:
        return self.entities[name]

    @property
    def sector(self) -> EntityStats:
        """The sector's statistics (the sum of the companies)."""
        return self.entities["sector"]

    def summary(self):
        """Return a pandas DataFrame: one row per company and the sector."""
        import pandas as pd

        rows = []
        for name, stats in self.entities.items():
            rows.append({
                "entity": name,
                "p_shortfall": stats.p_shortfall["p"],
                "p_shortfall_mcse": stats.p_shortfall["mcse"],
                "p_shortfall_ci95_low": stats.p_shortfall["ci95"][0],
                "p_shortfall_ci95_high": stats.p_shortfall["ci95"][1],
                "p_distress": stats.p_distress["p"],
                "coverage_p05": stats.coverage_quantiles["5"],
                "coverage_p50": stats.coverage_quantiles["50"],
                "coverage_p95": stats.coverage_quantiles["95"],
                "funding_gap_mean": stats.funding_gap_mean,
                "funding_gap_mean_mcse": stats.funding_gap_mean_mcse,
                "funding_gap_var95": stats.funding_gap_var95,
                "funding_gap_cvar95": stats.funding_gap_cvar95,
                "breakeven_year_median": stats.breakeven_year_median,
                "grade": stats.grade,
            })
        return pd.DataFrame(rows).set_index("entity")

    def provenance(self) -> dict:
        """Where the numbers come from: versions, scenario hash, seed, draws, threads, time."""
        import numba
        import numpy

        return {
            "version": __version__,
            "scenario": self.scenario.name,
            "scenario_source": self.scenario.source,
            "scenario_sha256": self.scenario.sha256,
            "changes": list(self.scenario.changes),
            "seed": self.seed,
            "draws": self.draws,
            "threads": self.threads,
            "chunk_size": self.chunk_size,
            "wall_seconds": self.wall_seconds,
            "timestamp": self.timestamp,
            "python": platform.python_version(),
            "numpy": numpy.__version__,
            "numba": numba.__version__,
        }

    def to_dict(self) -> dict:
        """JSON-serialisable results (schema documented in the README)."""
        return {
            "schema": "risk.result/1",
            "version": __version__,
            "scenario": self.scenario.name,
            "changes": list(self.scenario.changes),
            "draws": self.draws,
            "seed": self.seed,
            "years": self.scenario.years,
            "quantile_levels": [round(q * 100) for q in QUANTILES],
            "companies": {name: stats.to_dict() for name, stats in self.entities.items()
                          if name != "sector"},
            "sector": self.sector.to_dict(),
            "provenance": self.provenance(),
        }

    def __repr__(self) -> str:
        lines = [f"<risk.Result {self.scenario.name}: {self.draws:,} draws, seed {self.seed}>"]
        for name, stats in self.entities.items():
            p = stats.p_shortfall
            lines.append(f"  {name:<12} P(shortfall) = {p['p']:.4f} ± {p['mcse']:.4f}"
                         f"  median coverage {stats.coverage_quantiles['50']:.3f}  grade {stats.grade}")
        return "\n".join(lines)


def simulate(scenario: str | Path | Scenario | None = None, *, draws: int = 1_000_000,
             seed: int | None = None, threads: int | None = None,
             overrides: dict | None = None, stress: str | list | None = None,
             chunk_size: int = engine.DEFAULT_CHUNK_SIZE,
             progress: Callable[[int, int], None] | None = None) -> Result:
    """Simulate a scenario and return its statistics with Monte Carlo errors.

    Parameters
    ----------
    scenario : str, pathlib.Path or Scenario, optional
        A scenario file, an embedded scenario name (``"default"``,
        ``"article-2025"``) or a loaded :class:`~risk.Scenario`.  Default:
        the embedded default (latest sourced vintage).
    draws : int, default 1_000_000
        Number of Monte Carlo draws.
    seed : int, optional
        Seed in ``[0, 2**63)``; None draws a fresh one (recorded in the result).
    threads : int, optional
        Threads to use (default: all numba threads).  Results do not depend on it.
    overrides : dict, optional
        What-if changes ``{key path: value | risk.Scale(f) | risk.Shift(d)}``,
        e.g. ``{"companies.openai.revenue0.p50": 30}`` (see
        ``risk.scenario.overrides``), applied after ``stress``.
    stress : str or list of str, optional
        Stress overlays by name (``risk.stress_overlays()``) or file, in order.
    chunk_size : int, default 65536
        Draws per chunk: the unit of the floating-point summation order.
    progress : callable, optional
        Called as ``progress(done, draws)`` as the run advances.

    Returns
    -------
    Result

    Raises
    ------
    risk.errors.InputError
        For a bad scenario or argument, before any simulation.

    Examples
    --------
    >>> import risk
    >>> res = risk.simulate(draws=100_000, seed=1)  # doctest: +SKIP
    >>> res.summary()  # doctest: +SKIP
    """
    draws = check_draws(draws)
    seed = check_seed(seed)
    threads = check_threads(threads)
    chunk_size = check_chunk_size(chunk_size)
    loaded = resolve_scenario(scenario, overrides=overrides, stress=stress)
    compiled = compile_scenario(loaded)
    start = time.perf_counter()
    accumulators = engine.run(compiled, draws=draws, seed=seed, threads=threads,
                              chunk_size=chunk_size, progress=progress)
    return make_result(loaded, accumulators, seed=seed, threads=threads, chunk_size=chunk_size,
                       wall_seconds=time.perf_counter() - start)


def resolve_scenario(scenario, *, overrides=None, stress=None) -> Scenario:
    """A loaded scenario from a name, a path or a :class:`Scenario`, with overlays and overrides."""
    if isinstance(scenario, Scenario):
        if overrides or stress:
            raise InputError("overrides and stress overlays apply to a scenario file, not to a loaded Scenario",
                             source="scenario", allowed="pass the file path or embedded name instead")
        return scenario
    return load_scenario(scenario, overrides=overrides, stress=stress)


def check_chunk_size(chunk_size) -> int:
    """Validate a chunk size (draws per chunk)."""
    if isinstance(chunk_size, bool) or not isinstance(chunk_size, int) or chunk_size < 1:
        raise InputError(f"{chunk_size!r} is not a positive chunk size", source="chunk_size",
                         allowed="an integer >= 1 (default 65536)")
    return chunk_size


def make_result(loaded: Scenario, accumulators, *, seed: int, threads: int, chunk_size: int,
                wall_seconds: float) -> Result:
    """Turn merged accumulators into a :class:`Result`."""
    entities = {
        name: entity_stats(name, accumulators.counts[e], accumulators.hists[e],
                           accumulators.sums[e], accumulators.draws, loaded.years)
        for e, name in enumerate(loaded.entities)
    }
    stamp = _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")
    return Result(scenario=loaded, entities=entities, draws=accumulators.draws, seed=seed, threads=threads,
                  chunk_size=chunk_size, wall_seconds=wall_seconds, timestamp=stamp)


def write_atomic(path: str | Path, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file and a rename."""
    import tempfile

    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(text)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
