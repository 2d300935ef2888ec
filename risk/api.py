"""The library entry points that run a scenario: ``simulate``, ``exposure`` and ``calibrate``.

Each checks its arguments (``risk.checks``), resolves and compiles the
scenario, and hands the passes to the engine; what they return is a
:class:`risk.result.Result`.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Callable

import numpy as np

from . import engine, judgement as judging, posterior, stopping
from . import exposure as exposure_stats
from .checks import (check_chunk_size, check_combination, check_count, check_draws, check_sampler, check_seed,
                     check_targets, check_threads, executor_for, resolve_scenario)
from .errors import InputError
from .result import Result, make_result
from .scenario import Scenario
from .scenario.compile import compile_scenario
from .scenario.observations import load_observations, observation_array, split_at_as_of

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
    check_sampler(sampler)
    check_count(replicates, source="replicates", minimum=4)
    targets = check_targets(target_mcse, target_rel_err)
    keep = check_count(keep, source="keep", minimum=1)
    calibrations = check_count(calibrations, source="calibrations", minimum=8,
                               why="the judgement band's 5 % and 95 % points need them")
    max_draws = check_draws(max_draws, source="max_draws") if max_draws is not None else None
    if max_draws is not None and max_draws < draws:
        raise InputError(f"max_draws {max_draws} is below draws {draws}", source="max_draws",
                         allowed=f"at least the first round's {draws} draws, or no max_draws")
    check_combination(sampler=sampler, targets=targets, keep=keep, by_provider=by_provider,
                      observations=observations)
    if chunk_size is None:
        # antithetic errors come from batches of chunks: keep at least 4 chunks per batch
        chunk_size = (engine.DEFAULT_CHUNK_SIZE if sampler != "antithetic"
                      else min(engine.DEFAULT_CHUNK_SIZE, max(256, draws // (4 * engine.ERROR_BATCHES))))
        if targets and sampler == "mc":
            # rounds extend whole blocks of BATCH_CHUNKS chunks: a block near the first round's draws, not
            # 16 x 65536 (which made --target-mcse with -n 1e4 start at 1,048,576 draws)
            chunk_size = min(chunk_size, max(1024, 1 << max(0, (draws // engine.BATCH_CHUNKS).bit_length() - 1)))
    chunk_size = engine.sampler_chunk_size(check_chunk_size(chunk_size), sampler)
    loaded = resolve_scenario(scenario, overrides=overrides, stress=stress)
    # the observations are read and checked now: a bad file must not cost a whole simulation first
    observed, excluded = (_observations_after_as_of(observations, loaded, include_before_as_of)
                          if observations is not None else (None, None))
    compiled = compile_scenario(loaded)
    executor = executor_for(threads, client)
    judged = judgement and loaded.judgement is not None
    start = time.perf_counter()
    found, stopped = None, None
    if judged:
        judging.check_options(sampler, targets, calibrations)
        accumulators, found = judging.run(loaded, compiled, draws=draws, seed=seed, chunk_size=chunk_size,
                                          calibrations=calibrations or judging.DEFAULT_CALIBRATIONS,
                                          executor=executor, progress=progress)
    elif targets:
        accumulators, stopped = stopping.run_to_target(compiled, loaded, draws=draws, seed=seed,
                                                       executor=executor, chunk_size=chunk_size, sampler=sampler,
                                                       replicates=replicates, targets=targets,
                                                       max_draws=max_draws, progress=progress)
    else:
        accumulators = stopping.run_once(compiled, draws=draws, seed=seed, executor=executor,
                                         chunk_size=chunk_size, sampler=sampler, replicates=replicates,
                                         progress=progress)
    result = make_result(loaded, accumulators, seed=seed, threads=threads, chunk_size=chunk_size,
                         wall_seconds=time.perf_counter() - start, sampler=sampler, stopping=stopped,
                         executor=executor.describe(), judgement=found)
    if by_provider:
        result.providers = exposure_stats.run(compiled, draws=draws, seed=seed, chunk_size=chunk_size,
                                              executor=executor)
    if observations is not None:
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
        # a two-level run's accumulators count inner draws (draws / calibrations); kept draws are of the central
        # calibration, a sample of as many draws as were asked for
        total = draws if judged else accumulators.draws
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
              overrides: dict | None = None, stress: str | list | None = None, client=None) -> Result:
    """Weigh the draws by what was reported after the scenario's ``as_of`` (PSIS): ``Result.posterior``.

    :func:`simulate` with ``observations``; see there for the options (``overrides``
    and ``stress`` change the scenario before it is weighed).

    Examples
    --------
    >>> import risk
    >>> risk.calibrate("article-2025", draws=200_000, seed=1).posterior.shift  # doctest: +SKIP
    """
    return simulate(scenario, draws=draws, seed=seed, threads=threads, observations=observations,
                    include_before_as_of=include_before_as_of, judgement=judgement, calibrations=calibrations,
                    overrides=overrides, stress=stress, client=client)


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
