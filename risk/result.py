"""Statistics of a run, read off the merged accumulators, with Monte Carlo errors.

Quantiles come from the fixed-bin histograms (``kernels.histogram``): within
0.78 % (relative) of the sample quantile.  Their 95 % intervals are the
distribution-free order-statistic intervals: the histogram quantiles at
``p -/+ 1.96 * sqrt(p (1 - p) / n)``.  Probabilities carry the binomial
standard error and a Wilson 95 % interval.  CVaR95 of the funding gap is the
histogram tail mean (bin midpoints; same 0.78 % bound) with the asymptotic
standard error ``sd((X - VaR)+) / ((1 - alpha) sqrt(n))``.
"""

from __future__ import annotations

import datetime as _dt
import math
import platform
from dataclasses import dataclass, field

import numpy as np

from . import grade as grading
from . import judgement as judging
from ._version import __version__
from .kernels import histogram as h
from .kernels import simulate as k
from .scenario import Scenario

QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)
Z95 = 1.959963984540054
_LOWER, _UPPER = h.bin_edges()


def wilson_interval(successes: int, n: int, z: float = Z95) -> tuple[float, float]:
    """Wilson score interval for a binomial proportion."""
    if n == 0:
        return 0.0, 1.0
    p = successes / n
    denom = 1.0 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return max(0.0, centre - half), min(1.0, centre + half)


def probability(successes: int, n: int) -> dict:
    """A probability with its standard error and Wilson 95 % interval."""
    p = successes / n
    low, high = wilson_interval(successes, n)
    return {"p": p, "mcse": math.sqrt(p * (1 - p) / n), "ci95": [low, high]}


def batch_se(values: np.ndarray, weights: np.ndarray | None = None) -> float:
    """Standard error of a weighted mean of batch estimates (batch means).

    ``values`` are per-batch estimates and ``weights`` the batches' shares of
    the draws: ``sqrt(G / (G - 1) * sum(w_g**2 (x_g - xbar)**2))``, which is
    ``s / sqrt(G)`` for equal batches.
    """
    values = np.asarray(values, dtype=float)
    if weights is None:
        weights = np.full(len(values), 1.0 / len(values))
    mean = float(np.sum(weights * values))
    groups = len(values)
    return math.sqrt(groups / (groups - 1) * float(np.sum(weights ** 2 * (values - mean) ** 2)))


def hist_quantile(counts: np.ndarray, q: float) -> float:
    """Quantile ``q`` of a histogram (linear interpolation inside the bin)."""
    total = int(counts.sum())
    if total == 0:
        return math.nan
    cumulative = np.cumsum(counts)
    target = q * total
    b = int(np.searchsorted(cumulative, target, side="left"))
    b = min(b, len(counts) - 1)
    below = cumulative[b] - counts[b]
    lower, upper = _LOWER[b], _UPPER[b]
    if b == h.ZERO_BIN:
        return 0.0
    if not math.isfinite(lower):
        return upper
    if not math.isfinite(upper):
        return lower
    frac = (target - below) / counts[b] if counts[b] else 0.5
    return float(lower + min(max(frac, 0.0), 1.0) * (upper - lower))


def quantile_interval(counts: np.ndarray, q: float) -> tuple[float, float]:
    """Distribution-free 95 % interval of quantile ``q`` (order statistics)."""
    n = int(counts.sum())
    half = Z95 * math.sqrt(q * (1 - q) / max(n, 1))
    return hist_quantile(counts, max(q - half, 0.0)), hist_quantile(counts, min(q + half, 1.0))


def _midpoints() -> np.ndarray:
    mid = 0.5 * (_LOWER + _UPPER)
    mid[0], mid[-1] = _UPPER[0], _LOWER[-1]
    mid[h.ZERO_BIN] = 0.0
    return mid


_MID = _midpoints()


def tail_risk(counts: np.ndarray, alpha: float = 0.95) -> dict:
    """VaR and CVaR (expected shortfall) at ``alpha`` from a histogram, with errors."""
    n = int(counts.sum())
    var = hist_quantile(counts, alpha)
    # Excess over VaR of every bin (the VaR bin contributes its part above VaR).
    excess = np.maximum(_MID - var, 0.0)
    b = int(np.searchsorted(_UPPER, var, side="right"))
    if 0 <= b < len(counts) and math.isfinite(_UPPER[b]):
        excess[b] = 0.5 * max(_UPPER[b] - var, 0.0)
    mean_excess = float(np.dot(counts, excess) / n)
    mean_excess_sq = float(np.dot(counts, excess * excess) / n)
    cvar = var + mean_excess / (1 - alpha)
    sd_excess = math.sqrt(max(mean_excess_sq - mean_excess ** 2, 0.0))
    return {"var": var, "cvar": cvar, "cvar_mcse": sd_excess / ((1 - alpha) * math.sqrt(n))}


