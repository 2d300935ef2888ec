"""Backtest a vintage: how probable did it find what was reported after its ``as_of`` date?

``design/model.md`` ("Checks the model must pass"): a vintage's prior
predictive gives each later observation a quantile, its PIT

    PIT = P(observed value <= y) = mean over draws of Phi((log y - log m_d) / sigma),

where ``m_d`` is the draw's own modelled value at the observation's date
(``kernels.observe.model_at``: the run-rate path for annualized revenue, GW
in service for capacity) and ``sigma`` the observation's measurement error
(``rel_error``, lognormal), so the PIT of a number drawn from the vintage
itself is uniform.  With a ``[judgement]`` table the predictive is the
mixture over calibrations (``risk.judgement``), as the vintage's headline is.
The log score is the log of the predictive density of ``log y``.  An
observation beyond the predictive's 0.5 % or 99.5 % point marks the vintage
as overconfident: it gave what happened less than a 1-in-100 chance.
Observations dated on or before ``as_of`` were known when the vintage was
made: they are listed as excluded, not scored.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from . import engine
from . import judgement as judging
from .checks import check_draws, check_seed, check_threads, executor_for, resolve_scenario
from .kernels import observe as ko
from .scenario.compile import compile_scenario
from .scenario.observations import load_observations, observation_array, split_at_as_of

TAIL = 0.005  # beyond the 0.5 % or 99.5 % point: overconfident
BAND = 0.05  # the 90 % band


@dataclass
class Backtest:
    """Scores of a vintage against the observations after its ``as_of`` date."""

    scenario: object
    observations: str
    draws: int
    seed: int
    calibrations: int | None
    scored: list = field(default_factory=list)
    excluded: list = field(default_factory=list)
    wall_seconds: float = 0.0

    @property
    def overconfident(self) -> bool:
        """True when an observation lies beyond the predictive's 0.5 % or 99.5 % point."""
        return any(row["tail"] for row in self.scored)

    def summary(self) -> dict:
        """One line per vintage: how many observations scored, inside the 90 % band, in the tails."""
        scores = [row["log_score"] for row in self.scored if row["log_score"] is not None]
        return {"vintage": self.scenario.name, "as_of": self.scenario.as_of, "scored": len(self.scored),
                "in_band_90": sum(row["in_band_90"] for row in self.scored),
                "tail": sum(row["tail"] for row in self.scored),
                "mean_log_score": float(np.mean(scores)) if scores else None,
                "verdict": ("overconfident" if self.overconfident else "consistent") if self.scored
                else "nothing to score"}

    def to_dict(self) -> dict:
        """JSON-ready (``risk.backtest/1``)."""
        return {"schema": "risk.backtest/1", "scenario": self.scenario.name, "as_of": self.scenario.as_of,
                "observations": self.observations, "draws": self.draws, "seed": self.seed,
                "calibrations": self.calibrations, "summary": self.summary(), "scored": self.scored,
                "excluded": self.excluded, "wall_seconds": self.wall_seconds}

    def __repr__(self) -> str:
        line = self.summary()
        text = [f"<risk.Backtest {line['vintage']} (as of {line['as_of']}): {line['verdict']}; "
                f"{line['scored']} scored, {line['in_band_90']} in the 90 % band, {line['tail']} beyond 0.5 %>"]
        for row in self.scored:
            text.append(f"  {row['company']:<10} {row['date']} {row['quantity']:<18} {row['value']:>8g}  "
                        f"PIT {row['pit']:.4f} ± {row['pit_mcse']:.4f}{'  TAIL' if row['tail'] else ''}")
        return "\n".join(text)


def backtest(scenario=None, *, observations: str | Path = "default", draws: int = 200_000,
             seed: int | None = None, threads: int | None = None, judgement: bool = True,
             calibrations: int | None = None, client=None) -> Backtest:
    """Score a vintage's prior predictive against every observation dated after its ``as_of``.

    Parameters
    ----------
    scenario : str, pathlib.Path or Scenario, optional
        The vintage (default: the embedded default).
    observations : str or pathlib.Path, default "default"
        An observations CSV (``risk.scenario.observations``); ``"default"`` is
        the shipped ``priors/observations.csv``.
    draws : int, default 200_000
        Draws of the predictive (all calibrations together).
    seed : int, optional
        None draws one (recorded).
    threads : int, optional
    judgement : bool, default True
        With the scenario's ``[judgement]``: the predictive is the mixture
        over ``calibrations`` calibrations; False scores the central calibration.
    calibrations : int, optional
        Default 64.
    client : distributed.Client, optional
        Run on a Dask cluster (the same numbers).

    Returns
    -------
    Backtest
        Per observation: its PIT with Monte Carlo error, log score, whether
        it lies in the 90 % band and whether beyond the 0.5 % / 99.5 % points.

    Examples
    --------
    >>> import risk
    >>> risk.backtest("article-2025", seed=1)  # doctest: +SKIP
    """
    draws = check_draws(draws)
    seed = check_seed(seed)
    threads = check_threads(threads)
    loaded = resolve_scenario(scenario)
    found = load_observations(observations, loaded)
    later, known = split_at_as_of(found, loaded)
    result = Backtest(scenario=loaded, observations=str(observations), draws=draws, seed=seed, calibrations=None)
    result.excluded = [dict(o.to_dict(), reason=f"dated on or before the vintage's as_of ({loaded.as_of}): "
                                                "known when the vintage was made") for o in known]
    if not later:
        return result
    start = time.perf_counter()
    compiled = compile_scenario(loaded)
    executor = executor_for(threads, client)
    rows = observation_array(later, loaded)
    calibrated, inner = None, draws
    if judgement and loaded.judgement is not None:
        m = calibrations or judging.DEFAULT_CALIBRATIONS
        compiled, calibrated, _, _ = judging.prepare(loaded, compiled, m, seed)
        inner = -(-draws // m)
        result.calibrations = m
    chunk = max(64, engine.DEFAULT_CHUNK_SIZE // (result.calibrations or 1))
    _, sums = engine.run_pass(engine.PredictPass(compiled, seed, inner, rows, calibrated, chunk), executor=executor)
    runs = inner * (result.calibrations or 1)
    result.draws = runs
    for o, row in zip(later, sums):
        pit_j = row[:, ko.P_CDF] / inner  # each calibration's PIT
        pit = float(pit_j.mean())
        # two levels (risk.judgement): between calibrations, and within (bounded by the mean of the
        # calibrations' own variances, since the draws are shared)
        between = float(pit_j.var(ddof=1)) / len(pit_j) if len(pit_j) > 1 else 0.0
        within = float(np.mean(np.maximum(row[:, ko.P_CDF_SQ] / inner - pit_j ** 2, 0.0))) / inner
        pit_mcse = math.sqrt(between + within)
        density = float(row[:, ko.P_DENSITY].sum()) / runs
        result.scored.append(dict(o.to_dict(), pit=pit, pit_mcse=pit_mcse,
                                  pit_judgement=judging.band_of(pit_j) if len(pit_j) > 1 else None,
                                  log_score=math.log(density) if density > 0 else None,
                                  in_band_90=bool(BAND <= pit <= 1 - BAND),
                                  tail=bool(pit < TAIL or pit > 1 - TAIL)))
    result.wall_seconds = time.perf_counter() - start
    return result


__all__ = ["Backtest", "backtest"]
