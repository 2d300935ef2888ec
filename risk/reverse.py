"""Reverse stress: how far must one prior move for ``p_shortfall`` to reach a target (``risk breakeven``).

The prior is moved by one of its percentiles (the median by default) with
``overrides.move_quantile``: it keeps its family and its spread, as
``--set KEY.p50=VALUE`` does.  Every evaluation runs on the same seed, so the
draws are paired and ``p(v)``, the probability of shortfall when the
percentile is at ``v``, is a monotone step curve for a model monotone in that
prior: a bracketing root search (bisection after a geometric bracket
expansion) converges on it without Monte Carlo noise between steps.

The uncertainty of the root comes from the Monte Carlo error of the curve
itself: ``se(v*) = se(p) / |dp/dv|`` (delta method), with the binomial
``se(p)`` at the target and the slope measured on common random numbers over
a tenth of the prior's 10-90 % range around the root.
"""

from __future__ import annotations

import dataclasses
import difflib
import math
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from . import engine
from .checks import check_draws, check_seed, check_threads, resolve_scenario
from .errors import InputError
from .kernels.simulate import C_SHORTFALL
from .result import Z95, json_ready
from .scenario.compile import compile_calibrations, compile_scenario
from .scenario.overrides import Override
from .scenario.schema import with_changes

MAX_EVALUATIONS = 40


@dataclass
class Breakeven:
    """The value of one prior's percentile at which ``p_shortfall`` reaches the target."""

    scenario: str
    prior: str
    percentile: int
    entity: str
    target: float
    draws: int
    seed: int
    current_value: float
    current_p_shortfall: float
    reachable: bool
    value: float = math.nan
    shift: float = math.nan
    value_se: float = math.nan
    value_ci95: tuple = (math.nan, math.nan)
    p_shortfall_at_value: float = math.nan
    slope: float = math.nan
    evaluations: list = field(default_factory=list)
    message: str = ""
    wall_seconds: float = 0.0

    def to_dict(self) -> dict:
        """JSON-ready (``schema: risk.breakeven/1``); non-finite numbers become null."""
        return json_ready({"schema": "risk.breakeven/1", **asdict(self)})

    def __repr__(self) -> str:
        head = f"<risk.Breakeven {self.prior} p{self.percentile} for {self.entity} P(shortfall) = {self.target}>"
        if not self.reachable:
            return f"{head}\n  not reachable: {self.message}"
        return (f"{head}\n  {self.current_value:.4g} -> {self.value:.4g} ± {self.value_se:.2g} "
                f"(shift {self.shift:+.4g}; P(shortfall) now {self.current_p_shortfall:.4f})")


