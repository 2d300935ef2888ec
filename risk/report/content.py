"""The numbers of a report, computed once and shared by the PDF and its JSON sidecar."""

from __future__ import annotations

import datetime as dt
import time

from .. import api
from ..checks import resolve_scenario
from ..errors import InputError
from ..paired import compare_stresses
from ..scenario.common import reject_unknown
from ..scenario.overrides import load_overlay
from ..sensitivity import sensitivity
from . import history
from .definition import ReportDefinition

ENTITY_WORD = {"sector": "The sector (all labs together)"}


def check(definition: ReportDefinition) -> None:
    """What ``compute`` will need, checked before any work: the scenario, its overlays, the driver entities.

    Raises
    ------
    risk.errors.InputError
        Naming the definition file and its key.
    """
    try:
        scenario = resolve_scenario(definition.scenario)
        for overlay in definition.stress:
            load_overlay(overlay)
    except InputError as err:
        raise InputError(f"{err.message}", source=definition.source,
                         key="stress" if "overlay" in err.problem else "scenario",
                         allowed="a scenario and overlays that validate (`risk validate FILE`)") from None
    for entity in definition.driver_entities or ():
        if entity not in scenario.entities:
            reject_unknown([entity], scenario.entities, key="drivers.entities", source=definition.source,
                           what="entity")


def compute(definition: ReportDefinition, *, day: dt.date, draws: int | None = None,
            driver_draws: int | None = None, progress=None) -> tuple[dict, object, dict]:
    """Simulate, compare the stress overlays and rank the drivers for one report.

    Returns
    -------
    (data, result, sensitivities)
        ``data`` is the JSON-ready content (``schema: risk.report/1``), ``result``
        the :class:`risk.Result` of the scenario and ``sensitivities`` the
        :class:`risk.Sensitivity` per driver entity (for the charts).
    """
    start = time.perf_counter()
    draws = draws or definition.draws
    seed = definition.seed_for(day)
    sections = set(definition.sections)
    result = api.simulate(definition.scenario, draws=draws, seed=seed, by_provider="providers" in sections)
    result_dict = result.to_dict()
    stress_rows = []
    if "stress" in sections:
        comparisons = compare_stresses(definition.scenario, definition.stress, draws=draws, seed=seed)
        for overlay, comparison in comparisons.items():
            stress_rows.append({
                "overlay": overlay,
                "entities": {d.entity: {"a": d.a, "b": d.b, "difference": d.difference, "se": d.se,
                                        "distinguishable": d.distinguishable}
                             for d in comparison.differences if d.metric == "p_shortfall"}})
    sensitivities = {}
    if "drivers" in sections:
        entities = definition.driver_entities or tuple(c.name for c in result.scenario.companies)
        n = driver_draws or definition.driver_draws
        for entity in entities:
            sensitivities[entity] = sensitivity(definition.scenario, entity=entity, draws=n,
                                                sobol_draws=max(100, n // 10), seed=seed, bootstrap=50)
    runs = history.previous_runs(definition.history, definition.name, day.isoformat())
    last = runs[-1] if runs else None
    changes = history.changes_since(last, result_dict)
    trend = [{"day": run["day"], "entity": name, "p_shortfall": row["p_shortfall"],
              "p_shortfall_mcse": row["p_shortfall_mcse"]}
             for run in runs for name, row in run["entities"].items()]
    drivers = {entity: [{"prior": b.prior, "p_shortfall_low": b.p_shortfall_low,
                         "p_shortfall_high": b.p_shortfall_high, "swing": b.p_shortfall_swing,
                         "swing_se": b.p_shortfall_swing_se} for b in found.tornado[:8]]
               for entity, found in sensitivities.items()}
    data = {
        "schema": "risk.report/1", "report": definition.name, "title": definition.title,
        "date": day.isoformat(), "seed": seed, "draws": result.draws, "definition": definition.source,
        "result": result_dict, "stress": stress_rows, "drivers": drivers,
        "history": {"trend": trend, "changes": changes, "previous_day": last["day"] if last else None},
        "summary": summary_sentences(result_dict, stress_rows, drivers, changes,
                                     labels={c.name: c.label for c in result.scenario.companies}),
        "seconds": time.perf_counter() - start,
    }
    return data, result, sensitivities


def percent(value: float, digits: int = 1) -> str:
    """A probability as a percentage with ``digits`` decimals."""
    return f"{100 * value:.{digits}f} %"


def summary_sentences(result: dict, stress_rows: list, drivers: dict, changes: list,
                      labels: dict | None = None) -> list[str]:
    """The executive summary: plain sentences generated from the numbers."""
    entities = dict(result["companies"], sector=result["sector"])
    labels = dict(labels or {}, **ENTITY_WORD)
    sentences = []
    for name, stats in entities.items():
        low, high = stats["p_shortfall_ci95"]
        label = labels.get(name, name)
        band = stats.get("p_shortfall_judgement")
        how_sure = (f"(judgement band {percent(band['5'], 0)} to {percent(band['95'], 0)} across calibrations; "
                    f"Monte Carlo ± {percent(stats['p_shortfall_mcse'], 1)})" if band else
                    f"(± {percent(stats['p_shortfall_mcse'], 2)}; 95 % interval {percent(low, 2)} to "
                    f"{percent(high, 2)})")
        sentences.append(
            f"{label}: discounted earnings fall short of the discounted compute commitments in "
            f"{percent(stats['p_shortfall'])} of draws {how_sure}. The expected funding gap is "
            f"{stats['funding_gap_mean']:,.1f} $B ({percent(stats['funding_gap_share'])} of the commitments); "
            f"{'at least one lab' if name == 'sector' else 'it'} runs out of cash after raising what the "
            f"funding market allows in {percent(stats['p_default'])} "
            f"of draws (± {percent(stats['p_default_mcse'], 2)}), raising {stats['new_money_mean']:,.1f} $B of "
            f"new money on average; bubble-risk grade: {stats['grade']}.")
    for entity, bars in drivers.items():
        if bars:
            top = bars[0]
            where = " at the central calibration" if result.get("judgement") else ""
            sentences.append(
                f"For {entity}{where}, the prior that moves P(shortfall) most is {top['prior'].split('.', 2)[-1]}: "
                f"from {percent(top['p_shortfall_low'])} at its 10th percentile to "
                f"{percent(top['p_shortfall_high'])} at its 90th.")
    worst = None
    for row in stress_rows:
        sector = row["entities"].get("sector")
        if sector and (worst is None or sector["difference"] > worst[1]["difference"]):
            worst = (row["overlay"], sector)
    if worst:
        overlay, sector = worst
        verdict = "beyond" if sector["distinguishable"] else "within"
        where = " at the central calibration" if result.get("judgement") else ""
        sentences.append(f"Of the stress overlays{where}, {overlay} moves the sector's P(shortfall) most: "
                         f"{sector['difference']:+.4f} ± {sector['se']:.4f} ({verdict} Monte Carlo noise).")
    moved = [c for c in changes if c["metric"] == "p_shortfall" and c["larger_than_noise"]]
    if changes:
        if moved:
            parts = ", ".join(f"{c['entity']} {c['difference']:+.4f}" for c in moved)
            sentences.append(f"Since the report of {changes[0]['previous_day']}, P(shortfall) changed by more than "
                             f"its Monte Carlo error for: {parts}.")
        else:
            sentences.append(f"Since the report of {changes[0]['previous_day']}, no P(shortfall) changed by more "
                             f"than its Monte Carlo error.")
    return sentences