@dataclass
class EntityStats:
    """Headline statistics of one company or of the sector."""

    name: str
    p_shortfall: dict
    p_distress: dict
    p_default: dict
    p_shortfall_economic: dict
    new_money_mean: float
    new_money_mean_mcse: float
    new_money_quantiles: dict
    coverage_quantiles: dict
    coverage_quantiles_ci95: dict
    funding_gap_quantiles: dict
    funding_gap_mean: float
    funding_gap_mean_mcse: float
    funding_gap_var95: float
    funding_gap_cvar95: float
    funding_gap_cvar95_mcse: float
    pv_commitments_mean: float
    pv_earnings_mean: float
    gap_share: float
    breakeven: dict
    breakeven_year_median: int | None
    grade: str
    grade_range: list
    years: dict = field(default_factory=dict)
    coverage_pooled_quantiles: dict | None = None  # the sector's only
    p_shortfall_judgement: dict | None = None  # judgement band: quantiles "5", "50", "95" of P_j (or None)
    p_default_judgement: dict | None = None
    judgement_share: float | None = None  # share of the shortfall indicator's variance between calibrations
    coverage_histogram: np.ndarray | None = field(default=None, repr=False)  # for plots, not in to_dict

    def to_dict(self) -> dict:
        """JSON-ready view (the schema of ``docs``/README)."""
        return {
            "p_shortfall": self.p_shortfall["p"],
            "p_shortfall_mcse": self.p_shortfall["mcse"],
            "p_shortfall_ci95": self.p_shortfall["ci95"],
            "p_distress": self.p_distress["p"],
            "p_distress_mcse": self.p_distress["mcse"],
            "p_distress_ci95": self.p_distress["ci95"],
            "p_default": self.p_default["p"],
            "p_default_mcse": self.p_default["mcse"],
            "p_default_ci95": self.p_default["ci95"],
            "p_shortfall_economic": self.p_shortfall_economic["p"],
            "p_shortfall_economic_mcse": self.p_shortfall_economic["mcse"],
            "new_money_mean": self.new_money_mean,
            "new_money_mean_mcse": self.new_money_mean_mcse,
            "new_money_quantiles": self.new_money_quantiles,
            "coverage_quantiles": self.coverage_quantiles,
            "coverage_quantiles_ci95": self.coverage_quantiles_ci95,
            "funding_gap_quantiles": self.funding_gap_quantiles,
            "funding_gap_mean": self.funding_gap_mean,
            "funding_gap_mean_mcse": self.funding_gap_mean_mcse,
            "funding_gap_var95": self.funding_gap_var95,
            "funding_gap_cvar95": self.funding_gap_cvar95,
            "funding_gap_cvar95_mcse": self.funding_gap_cvar95_mcse,
            "pv_commitments_mean": self.pv_commitments_mean,
            "pv_earnings_mean": self.pv_earnings_mean,
            "funding_gap_share": self.gap_share,
            "breakeven_year_distribution": self.breakeven,
            "breakeven_year_median": self.breakeven_year_median,
            "grade": self.grade,
            "grade_range": self.grade_range,
            "p_shortfall_judgement": self.p_shortfall_judgement,
            "p_default_judgement": self.p_default_judgement,
            "judgement_share": self.judgement_share,
            "years": self.years,
            **({"coverage_pooled_quantiles": self.coverage_pooled_quantiles}
               if self.coverage_pooled_quantiles is not None else {}),
        }


def _key(q: float) -> str:
    return f"{round(q * 100):d}"


def batch_errors(batches: np.ndarray) -> dict:
    """Standard errors of P(shortfall), P(distress), P(default) and the mean gap from per-batch sums.

    ``batches`` has one row per batch (draws, shortfalls, distress, gap sum,
    defaults; ``engine.B_*``); empty batches are ignored.  For samplers whose draws are
    not independent (antithetic pairs, RQMC replicates) this is the honest
    error: batches are independent even when draws are not.
    """
    rows = batches[batches[:, 0] > 0]
    if len(rows) < 2:
        return {"p_shortfall": math.nan, "p_distress": math.nan, "p_default": math.nan,
                "funding_gap_mean": math.nan, "batches": len(rows)}
    weights = rows[:, 0] / rows[:, 0].sum()
    return {"p_shortfall": batch_se(rows[:, 1] / rows[:, 0], weights),
            "p_distress": batch_se(rows[:, 2] / rows[:, 0], weights),
            "p_default": batch_se(rows[:, 4] / rows[:, 0], weights),
            "funding_gap_mean": batch_se(rows[:, 3] / rows[:, 0], weights), "batches": len(rows)}