def breakeven(scenario: str | Path | None = None, *, prior: str, target: float, entity: str | None = None,
              percentile: int = 50, draws: int = 200_000, seed: int | None = None,
              threads: int | None = None, overrides: dict | None = None, stress=None,
              tolerance: float = 1e-4, progress=None) -> Breakeven:
    """Find the value of a prior's percentile that brings ``p_shortfall`` to ``target``.

    Parameters
    ----------
    scenario : str, pathlib.Path or Scenario, optional
        A scenario file, embedded name or loaded scenario (default: the embedded default).
        With ``[judgement]``, the search runs at the central calibration.
    prior : str
        Dotted path of the prior, e.g. ``"companies.anthropic.growth_initial"``.
    target : float
        The ``p_shortfall`` to reach, in (0, 1).
    entity : str, optional
        Whose ``p_shortfall``: default the prior's company, else the sector.
    percentile : int, default 50
        The percentile of the prior that moves (its spread is kept).
    draws : int, default 200_000
        Draws per evaluation (all on the same seed).
    seed, threads, overrides, stress
        As in :func:`risk.simulate`; overrides and overlays apply first.
    tolerance : float, default 1e-4
        Stop when the bracket is narrower than this share of the prior's 10-90 % range.
    progress : callable, optional
        Called as ``progress(evaluations, expected)`` after each evaluation
        (``expected`` is an estimate: a bracket, a bisection to ``tolerance``, a slope).

    Returns
    -------
    Breakeven
        ``reachable`` is False (with the reason) when no value in the prior's
        family and domain reaches the target.
    """
    draws = check_draws(draws)
    seed = check_seed(seed)
    threads = check_threads(threads)
    if isinstance(target, bool) or not isinstance(target, (int, float)) or not 0 < target < 1:
        raise InputError(f"{target!r} is not a probability strictly between 0 and 1", source="target",
                         allowed="e.g. 0.2")
    if isinstance(percentile, bool) or not isinstance(percentile, int) or not 1 <= percentile <= 99:
        raise InputError(f"{percentile!r} is not a percentile", source="percentile", allowed="1 .. 99")
    start = time.perf_counter()
    base = resolve_scenario(scenario, overrides=overrides, stress=stress)
    compiled = compile_scenario(base)
    paths = {path: found for path, found in base.priors()}
    if prior not in paths:
        close = difflib.get_close_matches(prior, list(paths), n=1)
        raise InputError("no such prior" + (f"; did you mean '{close[0]}'?" if close else ""), source="prior",
                         key=prior, allowed="a prior path shown by `risk priors show`")
    found_prior = paths[prior]
    if found_prior.family in ("fixed", "discrete"):
        raise InputError(f"a {found_prior.family} prior has no percentile to move", source="prior", key=prior,
                         allowed="a continuous prior (or --set it to one first)")
    if entity is None:
        parts = prior.split(".")
        entity = parts[1] if parts[0] == "companies" else "sector"
    if entity not in base.entities:
        raise InputError(f"no entity '{entity}'", source="entity", allowed=", ".join(base.entities))
    level = percentile / 100.0
    current = float(found_prior.ppf([level])[0])
    low10, high90 = (float(v) for v in found_prior.ppf([0.1, 0.9]))
    spread = max(high90 - low10, abs(current) * 1e-3, 1e-12)
    e = base.entities.index(entity)
    key = f"{prior}.p{percentile}"
    cache: dict[float, float] = {}

    expected = 8 + math.ceil(math.log2(1.0 / tolerance)) + 2  # bracket + bisection + slope, about

    def p_at(value: float) -> float:
        if value not in cache:
            # the compiled model is reused: only the moved prior's spec rows (and its table) change
            moved = with_changes(base, overrides=[_set(key, value)])
            result = engine.run(moved_model(base, compiled, moved), draws=draws, seed=seed, threads=threads)
            cache[value] = float(result.counts[e, C_SHORTFALL] / draws)
            if progress is not None:
                progress(len(cache), max(expected, len(cache) + 1))
        return cache[value]

    result = Breakeven(scenario=base.name, prior=prior, percentile=percentile, entity=entity, target=target,
                       draws=draws, seed=seed, current_value=current, current_p_shortfall=p_at(current),
                       reachable=False)
    try:
        bracket = _bracket(p_at, current, spread, target)
    except InputError as err:
        result.message = err.problem
        bracket = None
    if bracket is None:
        tried = sorted(cache.items())
        reached = [p for _, p in tried]
        result.message = (f"over {tried[0][0]:.4g} .. {tried[-1][0]:.4g} P(shortfall) only ranges over "
                          f"[{min(reached):.4f}, {max(reached):.4f}]"
                          + (f" ({result.message})" if result.message else "")
                          + "; another input bounds it (e.g. capacity binds revenue)")
    else:
        low, high = bracket
        evaluations = 0
        while abs(high - low) > tolerance * spread and evaluations < MAX_EVALUATIONS:
            middle = 0.5 * (low + high)
            if (p_at(middle) - target) * (p_at(low) - target) <= 0:
                high = middle
            else:
                low = middle
            evaluations += 1
        value = low if abs(p_at(low) - target) <= abs(p_at(high) - target) else high
        step = 0.05 * spread
        slope = _slope(p_at, value, step)
        p_value = p_at(value)
        se_p = math.sqrt(max(target * (1 - target), 1.0 / draws) / draws)
        value_se = se_p / abs(slope) if slope else math.inf
        result.reachable = True
        result.value, result.shift = value, value - current
        result.value_se = value_se
        result.value_ci95 = (value - Z95 * value_se, value + Z95 * value_se)
        result.p_shortfall_at_value, result.slope = p_value, slope
    result.evaluations = sorted([v, p] for v, p in cache.items())
    result.wall_seconds = time.perf_counter() - start
    return result


def moved_model(base, compiled, moved):
    """``compiled`` (of ``base``) with the priors ``moved`` changes recompiled, nothing else."""
    judged, specs, orders, starts = compile_calibrations(base, compiled, [moved])
    n_active = int(starts[0][-1])
    return dataclasses.replace(judged, arrays=dict(judged.arrays, spec=specs[0], order=orders[0][:n_active].copy(),
                                                   family_start=starts[0]))


def _set(key, value):
    return Override("set", key, value, f"breakeven {key}={value:g}")


def _bracket(p_at, current, spread, target):
    """Values on both sides of the target, expanding geometrically from the current value.

    Returns None when neither direction crosses the target: the prior's reach
    ends (its domain), the curve levels off (another constraint binds) or
    moves away from the target.
    """
    p0 = p_at(current)
    if p0 == target:
        return current, current
    for direction in (1.0, -1.0):
        step = 0.1 * spread
        value, previous, p_previous, flat = current, current, p0, 0
        for _ in range(40):
            value = value + direction * step
            try:
                p = p_at(value)
            except InputError:
                break  # beyond the prior's reach in this direction
            if (p - target) * (p0 - target) <= 0:
                return (previous, value) if previous < value else (value, previous)
            flat = flat + 1 if p == p_previous else 0
            if flat >= 3 or (abs(p - target) > abs(p_previous - target) and abs(value - current) > spread):
                break  # levelled off, or moving away from the target
            previous, p_previous = value, p
            step *= 2.0
    return None


def _slope(p_at, value, step):
    for _ in range(8):
        try:
            return (p_at(value + step) - p_at(value - step)) / (2 * step)
        except InputError:
            step /= 2.0
    return math.nan


__all__ = ["Breakeven", "breakeven"]
