"""Posterior by importance weighting with Pareto-smoothed weights (PSIS), in two streaming passes.

Each draw of the prior gets the log-likelihood of the observations given its
own path (``kernels.observe``).  The weights are Pareto-smoothed with ArviZ's
``psislw``, and every headline statistic is recomputed with them.

**Bounded memory at any number of draws.**  PSIS changes only the ``M``
largest log-weights, ``M = ceil(min(N / 5, 3 sqrt(N)))``, using them and the
``(M + 1)``-th largest as the threshold.  Pass 1 streams the draws and keeps
only the ``M + 1`` largest log-weights and their draw numbers (memory
``O(sqrt(N))``: 9,500 values at 1e7 draws).  ArviZ's ``psislw`` then runs on
a short vector made of those values and of filler values far below the
threshold, with ``reff`` chosen so that it cuts the same ``M``: its smoothed
tail and its k-hat are exactly those of the full vector (tested against the
in-memory PSIS).  Pass 2 re-simulates the same draws and accumulates
weighted statistics: raw weights for the body, smoothed ones for the tail.

Errors of self-normalised estimates use the delta method:
``var(sum w I / sum w) = sum w**2 (I - p)**2 / (sum w)**2``.  The effective
sample size is ``(sum w)**2 / sum w**2``.  With ``k-hat > 0.7`` the posterior
is flagged unreliable, with the number of draws PSIS would need,
``10**(1 / (1 - k))`` (Vehtari et al., 2024); with ``k-hat >= 1`` no number
of draws helps.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field

import numpy as np

from . import engine
from .kernels import observe as ko
from .result import Z95, hist_quantile

K_HAT_LIMIT = 0.7
MIN_ESS = 100


def _arviz_major() -> int:
    import arviz as az

    return int(az.__version__.split(".")[0])


def tail_size(draws: int) -> int:
    """``M``: how many of the largest log-weights ArviZ's PSIS smooths (reff = 1).

    ArviZ 0.x: ``ceil(min(N / 5, 3 sqrt(N)))``; ArviZ 1.x (arviz-stats):
    ``floor(3 sqrt(N))`` above 225 draws, else ``floor(N / 5)``.
    """
    if _arviz_major() >= 1:
        return int(math.floor(3 * math.sqrt(draws))) if draws > 225 else draws // 5
    return int(math.ceil(min(draws / 5.0, 3 * math.sqrt(draws))))


def psis(log_weights: np.ndarray, reff: float = 1.0) -> tuple[np.ndarray, float]:
    """ArviZ's Pareto smoothing of ``log_weights``, on their original scale (not normalised), and k-hat.

    ArviZ 0.x: ``arviz.psislw(..., normalize=False)``; 1.x:
    ``arviz_stats``' ``psislw`` (which takes the negated values and
    normalises; the shift is undone from an untouched body value).
    """
    vector = np.asarray(log_weights, dtype=float)
    with warnings.catch_warnings():
        # ArviZ's GPD fit lets exp overflow to inf on purpose (1 / inf = 0 in its profile weights)
        warnings.filterwarnings("ignore", message="overflow encountered in exp", category=RuntimeWarning)
        if _arviz_major() < 1:
            import arviz as az

            smoothed, khat = az.psislw(vector.copy(), reff=reff, normalize=False)
            return np.asarray(smoothed), float(np.asarray(khat))
        from arviz_stats.base import array_stats

        smoothed, khat = array_stats.psislw(-vector, r_eff=reff)
    smoothed = np.asarray(smoothed)
    body = int(np.argmin(vector))  # the smallest value is never in the smoothed tail
    return smoothed + (vector[body] - smoothed[body]), float(np.asarray(khat))


def smooth_tail(top_log_weights: np.ndarray, draws: int) -> tuple[np.ndarray, float]:
    """ArviZ's PSIS on the ``M + 1`` largest log-weights of ``draws``: smoothed tail (ascending) and k-hat.

    ``top_log_weights`` holds the ``M + 1`` largest values in any order; the
    result is the smoothed values of the ``M`` largest, in increasing order
    of the raw values, exactly as ArviZ's PSIS on all ``draws`` values gives them:
    the vector passed to ArviZ is those values plus fillers far below them, with
    ``reff`` chosen so that ArviZ cuts the same ``M``.
    """
    m = tail_size(draws)
    top = np.sort(np.asarray(top_log_weights, dtype=float))
    if len(top) != m + 1:
        raise ValueError(f"need the {m + 1} largest log-weights, got {len(top)}")
    length = 5 * (m + 1)
    if _arviz_major() >= 1:
        reff = 9.0 * length / (m + 0.5) ** 2  # floor(3 sqrt(length / reff)) = m
    else:
        reff = 9.0 * length / (m - 0.5) ** 2  # ceil(3 sqrt(length / reff)) = m
    vector = np.concatenate([np.full(length - len(top), top[0] - 50.0), top])
    smoothed, khat = psis(vector, reff)
    return smoothed[-m:], khat


@dataclass
class Posterior:
    """Prior versus posterior: headline statistics, every prior, and PSIS diagnostics."""

    observations: list
    draws: int
    ess: float
    khat: float
    tail: int
    reliable: bool
    warning: str
    entities: dict = field(default_factory=dict)
    priors: dict = field(default_factory=dict)
    shift: dict = field(default_factory=dict)
    excluded: list = field(default_factory=list)  # observations left out (dated on or before as_of), with why

    def to_dict(self) -> dict:
        from .result import json_ready

        return json_ready({"ess": self.ess, "khat": self.khat, "tail": self.tail, "reliable": self.reliable,
                           "warning": self.warning, "draws": self.draws, "entities": self.entities,
                           "priors": self.priors, "shift": self.shift, "excluded": self.excluded,
                           "observations": [o.to_dict() for o in self.observations]})


def run(compiled, observations: np.ndarray, *, draws: int, seed: int, threads: int | None = None,
        chunk_size: int = engine.DEFAULT_CHUNK_SIZE, executor=None, calibrations=None) -> dict:
    """Both passes (``engine.LogWeightPass``, ``engine.WeightedPass``): the weighted accumulators and PSIS.

    With ``calibrations`` (``M`` of them, a two-level run) every draw runs under each: the weighted
    sample is the ``draws * M`` runs of the mixture, so the observations also weigh the calibrations.
    """
    executor = engine.local_executor(executor, threads)
    runs = draws * (1 if calibrations is None else calibrations.specs.shape[0])
    m = tail_size(runs)
    found, _ = engine.run_pass(engine.LogWeightPass(compiled, seed, draws, observations, m + 1, chunk_size,
                                                    calibrations), executor=executor)
    if found["finite"] == 0:
        raise ValueError("every draw has zero likelihood")
    top_lw, top_idx = found["lw"], found["draw"]
    smoothed, khat = smooth_tail(top_lw, runs)
    order = np.argsort(top_lw, kind="stable")[-m:]  # the m largest, increasing: the order of `smoothed`
    tail_draws, tail_lw = top_idx[order], smoothed
    sort = np.argsort(tail_draws)
    tail_draws, tail_lw = np.ascontiguousarray(tail_draws[sort]), np.ascontiguousarray(tail_lw[sort])
    lw_max = float(max(top_lw.max(), tail_lw.max()))
    exact, (total_sums, total_prior) = engine.run_pass(
        engine.WeightedPass(compiled, seed, draws, observations, lw_max, tail_draws, tail_lw, chunk_size,
                            calibrations), executor=executor)
    return {"sums": total_sums, "prior_sums": total_prior, "hists": exact["hists"],
            "prior_hists": exact["prior_hists"], "khat": khat, "tail": m, "lw_max": lw_max,
            "tail_draws": tail_draws, "tail_lw": tail_lw}


def weighted_probability(s, hit, hit_sq) -> dict:
    """Self-normalised probability with its delta-method error and a normal 95 % interval."""
    total, squares = s[ko.W_SUM], s[ko.W_SQ]
    p = s[hit] / total
    se = math.sqrt(max(s[hit_sq] * (1 - 2 * p) + p * p * squares, 0.0)) / total
    return {"p": p, "mcse": se, "ci95": [max(0.0, p - Z95 * se), min(1.0, p + Z95 * se)]}


def summarise(found: dict, scenario, prior_result, observations, draws: int) -> Posterior:
    """Turn the weighted accumulators into a :class:`Posterior` beside the prior result."""
    from . import grade as grading
    from .scenario.compile import prior_variates

    sums = found["sums"]
    ess = float(sums[0, ko.W_SUM] ** 2 / sums[0, ko.W_SQ])
    khat = found["khat"]
    reliable = bool(khat <= K_HAT_LIMIT and ess >= MIN_ESS)
    warning = ""
    if not khat <= K_HAT_LIMIT:  # also when the tail fit failed (nan): never silently trusted
        needed = ("no number of draws" if not khat < 1 else f"about {10 ** (1 / (1 - khat)):,.0f} draws")
        warning = (f"Pareto k-hat {khat:.2f} > {K_HAT_LIMIT}: the posterior rests on a few draws and is not "
                   f"reliable; PSIS would need {needed}, or the observations conflict with the priors.")
    elif ess < MIN_ESS:
        warning = f"effective sample size {ess:.0f} < {MIN_ESS}: use more draws."
    entities, shift = {}, {}
    n = draws
    for e, name in enumerate(scenario.entities):
        s = sums[e]
        shortfall = weighted_probability(s, ko.W_SHORT, ko.W_SHORT_SQ)
        distress = weighted_probability(s, ko.W_DISTRESS, ko.W_DISTRESS_SQ)
        total = s[ko.W_SUM]
        gap = s[ko.W_GAP] / total
        gap_se = math.sqrt(max(s[ko.W_GAP2_W2] - 2 * gap * s[ko.W_GAP_W2] + gap * gap * s[ko.W_SQ], 0.0)) / total
        pv_cost = s[ko.W_PV_COST] / total
        share = gap / pv_cost if pv_cost > 0 else 0.0
        coverage_hist = found["hists"][e, 0]
        grade, grade_range = grading.grade_with_range(shortfall, share)
        entities[name] = {"p_shortfall": shortfall, "p_distress": distress, "funding_gap_mean": gap,
                          "funding_gap_mean_mcse": gap_se, "funding_gap_share": share,
                          "coverage_quantiles": {str(round(q * 100)): hist_quantile(coverage_hist, q)
                                                 for q in (0.05, 0.25, 0.5, 0.75, 0.95)},
                          "grade": grade, "grade_range": grade_range}
        prior_p = prior_result[name].p_shortfall["p"]
        pp = shortfall["p"]
        # delta method for the difference of the two ratio estimates on the same draws
        s_hit = s[ko.W_SHORT]
        variance = ((s[ko.W_SHORT_SQ] * (1 - 2 * pp) + pp * pp * s[ko.W_SQ]) / total ** 2
                    - 2 * (s_hit * (1 - pp - prior_p) + pp * prior_p * total) / (total * n)
                    + prior_p * (1 - prior_p) / n)
        shift[name] = {"p_shortfall_prior": prior_p, "p_shortfall_posterior": pp, "difference": pp - prior_p,
                       "se": math.sqrt(max(variance, 0.0)), "grade_prior": prior_result[name].grade,
                       "grade_posterior": grade}
    priors = {}
    total = sums[0, ko.W_SUM]
    for path, (prior, columns) in prior_variates(scenario).items():
        column = columns[0]  # a per-year prior: its first year
        p05, p95 = prior.ppf([0.05, 0.95])
        weighted = found["prior_hists"][column]
        priors[path] = {"prior_mean": prior.mean(), "prior_p5": float(p05), "prior_p95": float(p95),
                        "posterior_mean": found["prior_sums"][column] / total,
                        "posterior_p5": hist_quantile(weighted, 0.05) if not prior.is_fixed() else float(p05),
                        "posterior_p95": hist_quantile(weighted, 0.95) if not prior.is_fixed() else float(p95)}
    return Posterior(observations=observations, draws=draws, ess=float(ess), khat=khat, tail=found["tail"],
                     reliable=reliable, warning=warning, entities=entities, priors=priors, shift=shift)
