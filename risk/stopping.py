"""Running to a target error: rounds of draws until every reported probability is precise enough.

Rounds extend the same draws (whole blocks of chunks, or more RQMC
replicates), so a run that stops after ``n`` draws equals a single run of
``n`` draws with the same seed.  Each round asks for about ``1.1 x`` the
worst ``(error / allowed)**2`` times the draws so far (between ``1.25x``
and ``8x``), capped by ``max_draws``.
"""

from __future__ import annotations

import math

from . import engine
from .kernels import simulate as k
from .result import Z95, batch_errors, wilson_interval


def run_once(compiled, *, draws, seed, executor, chunk_size, sampler, replicates, progress, resume=None):
    if sampler == "rqmc":
        return engine.run_rqmc(compiled, draws=draws, seed=seed, replicates=replicates, progress=progress,
                               resume=resume, executor=executor)
    return engine.run(compiled, draws=draws, seed=seed, chunk_size=chunk_size, sampler=sampler, progress=progress,
                      resume=resume, executor=executor)


def worst_ratio(loaded, accumulators, sampler, targets) -> tuple[float, str]:
    """max over reported probabilities of (error / allowed error)**2, and which one it is."""
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
                se = max(math.sqrt(p * (1 - p) / n), (high - low) / (2 * Z95))
            for target, allowed in (("target_mcse", targets.get("target_mcse")),
                                    ("target_rel_err", (targets.get("target_rel_err") or 0) * p)):
                if target not in targets:
                    continue
                ratio = (se / allowed) ** 2 if allowed > 0 else math.inf
                if ratio > worst:
                    worst, which = ratio, f"{name}.{metric} (se {se:.3g}, {target})"
    return worst, which


def run_to_target(compiled, loaded, *, draws, seed, executor, chunk_size, sampler, replicates, targets,
                   max_draws, progress):
    cap = max_draws or 1000 * draws
    if sampler == "rqmc":
        points = engine.rqmc_points(draws, replicates)
        accumulators = run_once(compiled, draws=points * replicates, seed=seed, executor=executor,
                                 chunk_size=chunk_size, sampler=sampler, replicates=replicates, progress=progress)
    else:
        # rounds end on whole blocks of chunks to resume exactly; the last may be cut at the cap
        block = engine.BATCH_CHUNKS * chunk_size
        first = min(cap, -(-draws // block) * block)
        accumulators = run_once(compiled, draws=first, seed=seed, executor=executor, chunk_size=chunk_size,
                                 sampler=sampler, replicates=replicates, progress=progress)
    rounds = 1
    while True:
        ratio, which = worst_ratio(loaded, accumulators, sampler, targets)
        n = accumulators.draws
        if ratio <= 1.0 or n >= cap:
            break
        wanted = min(max(1.25, min(8.0, 1.1 * ratio)) * n, cap)
        if sampler == "rqmc":
            points = engine.rqmc_points(draws, replicates)
            more = max(accumulators.batches.shape[0] + 1, math.ceil(wanted / points))
            if more * points > cap:
                break
            accumulators = run_once(compiled, draws=more * points, seed=seed, executor=executor,
                                     chunk_size=chunk_size, sampler=sampler, replicates=more,
                                     progress=progress, resume=accumulators)
        else:
            total = min(cap, math.ceil(wanted / block) * block)
            accumulators = run_once(compiled, draws=total, seed=seed, executor=executor, chunk_size=chunk_size,
                                     sampler=sampler, replicates=replicates, progress=progress,
                                     resume=accumulators)
        rounds += 1
    met = ratio <= 1.0
    return accumulators, {**targets, "met": met, "rounds": rounds, "draws": accumulators.draws,
                          "max_draws": cap, "max_draws_hit": not met,
                          "limiting": which if not met else "",
                          "worst_error_ratio": math.sqrt(ratio) if math.isfinite(ratio) else None}
