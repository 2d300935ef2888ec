"""What drives the verdict: tornado, Sobol indices and shortfall drivers (``risk sensitivity``).

All three read per-draw records of one entity's ``coverage`` (``engine.record``)
on common random numbers, so every comparison is paired draw by draw.

Tornado
    Each non-fixed prior is pinned at its 10th and then its 90th percentile
    (a per-year prior in every year; a prior in the Gaussian copula leaves it)
    while every other input keeps its random numbers.  The swing is the change
    in ``p_shortfall`` and in median ``coverage`` from the low pin to the high
    pin, with paired standard errors (exact for the probability; 32 batch
    means for the median).

Sobol indices
    First-order (Saltelli 2010) and total (Jansen 1999) indices of
    ``coverage``, estimated from two independent samples A and B and, for
    each input, the sample A with that input's normal scores taken from B.
    The inputs are the model's *independent* random sources: each prior, each
    company's growth shocks, the common demand factor.  The demand factor
    induces the correlation between the companies' growth, but as an input of
    its own it is independent of the rest, so the indices are valid; priors
    joined by a Gaussian copula are dependent and enter as one group.  95 %
    intervals come from a bootstrap over the draws.

Drivers of shortfall
    For each prior, its distribution in the draws that fall short against
    those that are covered: medians in each, and ``P(X_short > X_covered)``
    (the area under the ROC curve; 0.5 means no influence) with the
    Hanley–McNeil standard error.  A per-year prior enters by its mean over
    the years.
"""

from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from . import engine
from .checks import check_draws, check_seed, check_threads, resolve_scenario
from .errors import InputError
from .result import batch_se, json_ready
from .scenario.compile import compile_scenario, pinned, prior_variates, score_groups

BATCHES = 32
LOW, HIGH = 0.10, 0.90


@dataclass
class TornadoBar:
    """The effect of pinning one prior at its 10th, then its 90th percentile."""

    prior: str
    low_value: float
    high_value: float
    p_shortfall_low: float
    p_shortfall_high: float
    p_shortfall_swing: float
    p_shortfall_swing_se: float
    coverage_median_low: float
    coverage_median_high: float
    coverage_median_swing: float
    coverage_median_swing_se: float


@dataclass
class SobolIndex:
    """First-order and total Sobol indices of coverage for one input (group), with 95 % intervals."""

    input: str
    first: float
    first_ci95: tuple
    total: float
    total_ci95: tuple


@dataclass
class Driver:
    """How a prior's values differ between shortfall and covered draws."""

    prior: str
    median_shortfall: float
    median_covered: float
    quantiles_shortfall: tuple
    quantiles_covered: tuple
    auc: float
    auc_se: float


@dataclass
class Sensitivity:
    """Tornado, Sobol indices and shortfall drivers of one entity's coverage."""

    scenario: object
    entity: str
    draws: int
    sobol_draws: int
    seed: int
    p_shortfall: float
    coverage_median: float
    coverage_variance: float
    tornado: list = field(default_factory=list)
    sobol: list = field(default_factory=list)
    drivers: list = field(default_factory=list)
    wall_seconds: float = 0.0

    def frames(self) -> dict:
        """pandas DataFrames ``{"tornado", "sobol", "drivers"}``, sorted by importance."""
        import pandas as pd

        return {"tornado": pd.DataFrame([asdict(b) for b in self.tornado]).set_index("prior"),
                "sobol": pd.DataFrame([asdict(s) for s in self.sobol]).set_index("input"),
                "drivers": pd.DataFrame([asdict(d) for d in self.drivers]).set_index("prior")}

    def to_dict(self) -> dict:
        """JSON-ready (``schema: risk.sensitivity/1``); non-finite numbers become null."""
        from ._version import __version__

        return json_ready({
            "schema": "risk.sensitivity/1", "version": __version__, "scenario": self.scenario.name,
            "changes": list(self.scenario.changes), "entity": self.entity, "draws": self.draws,
            "sobol_draws": self.sobol_draws, "seed": self.seed, "p_shortfall": self.p_shortfall,
            "coverage_median": self.coverage_median, "coverage_variance": self.coverage_variance,
            "tornado": [asdict(b) for b in self.tornado], "sobol": [asdict(s) for s in self.sobol],
            "drivers": [asdict(d) for d in self.drivers], "wall_seconds": self.wall_seconds,
        })

    def plot_tornado(self, top: int = 12, ax=None):
        """The tornado as a bar chart (``risk.plots.plot_tornado``)."""
        from .plots import plot_tornado

        return plot_tornado(self, top=top, ax=ax)

    def plot_drivers(self, top: int = 12, ax=None):
        """The drivers of shortfall with 95 % intervals (``risk.plots.plot_drivers``)."""
        from .plots import plot_drivers

        return plot_drivers(self, top=top, ax=ax)

    def __repr__(self) -> str:
        lines = [f"<risk.Sensitivity {self.scenario.name} / {self.entity}: P(shortfall) {self.p_shortfall:.4f}>"]
        for bar in self.tornado[:5]:
            lines.append(f"  {bar.prior:<55} swing {bar.p_shortfall_swing:+.4f} ± {bar.p_shortfall_swing_se:.4f}")
        return "\n".join(lines)


