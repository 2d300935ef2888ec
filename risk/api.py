"""The library entry point: ``risk.simulate(...)`` and its ``Result``."""

from __future__ import annotations

import datetime as _dt
import math
import os
import platform
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from . import engine, posterior
from . import exposure as exposure_stats
from . import judgement as judging
from .kernels import simulate as k
from ._version import __version__
from .checks import (check_chunk_size, check_draws, check_seed, check_targets, check_threads, executor_for,
                     resolve_scenario)
from .errors import InputError
from .grade import grade
from .result import QUANTILES, EntityStats, entity_stats, json_ready, wilson_interval
from .scenario import Scenario
from .scenario.compile import compile_scenario
from .scenario.observations import load_observations, observation_array, split_at_as_of

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
    sampler: str = "mc"
    stopping: dict | None = None
    kept: object = None  # engine.Records of the kept draws (``keep=``), or None
    posterior: object = None  # posterior.Posterior when observations were given, or None
    providers: dict | None = None  # per-provider exposure (``by_provider=True``), or None
    judgement: dict | None = None  # the two-level run (``risk.judgement``): calibrations, entries, drivers
    executor: dict | None = None  # where it ran: {"executor": "threads", "threads": n} or the Dask cluster

    def to_xarray(self):
        """The kept draws as an ``xarray.Dataset`` (dims ``draw``, ``company``, ``year``); see ``risk.labelled``."""
        from .labelled import to_xarray

        return to_xarray(self)

    def to_inference_data(self, chains: int = 4):
        """The kept draws for ArviZ: inputs in ``prior``, outcomes in ``prior_predictive``; see ``risk.labelled``."""
        from .labelled import to_inference_data

        return to_inference_data(self, chains=chains)

    def plot_fan(self, quantity: str = "revenue", company: str = "sector", ax=None):
        """Nested quantile bands of a yearly quantity with the compute-cost median (``risk.plots``)."""
        from .plots import plot_fan

        return plot_fan(self, quantity, company=company, ax=ax)

    def plot_coverage(self, companies=None, ax=None):
        """ECDF and density of coverage, the 1.0 line and ``p_shortfall`` marked (``risk.plots``)."""
        from .plots import plot_coverage

        return plot_coverage(self, companies=companies, ax=ax)

    def plot_breakeven(self, ax=None):
        """The distribution of the break-even year for each company and the sector (``risk.plots``)."""
        from .plots import plot_breakeven

        return plot_breakeven(self, ax=ax)

    def _repr_html_(self) -> str:
        from .labelled import result_html

        return result_html(self)

    def __getitem__(self, name: str) -> EntityStats:
        return self.entities[name]

    @property
    def sector(self) -> EntityStats:
        """The sector's statistics (any company short or in default; gaps summed, not netted)."""
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
                "p_default": stats.p_default["p"],
                "p_default_mcse": stats.p_default["mcse"],
                "p_shortfall_economic": stats.p_shortfall_economic["p"],
                "new_money_mean": stats.new_money_mean,
                "coverage_p05": stats.coverage_quantiles["5"],
                "coverage_p50": stats.coverage_quantiles["50"],
                "coverage_p95": stats.coverage_quantiles["95"],
                "funding_gap_mean": stats.funding_gap_mean,
                "funding_gap_mean_mcse": stats.funding_gap_mean_mcse,
                "funding_gap_var95": stats.funding_gap_var95,
                "funding_gap_cvar95": stats.funding_gap_cvar95,
                "breakeven_year_median": stats.breakeven_year_median,
                "grade": stats.grade,
                **({"p_shortfall_judgement_p05": stats.p_shortfall_judgement["5"],
                    "p_shortfall_judgement_p50": stats.p_shortfall_judgement["50"],
                    "p_shortfall_judgement_p95": stats.p_shortfall_judgement["95"],
                    "p_default_judgement_p05": stats.p_default_judgement["5"],
                    "p_default_judgement_p95": stats.p_default_judgement["95"],
                    "judgement_share": stats.judgement_share}
                   if stats.p_shortfall_judgement is not None else {}),
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
            "executor": self.executor or {"executor": "threads", "threads": self.threads},
            "chunk_size": self.chunk_size,
            "sampler": self.sampler,
            "stopping": self.stopping,
            "wall_seconds": self.wall_seconds,
            "timestamp": self.timestamp,
            "python": platform.python_version(),
            "numpy": numpy.__version__,
            "numba": numba.__version__,
        }

    def to_dict(self) -> dict:
        """JSON-serialisable results (schema documented in the README)."""
        return {
            "schema": "risk.result/2",
            "version": __version__,
            "scenario": self.scenario.name,
            "changes": list(self.scenario.changes),
            "draws": self.draws,
            "seed": self.seed,
            "sampler": self.sampler,
            "stopping": self.stopping,
            "judgement": json_ready(self.judgement) if self.judgement is not None else None,
            "posterior": self.posterior.to_dict() if self.posterior is not None else None,
            "providers": self.providers,
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
            band = stats.p_shortfall_judgement
            judged = f" (judgement {band['5']:.2f}-{band['95']:.2f})" if band else ""
            lines.append(f"  {name:<12} P(shortfall) = {p['p']:.4f} ± {p['mcse']:.4f}{judged}"
                         f"  P(default) = {stats.p_default['p']:.4f}"
                         f"  median coverage {stats.coverage_quantiles['50']:.3f}  grade {stats.grade}")
        return "\n".join(lines)


def simulate(scenario: str | Path | Scenario | None = None, *, draws: int = 1_000_000,
             seed: int | None = None, threads: int | None = None,
             overrides: dict | None = None, stress: str | list | None = None,
             sampler: str = "mc", replicates: int = 16,
             target_mcse: float | None = None, target_rel_err: float | None = None,
             max_draws: int | None = None,
             keep: int | None = None, observations: str | Path | None = None, by_provider: bool = False,
             chunk_size: int | None = None, client=None, judgement: bool = True,
             calibrations: int | None = None, include_before_as_of: bool = False,
             progress: Callable[[int, int], None] | None = None) -> Result:
    """Simulate a scenario and return its statistics with Monte Carlo errors.

    Parameters
    ----------
    scenario : str, pathlib.Path or Scenario, optional
        A scenario file, an embedded scenario name (``"default"``,
        ``"article-2025"``) or a loaded :class:`~risk.Scenario`.  Default:
        the embedded default (latest sourced vintage).
    draws : int, default 1_000_000
        Number of Monte Carlo draws (the first round, with a target).
    seed : int, optional
        Seed in ``[0, 2**63)``; None draws a fresh one (recorded in the result).
    threads : int, optional
        Threads to use (default: one per core, ``numba.config.NUMBA_NUM_THREADS``).  Results do not depend on it.
    overrides : dict, optional
        What-if changes ``{key path: value | risk.Scale(f) | risk.Shift(d)}``,
        e.g. ``{"companies.openai.revenue0.p50": 30}`` (see
        ``risk.scenario.overrides``), applied after ``stress``.
    stress : str or list of str, optional
        Stress overlays by name (``risk.stress_overlays()``) or file, in order.
    sampler : {"mc", "antithetic", "rqmc"}, default "mc"
        Plain Monte Carlo, antithetic pairs, or randomised quasi-Monte Carlo
        (``replicates`` scrambled Sobol nets; ``draws`` is rounded up to
        ``replicates * 2**m``).  Errors of the last two come from independent
        batches or replicates (see ``risk.engine``).
    replicates : int, default 16
        Independent randomisations for ``rqmc`` (at least 4).
    target_mcse, target_rel_err : float, optional
        Run in rounds until every reported probability (``p_shortfall`` and
        ``p_distress`` of every company and the sector) has a standard error
        at most ``target_mcse`` and at most ``target_rel_err`` times itself,
        or ``max_draws`` is reached (``Result.stopping`` says which).  Rounds
        extend the same draws, so the result equals a single run of the final
        number of draws with the same seed.
    max_draws : int, optional
        Cap for the rounds (default ``1000 * draws``).
    keep : int, optional
        Keep this many draws (sampled priors and per-draw outcomes, for
        ``to_xarray``, ``to_inference_data`` and plots): draws
        ``floor((i + 1/2) draws / keep)``, a systematic sample spread evenly
        over the run, reproducible for a seed and unbiased (draws are
        independent).  Memory: about ``(n_priors + 4 E + 3 E T) x 8`` bytes
        per kept draw.  Not with ``rqmc``.
    observations : str or pathlib.Path, optional
        A CSV of reported numbers (``risk.scenario.observations``): the draws
        are also importance-weighted by their likelihood, Pareto-smoothed
        (PSIS), and ``Result.posterior`` holds the posterior statistics, every
        prior's posterior summary, the shift of the verdict with its error,
        the effective sample size and k-hat (``risk.posterior``).  Plain MC only.
        Only observations dated after the scenario's ``as_of`` weigh the draws
        (earlier ones set its priors: ``Result.posterior.excluded`` lists them).
        With judgement the weighted sample is the mixture over calibrations.
    include_before_as_of : bool, default False
        Also weigh by observations dated on or before ``as_of`` (they may count twice: warned).
    by_provider : bool, default False
        Also settle every draw's payments per provider and investor
        (``risk.exposure``): revenue at risk, round-trip share, investment
        loss, in ``Result.providers``.  Plain MC on this machine.
    chunk_size : int, optional
        Draws per chunk (default 65536): the unit of the floating-point
        summation order.
    client : distributed.Client, optional
        Run the draws as tasks on this Dask cluster (``risk.cluster``): the
        numbers are bit-identical to a local run with the same seed and
        chunk size.
    judgement : bool, default True
        When the scenario has a ``[judgement]`` table, run two levels
        (``risk.judgement``): ``calibrations`` calibrations drawn from it and
        ``draws / calibrations`` draws within each, on common random numbers.
        Probabilities are then the mixture over calibrations, with an error
        that counts both levels, beside the judgement band (``Result.judgement``
        and each entity's ``p_shortfall_judgement``).  False runs the
        scenario at its central calibration (the file's own values).
        Provider exposure and kept draws use the central calibration.
    calibrations : int, optional
        ``M``, the calibrations of a two-level run (default 64, at least 8).
    progress : callable, optional
        Called as ``progress(done, total)`` as the run advances.

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
    >>> risk.simulate(target_mcse=0.001, seed=1).stopping  # doctest: +SKIP
    """
    draws = check_draws(draws)
    seed = check_seed(seed)
    threads = check_threads(threads)
    if sampler not in engine.SAMPLERS:
        raise InputError(f"unknown sampler {sampler!r}", source="sampler", allowed="mc, antithetic, rqmc")
    if isinstance(replicates, bool) or not isinstance(replicates, int) or replicates < 4:
        raise InputError(f"{replicates!r} replicates", source="replicates", allowed="an integer >= 4")
    targets = check_targets(target_mcse, target_rel_err)
    if keep is not None and (isinstance(keep, bool) or not isinstance(keep, int) or keep < 1):
        raise InputError(f"{keep!r} is not a number of draws to keep", source="keep", allowed="an integer >= 1")
    if by_provider and sampler != "mc":
        raise InputError("provider exposure settles plain Monte Carlo draws", source="by_provider",
                         allowed="sampler mc")
    if observations is not None and (sampler != "mc" or targets):
        raise InputError("observations weight plain Monte Carlo draws of a fixed number", source="observations",
                         allowed="sampler mc, no target")
    if keep is not None and sampler == "rqmc":
        raise InputError("kept draws are not available with rqmc", source="keep",
                         allowed="keep with --sampler mc or antithetic")
    max_draws = check_draws(max_draws, source="max_draws") if max_draws is not None else None
    if calibrations is not None and (isinstance(calibrations, bool) or not isinstance(calibrations, int)
                                     or calibrations < 8):
        raise InputError(f"{calibrations!r} calibrations", source="calibrations",
                         allowed="an integer >= 8 (the judgement band's 5 % and 95 % points need them)")
    if chunk_size is None:
        # antithetic errors come from batches of chunks: keep at least 4 chunks per batch
        chunk_size = (engine.DEFAULT_CHUNK_SIZE if sampler != "antithetic"
                      else min(engine.DEFAULT_CHUNK_SIZE, max(256, draws // (4 * engine.ERROR_BATCHES))))
    chunk_size = engine.sampler_chunk_size(check_chunk_size(chunk_size), sampler)
    loaded = resolve_scenario(scenario, overrides=overrides, stress=stress)
    compiled = compile_scenario(loaded)
    executor = executor_for(threads, client)
    judged = judgement and loaded.judgement is not None
    if judged:
        _check_two_level(sampler, targets, calibrations)
        start = time.perf_counter()
        accumulators, found = _run_two_level(loaded, compiled, draws=draws, seed=seed, chunk_size=chunk_size,
                                             calibrations=calibrations or judging.DEFAULT_CALIBRATIONS,
                                             executor=executor, progress=progress)
        stopping = None
    elif targets:
        start = time.perf_counter()
        accumulators, stopping = _run_to_target(compiled, loaded, draws=draws, seed=seed, executor=executor,
                                                chunk_size=chunk_size, sampler=sampler, replicates=replicates,
                                                targets=targets, max_draws=max_draws, progress=progress)
    else:
        start = time.perf_counter()
        accumulators, stopping = _run_once(compiled, draws=draws, seed=seed, executor=executor,
                                           chunk_size=chunk_size, sampler=sampler, replicates=replicates,
                                           progress=progress), None
    result = make_result(loaded, accumulators, seed=seed, threads=threads, chunk_size=chunk_size,
                         wall_seconds=time.perf_counter() - start, sampler=sampler, stopping=stopping,
                         executor=executor.describe(), judgement=found if judged else None)
    if by_provider:
        result.providers = exposure_stats.run(compiled, draws=draws, seed=seed, chunk_size=chunk_size,
                                        executor=executor)
    if observations is not None:
        observed, excluded = _observations_after_as_of(observations, loaded, include_before_as_of)
        plan = found if judged else {"compiled": compiled, "calibrations": None, "inner": draws,
                                     "inner_chunk": chunk_size}
        weighted = posterior.run(plan["compiled"], observation_array(observed, loaded), draws=plan["inner"],
                                 seed=seed, chunk_size=plan["inner_chunk"], executor=executor,
                                 calibrations=plan["calibrations"])
        result.posterior = posterior.summarise(weighted, loaded, result, observed, result.draws)
        result.posterior.excluded = excluded
        if include_before_as_of and split_at_as_of(observed, loaded)[1]:
            result.posterior.warning = ("observations dated on or before the scenario's as_of were included: "
                                        "they may have set its priors already, and then count twice. "
                                        + result.posterior.warning).strip()
    if keep is not None:
        total = accumulators.draws
        count = min(keep, total)
        indices = ((np.arange(count) + 0.5) * (total / count)).astype(np.int64)
        result.kept = engine.record(compiled, z_keys=engine.score_keys(compiled, seed), indices=indices,
                                    sampler=sampler, keep_values=True, keep_paths=True, executor=executor)
    return result


def exposure(scenario: str | Path | Scenario | None = None, *, draws: int = 1_000_000, seed: int | None = None,
             threads: int | None = None, overrides: dict | None = None, stress: str | list | None = None,
             chunk_size: int | None = None, client=None) -> dict:
    """Who holds the bag: settle every draw per provider and investor (``risk.exposure``).

    The same draws as :func:`simulate` with the same seed and chunk size (at the
    central calibration), on this machine or a Dask cluster (``client``).

    Returns
    -------
    dict
        ``{provider: statistics}`` and ``"total"`` (the keys of ``Result.providers``).

    Examples
    --------
    >>> import risk
    >>> risk.exposure(draws=200_000, seed=1)["total"]["revenue_at_risk_mean"]  # doctest: +SKIP
    """
    draws, seed, threads = check_draws(draws), check_seed(seed), check_threads(threads)
    chunk_size = check_chunk_size(chunk_size if chunk_size is not None else engine.DEFAULT_CHUNK_SIZE)
    compiled = compile_scenario(resolve_scenario(scenario, overrides=overrides, stress=stress))
    return exposure_stats.run(compiled, draws=draws, seed=seed, chunk_size=chunk_size,
                              executor=executor_for(threads, client))


def calibrate(scenario: str | Path | Scenario | None = None, *, observations: str | Path = "default",
              draws: int = 1_000_000, seed: int | None = None, threads: int | None = None,
              include_before_as_of: bool = False, judgement: bool = True, calibrations: int | None = None,
              client=None) -> Result:
    """Weigh the draws by what was reported after the scenario's ``as_of`` (PSIS): ``Result.posterior``.

    :func:`simulate` with ``observations``; see there for the options.

    Examples
    --------
    >>> import risk
    >>> risk.calibrate("article-2025", draws=200_000, seed=1).posterior.shift  # doctest: +SKIP
    """
    return simulate(scenario, draws=draws, seed=seed, threads=threads, observations=observations,
                    include_before_as_of=include_before_as_of, judgement=judgement, calibrations=calibrations,
                    client=client)


def _observations_after_as_of(path, loaded, include_before: bool) -> tuple[list, list]:
    """The observations that may weigh the draws, and the excluded ones with the reason.

    Observations dated on or before the scenario's ``as_of`` were known when
    its priors were set (the default's run-rate priors come from them): fed
    back as evidence they would count twice.  ``include_before`` keeps them.
    """
    observed = load_observations(path, loaded)
    if include_before:
        return observed, []
    kept, known = split_at_as_of(observed, loaded)
    excluded = [dict(o.to_dict(), reason=f"dated on or before the scenario's as_of ({loaded.as_of}): known "
                                         f"when its priors were set, so it would count twice") for o in known]
    if not kept:
        raise InputError(f"every observation is dated on or before the scenario's as_of ({loaded.as_of}): its priors "
                         f"already rest on them, and weighting by them again counts them twice",
                         source=str(path), key="date",
                         allowed="observations dated after as_of (e.g. calibrate the late-2025 vintage "
                                 "article-2025 with 2026's numbers), or include_before_as_of=True "
                                 "(--include-before-as-of) to force them")
    return kept, excluded


def _check_two_level(sampler, targets, calibrations) -> None:
    if sampler != "mc":
        raise InputError(f"the judgement band runs plain Monte Carlo draws, not {sampler}", source="sampler",
                         allowed="sampler mc, or judgement=False (--no-judgement) for the central calibration")
    if targets:
        raise InputError("a target error does not apply to the judgement band: its width does not shrink "
                         "with draws", source="target_mcse",
                         allowed="more draws or calibrations, or judgement=False (--no-judgement)")


def _run_two_level(loaded, compiled, *, draws, seed, chunk_size, calibrations, executor, progress):
    """``calibrations`` calibrations x ``ceil(draws / calibrations)`` draws (``risk.judgement``)."""
    judged, calibrated, values, views = judging.prepare(loaded, compiled, calibrations, seed)
    inner = -(-draws // calibrations)
    # inner draws per chunk: a chunk runs every calibration on them, so about chunk_size model runs
    inner_chunk = max(k.LANES, chunk_size // calibrations)
    accumulators = engine.run(judged, draws=inner, seed=seed, chunk_size=inner_chunk, calibrations=calibrated,
                              executor=executor, progress=progress)
    return accumulators, {"values": values, "views": views, "inner_chunk": inner_chunk, "inner": inner,
                          "compiled": judged, "calibrations": calibrated}


def _judgement_summary(loaded, accumulators, found, entities) -> dict:
    """``Result.judgement``: the plan, the entries and views, the calibrations' values and P_j, the drivers."""
    m = accumulators.cal_counts.shape[0]
    names = [view.name for view in loaded.judgement.views]
    summary = {"calibrations": m, "draws_per_calibration": accumulators.draws,
               "chunk_size": found["inner_chunk"], **loaded.judgement.to_dict(),
               "values": dict(found["values"]),
               "view_of_calibration": ([names[int(v)] for v in found["views"]] if found["views"] is not None
                                       else None),
               "entities": {}}
    for e, name in enumerate(loaded.entities):
        shortfall = judging.probability(accumulators.cal_counts[:, e, k.J_SHORTFALL],
                                        int(accumulators.y_sums[e, k.J_SHORTFALL]), accumulators.draws)
        default = judging.probability(accumulators.cal_counts[:, e, k.J_DEFAULT],
                                      int(accumulators.y_sums[e, k.J_DEFAULT]), accumulators.draws)
        stats = entities[name]
        stats.p_shortfall = {key: shortfall[key] for key in ("p", "mcse", "ci95")}
        stats.p_default = {key: default[key] for key in ("p", "mcse", "ci95")}
        stats.p_shortfall_judgement = shortfall["band"]
        stats.p_default_judgement = default["band"]
        stats.judgement_share = shortfall["share"]
        stats.grade = grade(shortfall["p"], stats.gap_share)
        stats.grade_range = judging.grade_range(shortfall["band"], stats.gap_share)
        summary["entities"][name] = {
            "p_shortfall": shortfall["per_calibration"], "p_default": default["per_calibration"],
            "p_shortfall_mcse_between": shortfall["mcse_between"],
            "p_shortfall_mcse_within": shortfall["mcse_within"],
            "drivers": judging.drivers(shortfall["per_calibration"], found["values"], found["views"], names)}
    return summary


def _run_once(compiled, *, draws, seed, executor, chunk_size, sampler, replicates, progress, resume=None):
    if sampler == "rqmc":
        return engine.run_rqmc(compiled, draws=draws, seed=seed, replicates=replicates, progress=progress,
                               resume=resume, executor=executor)
    return engine.run(compiled, draws=draws, seed=seed, chunk_size=chunk_size, sampler=sampler, progress=progress,
                      resume=resume, executor=executor)


def _worst_ratio(loaded, accumulators, sampler, targets) -> tuple[float, str]:
    """max over reported probabilities of (error / allowed error)**2, and which one it is."""
    from .result import batch_errors

    worst, which = 0.0, ""
    n = accumulators.draws
    for e, name in enumerate(loaded.entities):
        errors = batch_errors(accumulators.batches[:, e]) if sampler != "mc" else None
        for metric, column in (("p_shortfall", k.C_SHORTFALL), ("p_distress", k.C_DISTRESS),
                               ("p_default", k.C_DEFAULT)):
            successes = int(accumulators.counts[e, column])
            p = successes / n
            if errors is not None:
                se = errors[metric]
            else:
                # never trust an error of 0 at p = 0 or 1: use the Wilson interval's half-width instead
                low, high = wilson_interval(successes, n)
                se = max(math.sqrt(p * (1 - p) / n), (high - low) / (2 * 1.959963984540054))
            for target, allowed in (("target_mcse", targets.get("target_mcse")),
                                    ("target_rel_err", (targets.get("target_rel_err") or 0) * p)):
                if target not in targets:
                    continue
                ratio = (se / allowed) ** 2 if allowed > 0 else math.inf
                if ratio > worst:
                    worst, which = ratio, f"{name}.{metric} (se {se:.3g}, {target})"
    return worst, which


def _run_to_target(compiled, loaded, *, draws, seed, executor, chunk_size, sampler, replicates, targets,
                   max_draws, progress):
    cap = max_draws or 1000 * draws
    if sampler == "rqmc":
        points = engine.rqmc_points(draws, replicates)
        accumulators = _run_once(compiled, draws=points * replicates, seed=seed, executor=executor,
                                 chunk_size=chunk_size, sampler=sampler, replicates=replicates, progress=progress)
    else:
        # rounds end on whole blocks of chunks to resume exactly; the last may be cut at the cap
        block = engine.BATCH_CHUNKS * chunk_size
        first = min(cap, -(-draws // block) * block)
        accumulators = _run_once(compiled, draws=first, seed=seed, executor=executor, chunk_size=chunk_size,
                                 sampler=sampler, replicates=replicates, progress=progress)
    rounds = 1
    while True:
        ratio, which = _worst_ratio(loaded, accumulators, sampler, targets)
        n = accumulators.draws
        if ratio <= 1.0 or n >= cap:
            break
        wanted = min(max(1.25, min(8.0, 1.1 * ratio)) * n, cap)
        if sampler == "rqmc":
            points = engine.rqmc_points(draws, replicates)
            more = max(accumulators.batches.shape[0] + 1, math.ceil(wanted / points))
            if more * points > cap:
                break
            accumulators = _run_once(compiled, draws=more * points, seed=seed, executor=executor,
                                     chunk_size=chunk_size, sampler=sampler, replicates=more,
                                     progress=progress, resume=accumulators)
        else:
            total = min(cap, math.ceil(wanted / block) * block)
            accumulators = _run_once(compiled, draws=total, seed=seed, executor=executor, chunk_size=chunk_size,
                                     sampler=sampler, replicates=replicates, progress=progress,
                                     resume=accumulators)
        rounds += 1
    met = ratio <= 1.0
    return accumulators, {**targets, "met": met, "rounds": rounds, "draws": accumulators.draws,
                          "max_draws": cap, "max_draws_hit": not met,
                          "limiting": which if not met else "",
                          "worst_error_ratio": math.sqrt(ratio) if math.isfinite(ratio) else None}


def make_result(loaded: Scenario, accumulators, *, seed: int, threads: int, chunk_size: int,
                wall_seconds: float, sampler: str = "mc", stopping: dict | None = None,
                executor: dict | None = None, judgement: dict | None = None) -> Result:
    """Turn merged accumulators into a :class:`Result` (``judgement``: a two-level run's draws)."""
    judged = accumulators.cal_counts is not None
    entities = {
        name: entity_stats(name, accumulators.counts[e], accumulators.hists[e],
                           accumulators.sums[e], accumulators.runs, loaded.years,
                           batches=accumulators.batches[:, e] if sampler != "mc" else None,
                           independent=accumulators.draws if judged else None)
        for e, name in enumerate(loaded.entities)
    }
    summary = _judgement_summary(loaded, accumulators, judgement, entities) if judged else None
    stamp = _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")
    return Result(scenario=loaded, entities=entities, draws=accumulators.runs, seed=seed, threads=threads,
                  chunk_size=chunk_size, wall_seconds=wall_seconds, timestamp=stamp, sampler=sampler,
                  stopping=stopping, executor=executor, judgement=summary)


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