def _batch_probability(successes: int, n: int, se: float, dof: int) -> dict:
    from scipy.stats import t

    p = successes / n
    half = float(t.ppf(0.975, max(dof, 1))) * se
    return {"p": p, "mcse": se, "ci95": [max(0.0, p - half), min(1.0, p + half)]}


def entity_stats(name: str, counts: np.ndarray, hists: np.ndarray, sums: np.ndarray, draws: int,
                 years: list[int], batches: np.ndarray | None = None,
                 independent: int | None = None) -> EntityStats:
    """Compute one entity's statistics from its accumulators.

    With ``batches`` (rows of ``engine.B_*``), the standard errors and 95 %
    intervals of ``p_shortfall``, ``p_distress`` and the mean funding gap
    come from the spread between batches (Student t), not from the binomial
    or iid formulas: for the antithetic and RQMC samplers.  ``independent``
    (a two-level run: the inner draws, shared by every calibration) is the
    number of independent draws the iid errors use, so they stay honest
    (conservative) when ``draws`` runs share their random numbers.
    """
    horizon = len(years)
    n = draws
    shortfall = probability(int(counts[k.C_SHORTFALL]), n)
    distress = probability(int(counts[k.C_DISTRESS]), n)
    default = probability(int(counts[k.C_DEFAULT]), n)
    economic = probability(int(counts[k.C_SHORTFALL_ECONOMIC]), n)
    errors = batch_errors(batches) if batches is not None else None
    if errors is not None:
        dof = errors["batches"] - 1
        shortfall = _batch_probability(int(counts[k.C_SHORTFALL]), n, errors["p_shortfall"], dof)
        distress = _batch_probability(int(counts[k.C_DISTRESS]), n, errors["p_distress"], dof)
        default = _batch_probability(int(counts[k.C_DEFAULT]), n, errors["p_default"], dof)
    if independent is not None:
        distress, economic = (_shared(p, independent) for p in (distress, economic))
    n_err = independent or n
    new_money_mean = sums[k.F_NEW_MONEY] / n
    new_money_var = max(sums[k.F_NEW_MONEY_SQ] / n - new_money_mean ** 2, 0.0) * n / max(n - 1, 1)
    coverage_hist = hists[k.H_COVERAGE]
    gap_hist = hists[k.H_GAP]
    gap_mean = sums[k.F_GAP] / n
    gap_var = max(sums[k.F_GAP_SQ] / n - gap_mean ** 2, 0.0) * n / max(n - 1, 1)
    tail = tail_risk(gap_hist)
    pv_cost = sums[k.F_PV_COST] / n
    share = gap_mean / pv_cost if pv_cost > 0 else 0.0
    breakeven_counts = counts[k.C_BREAKEVEN:k.C_BREAKEVEN + horizon + 1]
    breakeven = {str(year): int(c) / n for year, c in zip(years, breakeven_counts[:horizon])}
    breakeven["none"] = int(breakeven_counts[horizon]) / n
    cumulative = np.cumsum(breakeven_counts) / n
    median_index = int(np.searchsorted(cumulative, 0.5, side="left"))
    median_year = years[median_index] if median_index < horizon else None
    grade, grade_range = grading.grade_with_range(shortfall, share)
    per_year = {}
    supply_first = k.c_supply(horizon)
    for t, year in enumerate(years):
        row = {"supply_bound_share": int(counts[supply_first + t]) / n}
        for label, offset in (("revenue", 0), ("earnings", 1), ("compute_cost", 2)):
            row[f"{label}_mean"] = sums[k.F_REVENUE + offset * horizon + t] / n
            row[f"{label}_quantiles"] = {_key(q): hist_quantile(hists[k.H_REVENUE + offset * horizon + t], q)
                                         for q in QUANTILES}
        row["earnings_to_cost_quantiles"] = {
            _key(q): hist_quantile(hists[k.H_REVENUE + 3 * horizon + t], q) for q in QUANTILES}
        row["new_money_mean"] = sums[k.F_REVENUE + 3 * horizon + t] / n
        row["capacity_cancelled_mean"] = sums[k.F_REVENUE + 4 * horizon + t] / n
        per_year[str(year)] = row
    pooled = hists[k.H_COVERAGE_POOLED]
    return EntityStats(
        name=name, p_shortfall=shortfall, p_distress=distress, p_default=default, p_shortfall_economic=economic,
        new_money_mean=float(new_money_mean), new_money_mean_mcse=math.sqrt(new_money_var / n_err),
        new_money_quantiles={_key(q): hist_quantile(hists[k.H_NEW_MONEY], q) for q in QUANTILES},
        coverage_pooled_quantiles=({_key(q): hist_quantile(pooled, q) for q in QUANTILES}
                                   if pooled.sum() > 0 else None),
        coverage_quantiles={_key(q): hist_quantile(coverage_hist, q) for q in QUANTILES},
        coverage_quantiles_ci95={_key(q): list(quantile_interval(coverage_hist, q)) for q in QUANTILES},
        funding_gap_quantiles={_key(q): hist_quantile(gap_hist, q) for q in QUANTILES},
        funding_gap_mean=float(gap_mean),
        funding_gap_mean_mcse=errors["funding_gap_mean"] if errors else math.sqrt(gap_var / n_err),
        funding_gap_var95=tail["var"], funding_gap_cvar95=tail["cvar"],
        funding_gap_cvar95_mcse=tail["cvar_mcse"], pv_commitments_mean=float(pv_cost),
        pv_earnings_mean=float(sums[k.F_PV_EARNINGS] / n), gap_share=float(share),
        breakeven=breakeven, breakeven_year_median=median_year, grade=grade,
        grade_range=grade_range, years=per_year, coverage_histogram=coverage_hist.copy(),
    )


