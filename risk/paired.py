"""Paired comparison of two scenarios on common random numbers (``risk compare``).

Both scenarios run on the same seed, so draw ``d`` of A and draw ``d`` of B
use the same random numbers for every input they share by name (see
``kernels.rng``): the difference of two estimates then carries much less
Monte Carlo noise than the estimates themselves.

The error of a difference comes from **batch means**: the draws are cut into
``GROUPS`` consecutive batches (whole chunks); each headline statistic is
computed per batch for A and for B, and the spread of the per-batch
differences gives the paired standard error, while the spread of A's and B's
own per-batch values gives the error an *unpaired* comparison (independent
seeds) would have had.  Their variance ratio is the variance-reduction factor
of pairing.  The same estimator serves proportions, means and the median of
coverage; with 32 batches the standard error has 31 degrees of freedom and
the 95 % interval uses Student's t.  A difference is called distinguishable
from Monte Carlo noise when its 95 % interval excludes zero.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from . import engine
from .result import Result, make_result
from .checks import check_draws, check_seed, check_threads, executor_for, resolve_scenario
from .errors import InputError
from .kernels import simulate as k
from .result import batch_se, hist_quantile
from .scenario.compile import compile_scenario

GROUPS = 32
MIN_DRAWS_PER_GROUP = 100
METRICS = ("p_shortfall", "p_distress", "funding_gap_mean", "coverage_median")


@dataclass
class Difference:
    """B minus A for one statistic of one entity, with its paired Monte Carlo error."""

    entity: str
    metric: str
    a: float
    b: float
    difference: float
    se: float
    ci95: tuple
    se_unpaired: float
    variance_reduction: float
    distinguishable: bool

    def to_dict(self) -> dict:
        """JSON-ready; an infinite variance reduction (a difference exact in every batch) is null."""
        reduction = self.variance_reduction if math.isfinite(self.variance_reduction) else None
        return {"a": self.a, "b": self.b, "difference": self.difference, "se": self.se,
                "ci95": list(self.ci95), "se_unpaired": self.se_unpaired,
                "variance_reduction": reduction, "distinguishable": self.distinguishable}


@dataclass
class Comparison:
    """A paired comparison: both results and the differences of their headline statistics."""

    a: Result
    b: Result
    differences: list = field(default_factory=list)
    groups: int = GROUPS

    def __getitem__(self, key) -> Difference:
        entity, metric = key
        for difference in self.differences:
            if difference.entity == entity and difference.metric == metric:
                return difference
        raise KeyError(key)

    def summary(self):
        """Return a pandas DataFrame indexed by (entity, metric)."""
        import pandas as pd

        rows = [{"entity": d.entity, "metric": d.metric, "a": d.a, "b": d.b, "difference": d.difference,
                 "se": d.se, "ci95_low": d.ci95[0], "ci95_high": d.ci95[1], "se_unpaired": d.se_unpaired,
                 "variance_reduction": d.variance_reduction, "distinguishable": d.distinguishable}
                for d in self.differences]
        return pd.DataFrame(rows).set_index(["entity", "metric"])

    def to_dict(self) -> dict:
        """JSON-serialisable comparison (``schema: risk.comparison/1``)."""
        entities: dict = {}
        for d in self.differences:
            entities.setdefault(d.entity, {})[d.metric] = d.to_dict()
        return {"schema": "risk.comparison/1", "a": _label(self.a), "b": _label(self.b),
                "draws": self.a.draws, "seed": self.a.seed, "batches": self.groups,
                "differences": entities, "a_result": self.a.to_dict(), "b_result": self.b.to_dict()}

    def __repr__(self) -> str:
        lines = [f"<risk.Comparison {_label(self.a)} -> {_label(self.b)}: {self.a.draws:,} paired draws>"]
        for d in self.differences:
            if d.metric == "p_shortfall":
                verdict = "distinguishable" if d.distinguishable else "within Monte Carlo noise"
                lines.append(f"  {d.entity:<12} P(shortfall) {d.a:.4f} -> {d.b:.4f}: "
                             f"{d.difference:+.4f} ± {d.se:.4f} ({verdict}; pairing x{d.variance_reduction:.1f})")
        return "\n".join(lines)


def _label(result: Result) -> str:
    changes = result.scenario.changes
    return result.scenario.name + ("" if not changes else " + " + ", ".join(changes))


def compare(a: str | Path | None = None, b: str | Path | None = None, *, draws: int = 1_000_000,
            seed: int | None = None, threads: int | None = None,
            overrides_a: dict | None = None, overrides_b: dict | None = None,
            stress_a=None, stress_b=None, progress=None, client=None) -> Comparison:
    """Compare scenario B with scenario A on common random numbers.

    Parameters
    ----------
    a, b : str or pathlib.Path, optional
        Scenario files or embedded names (default: the embedded default for both,
        which is useful with overrides or overlays on one side).
    draws : int, default 1_000_000
        Paired draws (each scenario runs this many), at least 3,200.
    seed : int, optional
        Shared seed; None draws one (recorded).
    threads : int, optional
        Threads to use (at most one per core); results do not depend on it.
    overrides_a, overrides_b : dict, optional
        What-if overrides for each side (as in :func:`risk.simulate`).
    stress_a, stress_b : str or list of str, optional
        Stress overlays for each side.
    progress : callable, optional
        Called as ``progress(done, total)`` with ``total = 2 * draws``.
    client : distributed.Client, optional
        Run on this Dask cluster (``risk.cluster``): the same numbers as here.

    Returns
    -------
    Comparison
        Both results and, per shared entity, the B - A difference of
        ``p_shortfall``, ``p_distress``, ``funding_gap_mean`` and
        ``coverage_median`` with its paired standard error, 95 % interval,
        the unpaired error and the variance-reduction factor.

    Examples
    --------
    >>> import risk
    >>> cmp = risk.compare("default", "default", stress_b="capex-overrun", draws=200_000, seed=1)  # doctest: +SKIP
    >>> cmp.summary()  # doctest: +SKIP
    """
    draws = _check_paired_draws(draws)
    seed = check_seed(seed)
    threads = check_threads(threads)
    scenario_a = resolve_scenario(a, overrides=overrides_a, stress=stress_a)
    scenario_b = resolve_scenario(b, overrides=overrides_b, stress=stress_b)
    return _compare(scenario_a, [scenario_b], draws=draws, seed=seed, executor=executor_for(threads, client),
                    progress=progress)[0]


def compare_stresses(scenario: str | Path | None = None, stresses=(), *, draws: int = 1_000_000,
                     seed: int | None = None, threads: int | None = None) -> dict:
    """Compare each stress overlay with the plain scenario: ``{overlay: Comparison}``.

    The same numbers as ``compare(scenario, scenario, stress_b=overlay)`` for
    each overlay, but the plain scenario runs once for all of them.
    """
    draws = _check_paired_draws(draws)
    seed = check_seed(seed)
    threads = check_threads(threads)
    base = resolve_scenario(scenario)
    stressed = [resolve_scenario(scenario, stress=overlay) for overlay in stresses]
    found = _compare(base, stressed, draws=draws, seed=seed, executor=executor_for(threads)) if stressed else []
    return dict(zip(stresses, found))


def _check_paired_draws(draws) -> int:
    draws = check_draws(draws)
    if draws < GROUPS * MIN_DRAWS_PER_GROUP:
        raise InputError(f"{draws:,} draws are too few for a paired comparison", source="draws",
                         allowed=f"at least {GROUPS * MIN_DRAWS_PER_GROUP:,} ({GROUPS} batches of "
                                 f"{MIN_DRAWS_PER_GROUP})")
    return draws


def _compare(scenario_a, scenarios_b: list, *, draws: int, seed: int, executor, progress=None) -> list:
    """B - A for every B of ``scenarios_b``, with A simulated once: one Comparison per B."""
    sides = [scenario_a] + list(scenarios_b)
    compiled = [compile_scenario(scenario) for scenario in sides]
    # batches must be whole chunks; about four chunks per batch keeps both threads busy
    chunk_size = min(engine.DEFAULT_CHUNK_SIZE, max(64, -(-draws // (GROUPS * 4))))
    n_chunks = -(-draws // chunk_size)
    bounds = np.linspace(0, n_chunks, GROUPS + 1).round().astype(int)
    totals = [None] * len(sides)
    per_group = [[] for _ in sides]  # per side: list of {entity: {metric: value}}
    sizes = []
    start = time.perf_counter()
    done = 0
    for g in range(GROUPS):
        chunks = range(int(bounds[g]), int(bounds[g + 1]))
        for side, scenario in enumerate(sides):
            part = engine.run(compiled[side], draws=draws, seed=seed, chunk_size=chunk_size, chunks=chunks,
                              executor=executor)
            per_group[side].append(_group_metrics(part, scenario.entities))
            totals[side] = part if totals[side] is None else engine.merge([totals[side], part])
            done += part.draws
            if progress is not None:
                progress(done, len(sides) * draws)
        sizes.append(part.draws)
    wall = (time.perf_counter() - start) / len(sides)
    results = [make_result(scenario, total, seed=seed, threads=executor.threads, chunk_size=chunk_size,
                           wall_seconds=wall, executor=executor.describe())
               for scenario, total in zip(sides, totals)]
    weights = np.array(sizes, dtype=float) / sum(sizes)
    comparisons = []
    for b in range(1, len(sides)):
        shared = [e for e in scenario_a.entities if e in sides[b].entities]
        differences = []
        for entity in shared:
            for metric in METRICS:
                values_a = np.array([group[entity][metric] for group in per_group[0]])
                values_b = np.array([group[entity][metric] for group in per_group[b]])
                point_a = _headline(results[0][entity], metric)
                point_b = _headline(results[b][entity], metric)
                differences.append(_difference(entity, metric, point_a, point_b, values_a, values_b, weights))
        comparisons.append(Comparison(a=results[0], b=results[b], differences=differences, groups=GROUPS))
    return comparisons


def _group_metrics(part, entities) -> dict:
    n = part.draws
    return {
        name: {
            "p_shortfall": part.counts[e, k.C_SHORTFALL] / n,
            "p_distress": part.counts[e, k.C_DISTRESS] / n,
            "funding_gap_mean": part.sums[e, k.F_GAP] / n,
            "coverage_median": hist_quantile(part.hists[e, k.H_COVERAGE], 0.5),
        }
        for e, name in enumerate(entities)
    }


def _headline(stats, metric) -> float:
    if metric == "p_shortfall":
        return stats.p_shortfall["p"]
    if metric == "p_distress":
        return stats.p_distress["p"]
    if metric == "funding_gap_mean":
        return stats.funding_gap_mean
    return stats.coverage_quantiles["50"]


def _difference(entity, metric, point_a, point_b, values_a, values_b, weights) -> Difference:
    from scipy import stats

    se = batch_se(values_b - values_a, weights)
    se_unpaired = math.hypot(batch_se(values_a, weights), batch_se(values_b, weights))
    diff = point_b - point_a
    t = float(stats.t.ppf(0.975, len(weights) - 1))
    ci = (diff - t * se, diff + t * se)
    if se > 0:
        reduction = (se_unpaired / se) ** 2
    else:
        reduction = math.inf if se_unpaired > 0 else 1.0
    distinguishable = bool(ci[0] > 0 or ci[1] < 0)
    return Difference(entity, metric, point_a, point_b, diff, se, ci, se_unpaired, reduction, distinguishable)