def sensitivity(scenario: str | Path | None = None, *, entity: str = "sector", draws: int = 100_000,
                sobol_draws: int = 20_000, seed: int | None = None, threads: int | None = None,
                overrides: dict | None = None, stress=None, bootstrap: int = 200,
                progress=None) -> Sensitivity:
    """Tornado, Sobol indices and shortfall drivers of an entity's coverage.

    Parameters
    ----------
    scenario : str or pathlib.Path, optional
        A scenario file or embedded name (default: the embedded default).
    entity : str, default "sector"
        A company name or ``"sector"``.
    draws : int, default 100_000
        Draws per tornado run (two runs per prior) and for the drivers.
    sobol_draws : int, default 20_000
        Base sample size ``N`` of the Sobol design: ``(2 + inputs) * N`` draws.
    seed : int, optional
        None draws one (recorded).
    threads : int, optional
        Results do not depend on it.
    overrides, stress
        As in :func:`risk.simulate`.
    bootstrap : int, default 200
        Bootstrap resamples for the Sobol intervals.
    progress : callable, optional
        Called as ``progress(done, total)`` in units of runs.

    Returns
    -------
    Sensitivity
    """
    draws = check_draws(draws)
    sobol_draws = check_draws(sobol_draws, source="sobol_draws")
    if draws < 2 * BATCHES or sobol_draws < 100:
        raise InputError("too few draws for a sensitivity analysis", source="draws",
                         allowed=f"draws >= {2 * BATCHES}, sobol_draws >= 100")
    if isinstance(bootstrap, bool) or not isinstance(bootstrap, int) or bootstrap < 20:
        raise InputError(f"{bootstrap!r} bootstrap resamples", source="bootstrap", allowed="an integer >= 20")
    seed = check_seed(seed)
    threads = check_threads(threads)
    loaded = resolve_scenario(scenario, overrides=overrides, stress=stress)
    if entity not in loaded.entities:
        import difflib

        close = difflib.get_close_matches(entity, loaded.entities, n=1)
        raise InputError(f"no entity '{entity}'" + (f"; did you mean '{close[0]}'?" if close else ""),
                         source="entity", allowed=", ".join(loaded.entities))
    e = loaded.entities.index(entity)
    compiled = compile_scenario(loaded)
    start = time.perf_counter()
    keys = engine.score_keys(compiled, seed)
    records = engine.record(compiled, z_keys=keys, draws=draws, keep_values=True, threads=threads)
    base, values = records.coverage[:, e], records.values
    priors = _varying_priors(loaded)
    groups = {name: idx for name, idx in score_groups(loaded).items()
              if np.isin(idx, compiled.arrays["z_active"]).any()}
    total_runs = 2 * len(priors) + 2 + len(groups)
    done = [0]

    def step():
        done[0] += 1
        if progress is not None:
            progress(done[0], total_runs)

    tornado = []
    for path, (prior, variates) in priors.items():
        low_value, high_value = (float(v) for v in prior.ppf([LOW, HIGH]))
        low = _coverage(pinned(compiled, variates, low_value), keys, draws, e, threads)
        step()
        high = _coverage(pinned(compiled, variates, high_value), keys, draws, e, threads)
        step()
        tornado.append(_bar(path, low_value, high_value, low, high))
    tornado.sort(key=lambda b: (-abs(b.p_shortfall_swing), -abs(b.coverage_median_swing)))
    sobol, variance = _sobol(compiled, groups, seed, sobol_draws, e, threads, bootstrap, step)
    drivers = _drivers(priors, values, base < 1.0)
    return Sensitivity(scenario=loaded, entity=entity, draws=draws, sobol_draws=sobol_draws, seed=seed,
                       p_shortfall=float(np.mean(base < 1.0)), coverage_median=float(np.median(base)),
                       coverage_variance=variance, tornado=tornado, sobol=sobol, drivers=drivers,
                       wall_seconds=time.perf_counter() - start)