def _shared(probability_: dict, independent: int) -> dict:
    # a probability over runs that share their draws: the binomial error of the independent draws
    p = probability_["p"]
    se = math.sqrt(p * (1 - p) / independent)
    low, high = wilson_interval(int(round(p * independent)), independent)
    return {"p": p, "mcse": se, "ci95": [low, high]}


def histogram_cdf(counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(x, F(x))`` at the upper edge of every occupied bin of a histogram (for ECDF plots)."""
    total = counts.sum()
    occupied = np.flatnonzero(counts)
    if total == 0:
        return np.zeros(0), np.zeros(0)
    first, last = occupied[0], occupied[-1]
    upper = _UPPER[first:last + 1].copy()
    upper[~np.isfinite(upper)] = _LOWER[first:last + 1][~np.isfinite(upper)]
    return upper, np.cumsum(counts[first:last + 1]) / total


def histogram_density(counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(bin midpoints, density)`` over the occupied, finite bins of a histogram."""
    total = counts.sum()
    occupied = np.flatnonzero(counts)
    if total == 0:
        return np.zeros(0), np.zeros(0)
    span = slice(occupied[0], occupied[-1] + 1)
    lower, upper = _LOWER[span], _UPPER[span]
    finite = np.isfinite(lower) & np.isfinite(upper) & (upper > lower)
    width = np.where(finite, upper - lower, 1.0)
    return (0.5 * (lower + upper))[finite], (counts[span] / total / width)[finite]


def json_ready(value):
    """A JSON-ready copy of nested dicts, lists and arrays: non-finite floats become None."""
    if isinstance(value, np.ndarray):
        return json_ready(value.tolist())
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: json_ready(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_ready(v) for v in value]
    return value


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

    def export(self, folder, *, format: str = "csv") -> list:
        """Write the summary, per-year bands and kept draws as CSV or Parquet files in ``folder`` (``risk.export``)."""
        from .export import export

        return export(self, folder, format=format)

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
                "p_distress_mcse": stats.p_distress["mcse"],
                "p_default": stats.p_default["p"],
                "p_default_mcse": stats.p_default["mcse"],
                "p_shortfall_economic": stats.p_shortfall_economic["p"],
                "p_shortfall_economic_mcse": stats.p_shortfall_economic["mcse"],
                "new_money_mean": stats.new_money_mean,
                "coverage_p05": stats.coverage_quantiles["5"],
                "coverage_p50": stats.coverage_quantiles["50"],
                "coverage_p95": stats.coverage_quantiles["95"],
                "funding_gap_mean": stats.funding_gap_mean,
                "funding_gap_mean_mcse": stats.funding_gap_mean_mcse,
                "funding_gap_var95": stats.funding_gap_var95,
                "funding_gap_cvar95": stats.funding_gap_cvar95,
                "breakeven_year_median": stats.breakeven_year_median,
                # the median alone misleads when the distribution splits (many in year 1, many never)
                "breakeven_first_year_share": stats.breakeven[str(self.scenario.years[0])],
                "breakeven_never_share": stats.breakeven["none"],
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
    summary = judging.summarise(loaded, accumulators, judgement, entities) if judged else None
    stamp = _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")
    return Result(scenario=loaded, entities=entities, draws=accumulators.runs, seed=seed, threads=threads,
                  chunk_size=chunk_size, wall_seconds=wall_seconds, timestamp=stamp, sampler=sampler,
                  stopping=stopping, executor=executor, judgement=summary)
