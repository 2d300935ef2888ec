"""The two-level run: ``M`` calibrations drawn from a scenario's ``[judgement]``, ``N`` draws within each.

``design/model.md`` ("Judgement uncertainty: two levels").  Calibration
``j`` draws one value ``theta_ej`` for every judgement entry ``e`` (and one
view), independently, from a stream keyed by the seed and the entry's key: a
calibration's values do not change when entries are added, and the first
``M`` calibrations of a larger run are those of a smaller one.  The inner
draws are common random numbers: draw ``i`` has the same normal scores under
every calibration, and the kernel runs all ``M`` calibrations on each
draw's scores (``kernels.simulate.run_batch``).

With ``P_j`` the share of calibration ``j``'s ``N`` draws that fall short and
``Y_i`` the share of calibrations in which draw ``i`` falls short, the
mixture ``P = mean_j P_j = mean_i Y_i`` has the two-level error

    se**2 = Var_j(P_j) / M + Var_i(Y_i) / N

(the inner draws are shared, so their noise does not average out over
calibrations).  ``Var_j(P_j)`` includes the inner noise of each ``P_j``
(at most ``1 / (4 N)``), which makes the error slightly conservative.
"""

from __future__ import annotations

import math

import numpy as np

from . import engine
from .errors import InputError
from .grade import grade
from .kernels import simulate as k
from .scenario import Scenario
from .scenario.compile import CompiledScenario, compile_calibrations, stream_hash
from .scenario.judgement import calibration_overrides
from .scenario.schema import calibrated_document, core_document

DEFAULT_CALIBRATIONS = 64
BAND = (0.05, 0.5, 0.95)


def uniforms(seed: int, name: str, count: int) -> np.ndarray:
    """``count`` uniforms of the stream keyed by ``seed`` and ``name`` (a prefix of a longer run's)."""
    return np.random.default_rng([seed, stream_hash("judgement:" + name)]).random(count)


def draw(scenario: Scenario, calibrations: int, seed: int) -> tuple[dict, np.ndarray | None]:
    """Each entry's ``calibrations`` values, and each calibration's view (or None without views)."""
    judgement = scenario.judgement
    values = {entry.key: np.asarray(entry.prior.ppf(uniforms(seed, entry.key, calibrations)), dtype=float)
              for entry in judgement.entries}
    views = None
    if judgement.views:
        cumulative = np.cumsum([view.weight for view in judgement.views])
        views = np.minimum(np.searchsorted(cumulative, uniforms(seed, "views", calibrations) * cumulative[-1],
                                           side="right"), len(judgement.views) - 1)
    return values, views


def prepare(scenario: Scenario, compiled: CompiledScenario, calibrations: int,
            seed: int) -> tuple[CompiledScenario, k.Calibrations, dict, np.ndarray | None]:
    """Draw the calibrations and compile them: ``(compiled, Calibrations, values, views)``.

    Raises
    ------
    InputError
        When a drawn calibration is not a valid scenario, naming the entries
        and their values.
    """
    values, views = draw(scenario, calibrations, seed)
    core = core_document(scenario)
    found = []
    for j in range(calibrations):
        drawn = {key: float(column[j]) for key, column in values.items()}
        overrides = calibration_overrides(scenario.judgement, drawn, None if views is None else int(views[j]),
                                          origin=f"{scenario.source} [judgement]")
        try:
            found.append(calibrated_document(core, overrides, source=scenario.source))
        except InputError as err:
            at = ", ".join(f"{key} = {value:.4g}" for key, value in drawn.items())
            raise InputError(f"calibration {j} ({at}) is not a valid scenario: {err.problem}",
                             source=scenario.source, key=err.key,
                             allowed="a [judgement] hyper-prior that keeps the keys valid over its range") from None
    judged, specs, orders, starts = compile_calibrations(scenario, compiled, found)
    return judged, k.Calibrations(specs, orders, starts), values, views


def probability(cal: np.ndarray, y_sum: int, draws: int) -> dict:
    """The mixture probability of one indicator with its two-level error and its judgement band.

    ``cal`` holds each calibration's count over ``draws`` inner draws and
    ``y_sum`` the sum over draws of the squared count over calibrations.
    """
    m = len(cal)
    p_j = cal / draws
    p = float(p_j.mean())
    between = float(p_j.var(ddof=1)) if m > 1 else 0.0
    within = max(y_sum / (draws * m * m) - p * p, 0.0) * draws / max(draws - 1, 1)
    se = math.sqrt(between / m + within / draws)
    half = 1.959963984540054 * se
    band = band_of(p_j)
    total = p * (1 - p)
    return {"p": p, "mcse": se, "ci95": [max(0.0, p - half), min(1.0, p + half)], "band": band,
            "share": min(between / total, 1.0) if total > 0 else 0.0, "per_calibration": p_j,
            "mcse_within": math.sqrt(within / draws), "mcse_between": math.sqrt(between / m)}


def band_of(values: np.ndarray) -> dict:
    """The judgement band of per-calibration values: their 5, 50 and 95 % points (keys "5", "50", "95")."""
    return {str(round(q * 100)): float(v) for q, v in zip(BAND, np.quantile(values, BAND))}