def _coverage(compiled, keys, draws, e, threads):
    return engine.record(compiled, z_keys=keys, draws=draws, threads=threads).coverage[:, e]


def _varying_priors(loaded) -> dict:
    """Non-fixed priors: path -> (Prior, variate indices), in kernel order."""
    return {path: found for path, found in prior_variates(loaded).items() if not found[0].is_fixed()}


def _bar(path, low_value, high_value, low, high) -> TornadoBar:
    short_low, short_high = low < 1.0, high < 1.0
    swing = short_high.astype(float) - short_low.astype(float)
    n = len(low)
    batches = np.array_split(np.arange(n), BATCHES)
    median_low, median_high = float(np.median(low)), float(np.median(high))
    batch_swings = [np.median(high[b]) - np.median(low[b]) for b in batches]
    return TornadoBar(
        prior=path, low_value=low_value, high_value=high_value,
        p_shortfall_low=float(short_low.mean()), p_shortfall_high=float(short_high.mean()),
        p_shortfall_swing=float(swing.mean()), p_shortfall_swing_se=float(swing.std(ddof=1) / math.sqrt(n)),
        coverage_median_low=median_low, coverage_median_high=median_high,
        coverage_median_swing=median_high - median_low,
        coverage_median_swing_se=batch_se(np.array(batch_swings), np.array([len(b) / n for b in batches])))


def sobol_indices(f_a: np.ndarray, f_b: np.ndarray, f_ab: np.ndarray, *, bootstrap: int = 200,
                  seed: int = 0) -> dict:
    """First-order and total Sobol indices from a Saltelli design, with bootstrap 95 % intervals.

    Parameters
    ----------
    f_a, f_b : numpy.ndarray of shape (N,)
        Model outputs on two independent input samples A and B.
    f_ab : numpy.ndarray of shape (k, N)
        Row ``i``: outputs on A with input ``i`` taken from B.
    bootstrap : int
        Resamples of the ``N`` rows for the percentile intervals.
    seed : int
        Seed of the bootstrap resampling.

    Returns
    -------
    dict
        ``first``, ``total`` (shape (k,)), ``first_ci95``, ``total_ci95``
        (shape (k, 2)) and ``variance``.

    Notes
    -----
    First order (Saltelli et al. 2010): ``mean(f_B (f_ABi - f_A)) / V``;
    total (Jansen 1999): ``mean((f_A - f_ABi)**2) / (2 V)``, with ``V`` the
    variance of ``f_A`` and ``f_B`` pooled.
    """

    def estimate(a, b, ab):
        variance = np.var(np.concatenate([a, b]))
        return (np.mean(b * (ab - a), axis=1) / variance, 0.5 * np.mean((a - ab) ** 2, axis=1) / variance,
                variance)

    first, total, variance = estimate(f_a, f_b, f_ab)
    rng = np.random.default_rng(seed)
    n = len(f_a)
    samples_first = np.empty((bootstrap, len(first)))
    samples_total = np.empty((bootstrap, len(first)))
    for r in range(bootstrap):
        rows = rng.integers(0, n, n)
        samples_first[r], samples_total[r], _ = estimate(f_a[rows], f_b[rows], f_ab[:, rows])
    return {"first": first, "total": total, "variance": float(variance),
            "first_ci95": np.percentile(samples_first, [2.5, 97.5], axis=0).T,
            "total_ci95": np.percentile(samples_total, [2.5, 97.5], axis=0).T}


