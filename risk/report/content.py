"""The numbers of a report, computed once and shared by the PDF and its JSON sidecar."""

from __future__ import annotations

import datetime as dt
import hashlib
import time

from .. import api, numbers
from .._version import __version__
from ..checks import resolve_scenario
from ..errors import InputError
from ..paired import compare_stresses
from ..scenario.common import embedded_path, read_input, reject_unknown
from ..scenario.observations import load_observations, split_at_as_of
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
    runs = history.previous_runs(definition.history, definition.name, day.isoformat())
    last = runs[-1] if runs else None
    seed = definition.seed_for(day, previous=last["seed"] if last else None)
    sections = set(definition.sections)
    scenario = resolve_scenario(definition.scenario)
    drivers_of = (definition.driver_entities or tuple(c.name for c in scenario.companies)
                  if "drivers" in sections else ())
    # the stages a progress display counts: the simulation, the stress table, each driver entity, rendering
    stages = 2 + (1 if "stress" in sections and definition.stress else 0) + len(drivers_of)
    done = 0

    def advance():
        nonlocal done
        done += 1
        if progress is not None:
            progress(done, stages)

    observed = _observations(definition, scenario)
    result = api.simulate(scenario, draws=draws, seed=seed, by_provider="providers" in sections,
                          observations=definition.observations if observed["after_as_of"] else None)
    result_dict = result.to_dict()
    n_drivers = driver_draws or definition.driver_draws
    inputs = inputs_of(definition, result, draws=draws, driver_draws=n_drivers)
    advance()
    stress_rows = []
    if "stress" in sections and definition.stress:
        comparisons = compare_stresses(definition.scenario, definition.stress, draws=draws, seed=seed)
        advance()
        for overlay, comparison in comparisons.items():
            stress_rows.append({
                "overlay": overlay,
                "entities": {d.entity: {"a": d.a, "b": d.b, "difference": d.difference, "se": d.se,
                                        "distinguishable": d.distinguishable}
                             for d in comparison.differences if d.metric == "p_shortfall"}})
    sensitivities = {}
    if "drivers" in sections:
        for entity in drivers_of:
            sensitivities[entity] = sensitivity(definition.scenario, entity=entity, draws=n_drivers,
                                                sobol_draws=max(100, n_drivers // 10), seed=seed, bootstrap=50)
            advance()
    changes = history.changes_since(last, result_dict)
    trend = [{"day": run["day"], "entity": name, "p_shortfall": row["p_shortfall"],
              "p_shortfall_mcse": row["p_shortfall_mcse"]}
             for run in runs for name, row in run["entities"].items()]
    drivers = {entity: [{"prior": b.prior, "p_shortfall_low": b.p_shortfall_low,
                         "p_shortfall_high": b.p_shortfall_high, "swing": b.p_shortfall_swing,
                         "swing_se": b.p_shortfall_swing_se,
                         "clear": abs(b.p_shortfall_swing) > 1.96 * b.p_shortfall_swing_se} for b in found.tornado[:8]]
               for entity, found in sensitivities.items()}
    data = {
        "schema": "risk.report/1", "report": definition.name, "title": definition.title,
        "date": day.isoformat(), "seed": seed, "draws": result.draws, "definition": definition.source,
        "result": result_dict, "stress": stress_rows, "drivers": drivers,
        "history": {"trend": trend, "changes": changes, "previous_day": last["day"] if last else None,
                    "previous_seed": last["seed"] if last else None, "family_alpha": history.FAMILY_ALPHA,
                    "tested": sum(1 for c in changes if c["metric"] != "grade"),
                    "inputs_changed": history.inputs_changed(last["inputs"], inputs) if last else None},
        "inputs": inputs,
        "observations": dict(observed, posterior=result_dict["posterior"]),
        "summary": summary_sentences(result_dict, stress_rows, drivers, changes,
                                     labels={c.name: c.label for c in result.scenario.companies}),
        "seconds": time.perf_counter() - start,
        "stages": stages,
    }
    return data, result, sensitivities


def _observations(definition: ReportDefinition, scenario) -> dict:
    """How many of the definition's observations fall after the scenario's vintage (and so may weigh it)."""
    if definition.observations is None:
        return {"file": None, "after_as_of": 0, "before_as_of": 0, "as_of": scenario.as_of}
    observed = load_observations(definition.observations, scenario)
    after, before = split_at_as_of(observed, scenario)
    return {"file": definition.observations, "after_as_of": len(after), "before_as_of": len(before),
            "as_of": scenario.as_of}


def inputs_of(definition: ReportDefinition, result, *, draws: int, driver_draws: int) -> dict:
    """Everything that sets a report's numbers but the seed: two runs with equal inputs and seed agree exactly."""
    scenario = result.scenario
    overlays = {}
    for name in definition.stress:
        overlay = load_overlay(name)
        overlays[overlay.name] = hashlib.sha256(read_input(overlay.source, what="stress overlay")).hexdigest()
    observations = None
    if definition.observations is not None:
        path = (embedded_path("observations").with_suffix(".csv") if definition.observations == "default"
                else definition.observations)
        observations = hashlib.sha256(read_input(path, what="observations file")).hexdigest()
    return {"scenario": scenario.name, "scenario_sha256": scenario.sha256, "changes": list(scenario.changes),
            "stress": overlays, "observations": observations, "draws": draws, "driver_draws": driver_draws,
            "sections": list(definition.sections), "version": __version__}


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
        label = labels.get(name, name)
        band = stats.get("p_shortfall_judgement")
        se = stats["p_shortfall_mcse"]
        how_sure = (f"(judgement band {percent(band['5'], 0)} to {percent(band['95'], 0)} across calibrations; "
                    f"Monte Carlo ± {numbers.point(se, se, percent=True)})" if band else
                    f"(± {numbers.point(se, se, percent=True)}; 95 % interval "
                    f"{numbers.interval(*stats['p_shortfall_ci95'], se, percent=True)})")
        sentences.append(
            f"{label}: discounted earnings fall short of the discounted compute commitments in "
            f"{numbers.point(stats['p_shortfall'], se, percent=True)} of draws {how_sure}. The expected funding "
            f"gap is {numbers.value(stats['funding_gap_mean'], stats['funding_gap_mean_mcse'])} $B "
            f"({percent(stats['funding_gap_share'])} of the commitments); "
            f"{'at least one lab' if name == 'sector' else 'it'} runs out of cash after raising what the "
            f"funding market allows in "
            f"{numbers.probability(stats['p_default'], stats['p_default_mcse'], interval=stats.get('p_default_ci95'), percent=True)}"
            f" of draws, raising {stats['new_money_mean']:,.1f} $B of new money on average; bubble-risk grade: "
            f"{stats['grade']}.")
    for entity, bars in drivers.items():
        where = " at the central calibration" if result.get("judgement") else ""
        clear = [bar for bar in bars if bar.get("clear", True)]
        if clear:
            top = clear[0]
            sentences.append(
                f"For {entity}{where}, the prior that moves P(shortfall) most is {top['prior'].split('.', 2)[-1]}: "
                f"from {percent(top['p_shortfall_low'])} at its 10th percentile to "
                f"{percent(top['p_shortfall_high'])} at its 90th.")
        elif bars:
            sentences.append(f"For {entity}{where}, no prior moves P(shortfall) by more than its Monte Carlo error "
                             f"at the drivers' draws: the tornado's order is noise.")
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
                         f"{numbers.difference(sector['difference'], sector['se'])} ({verdict} Monte Carlo noise).")
    moved = [c for c in changes if c["metric"] == "p_shortfall" and c["larger_than_noise"]]
    if changes:
        if moved:
            parts = ", ".join(f"{c['entity']} {numbers.difference(c['difference'], c['se'])}" for c in moved)
            sentences.append(f"Since the report of {changes[0]['previous_day']}, P(shortfall) changed beyond Monte "
                             f"Carlo noise (Holm, 5 % family-wise) for: {parts}.")
        else:
            sentences.append(f"Since the report of {changes[0]['previous_day']}, no headline number changed beyond "
                             f"Monte Carlo noise (Holm, 5 % family-wise).")
    return sentences