def drivers(p_j: np.ndarray, values: dict, views: np.ndarray | None, names: list[str]) -> list[dict]:
    """Which judgement moves ``P_j`` most: Spearman's rank correlation per entry, the correlation ratio of views.

    Ranked by the size of the effect; ``share`` is its square (the share of
    ``Var_j(P_j)`` that the entry explains, alone, in ranks); ``se`` its
    sampling error over the calibrations and ``clear`` whether it exceeds
    twice that (with 64 calibrations, |rho| >= 0.25).
    """
    found = []
    ranked = _ranks(p_j)
    for key, column in values.items():
        # [1, 0] as scipy.stats.spearmanr takes it: the same rounding, so the same bits
        rho = (float(np.corrcoef(_ranks(column), ranked)[1, 0]) if np.ptp(p_j) > 0 and np.ptp(column) > 0
               else 0.0)
        found.append({"entry": key, "rank_correlation": rho if math.isfinite(rho) else 0.0})
    if views is not None:
        total = float(((p_j - p_j.mean()) ** 2).sum())
        between = sum(float((views == v).sum()) * (float(p_j[views == v].mean()) - float(p_j.mean())) ** 2
                      for v in np.unique(views))
        eta = math.sqrt(between / total) if total > 0 else 0.0
        found.append({"entry": "views", "rank_correlation": eta,
                      "by_view": {names[int(v)]: float(p_j[views == v].mean()) for v in np.unique(views)}})
    # sampling error of a rank correlation over M calibrations (Fisher, at rho = 0): an entry whose |rho|
    # is below 2 se may be moving P_j by chance alone
    se = 1.0 / math.sqrt(max(len(p_j) - 3, 1))
    for row in found:
        row["share"] = row["rank_correlation"] ** 2
        row["se"] = se
        row["clear"] = abs(row["rank_correlation"]) >= 2 * se
    return sorted(found, key=lambda row: -abs(row["rank_correlation"]))


def _ranks(values: np.ndarray) -> np.ndarray:
    """Ranks 1..n with ties averaged (as ``scipy.stats.rankdata``; Spearman's rho is Pearson's on them).

    numpy only: importing scipy.stats took 0.4 s of a judged run's start-up.
    """
    values = np.asarray(values, dtype=float)
    ranks = np.empty(values.size)
    ranks[np.argsort(values, kind="mergesort")] = np.arange(1, values.size + 1)
    _, inverse, counts = np.unique(values, return_inverse=True, return_counts=True)
    return (np.bincount(inverse, weights=ranks) / counts)[inverse]


def grade_range(band: dict, gap_share: float) -> list[str]:
    """The grade at both ends of the judgement band."""
    return [grade(band["5"], gap_share), grade(band["95"], gap_share)]


def check_options(sampler, targets, calibrations) -> None:
    """Refuse the options a two-level run cannot honour (another sampler, a target error)."""
    if sampler != "mc":
        raise InputError(f"the judgement band runs plain Monte Carlo draws, not {sampler}", source="sampler",
                         allowed="sampler mc, or judgement=False (--no-judgement) for the central calibration")
    if targets:
        raise InputError("a target error does not apply to the judgement band: its width does not shrink "
                         "with draws", source="target_mcse",
                         allowed="more draws or calibrations, or judgement=False (--no-judgement)")


def run(loaded, compiled, *, draws, seed, chunk_size, calibrations, executor, progress):
    """``calibrations`` calibrations x ``ceil(draws / calibrations)`` draws (``risk.judgement``)."""
    judged, calibrated, values, views = prepare(loaded, compiled, calibrations, seed)
    inner = -(-draws // calibrations)
    # inner draws per chunk: a chunk runs every calibration on them, so about chunk_size model runs
    inner_chunk = max(k.LANES, chunk_size // calibrations)
    accumulators = engine.run(judged, draws=inner, seed=seed, chunk_size=inner_chunk, calibrations=calibrated,
                              executor=executor, progress=progress)
    return accumulators, {"values": values, "views": views, "inner_chunk": inner_chunk, "inner": inner,
                          "compiled": judged, "calibrations": calibrated}


def summarise(loaded, accumulators, found, entities) -> dict:
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
        shortfall = probability(accumulators.cal_counts[:, e, k.J_SHORTFALL],
                                        int(accumulators.y_sums[e, k.J_SHORTFALL]), accumulators.draws)
        default = probability(accumulators.cal_counts[:, e, k.J_DEFAULT],
                                      int(accumulators.y_sums[e, k.J_DEFAULT]), accumulators.draws)
        stats = entities[name]
        stats.p_shortfall = {key: shortfall[key] for key in ("p", "mcse", "ci95")}
        stats.p_default = {key: default[key] for key in ("p", "mcse", "ci95")}
        stats.p_shortfall_judgement = shortfall["band"]
        stats.p_default_judgement = default["band"]
        stats.judgement_share = shortfall["share"]
        stats.grade = grade(shortfall["p"], stats.gap_share)
        stats.grade_range = grade_range(shortfall["band"], stats.gap_share)
        summary["entities"][name] = {
            "p_shortfall": shortfall["per_calibration"], "p_default": default["per_calibration"],
            "p_shortfall_mcse_between": shortfall["mcse_between"],
            "p_shortfall_mcse_within": shortfall["mcse_within"],
            "drivers": drivers(shortfall["per_calibration"], found["values"], found["views"], names)}
    return summary