def _sobol(compiled, groups, seed, n, e, threads, bootstrap, step):
    keys_a = engine.score_keys(compiled, seed, variant=1)
    keys_b = engine.score_keys(compiled, seed, variant=2)
    position = {int(z): p for p, z in enumerate(compiled.arrays["z_active"])}
    f_a = _coverage(compiled, keys_a, n, e, threads)
    step()
    f_b = _coverage(compiled, keys_b, n, e, threads)
    step()
    names = list(groups)
    f_ab = np.empty((len(names), n))
    for row, name in enumerate(names):
        keys = keys_a.copy()
        moved = [position[z] for z in groups[name] if z in position]
        keys[moved] = keys_b[moved]
        f_ab[row] = _coverage(compiled, keys, n, e, threads)
        step()
    if not (np.isfinite(f_a).all() and np.isfinite(f_b).all() and np.isfinite(f_ab).all()):
        raise InputError("coverage is infinite in some draws (no compute cost), so its variance is undefined",
                         source="sensitivity", allowed="an entity with compute commitments in every draw")
    found = sobol_indices(f_a, f_b, f_ab, bootstrap=bootstrap, seed=seed % (2**32))
    indices = [SobolIndex(name, float(found["first"][i]), tuple(map(float, found["first_ci95"][i])),
                          float(found["total"][i]), tuple(map(float, found["total_ci95"][i])))
               for i, name in enumerate(names)]
    indices.sort(key=lambda s: -s.total)
    return indices, found["variance"]


def _drivers(priors, values, shortfall) -> list:
    n_short = int(shortfall.sum())
    n_covered = len(shortfall) - n_short
    drivers = []
    for path, (_, variates) in priors.items():
        x = values[:, variates].mean(axis=1)
        if n_short == 0 or n_covered == 0:
            auc, se = math.nan, math.nan
        else:
            auc, se = _auc(x[shortfall], x[~shortfall])
        short_q = tuple(float(v) for v in np.quantile(x[shortfall], [0.1, 0.5, 0.9])) if n_short else (math.nan,) * 3
        cover_q = tuple(float(v) for v in np.quantile(x[~shortfall], [0.1, 0.5, 0.9])) if n_covered else (math.nan,) * 3
        drivers.append(Driver(path, short_q[1], cover_q[1], short_q, cover_q, auc, se))
    drivers.sort(key=lambda d: -abs(d.auc - 0.5) if math.isfinite(d.auc) else 0.0)
    return drivers


def _auc(positive: np.ndarray, negative: np.ndarray) -> tuple[float, float]:
    """``P(X_pos > X_neg) + P(=)/2`` by ranks, with the Hanley–McNeil (1982) standard error."""
    from scipy.stats import rankdata

    n1, n0 = len(positive), len(negative)
    ranks = rankdata(np.concatenate([positive, negative]))
    auc = (ranks[:n1].sum() - n1 * (n1 + 1) / 2) / (n1 * n0)
    q1, q2 = auc / (2 - auc), 2 * auc * auc / (1 + auc)
    variance = (auc * (1 - auc) + (n1 - 1) * (q1 - auc * auc) + (n0 - 1) * (q2 - auc * auc)) / (n1 * n0)
    return float(auc), float(math.sqrt(max(variance, 0.0)))


__all__ = ["Driver", "Sensitivity", "SobolIndex", "TornadoBar", "sensitivity", "sobol_indices"]
