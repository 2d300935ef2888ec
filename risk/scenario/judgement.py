"""The ``[judgement]`` table of a scenario: hyper-priors over what the evidence does not pin down.

A scenario's priors say how a quantity varies given a calibration; the
``[judgement]`` table says how unsure we are of the calibration itself
(``design/model.md``, "Judgement uncertainty: two levels").  Two forms:

**Entries**: a key path, as in ``--set`` (``*`` matches every name at its
level), and a hyper-prior over the value that key takes::

    [judgement]
    "companies.*.price_decline.p50" = {dist = "normal", p5 = -0.10, p95 = 0.10, source = "..."}
    "companies.*.contracts.*.capex_per_gw" = {op = "scale", dist = "lognormal", p5 = 0.8, p95 = 1.25,
                                               source = "..."}

``op`` is ``set`` (default: the key takes the drawn value), ``scale`` (the
key, a prior as a random variable or a number, is multiplied by the drawn
factor) or ``shift`` (the drawn amount is added).  One draw of an entry
applies to every key its pattern matches: a wildcard entry is one judgement
shared by all of them.

**Views**: named, weighted sets of overrides, a discrete hyper-prior::

    [judgement.views.optimist]
    weight = 0.3
    source = "..."
    set = {"companies.*.growth_terminal.p50" = 0.12}
    scale = {"companies.*.revenue_per_gw" = 1.2}

A calibration applies one view (drawn by weight), then every entry, in the
file's order.  Every entry and view needs a ``source`` (a citation, or
"judgement" with the reasoning).  The file's own values are the *central*
calibration (``--no-judgement``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from ..errors import InputError
from .distributions import Prior, parse_prior
from .overrides import OPERATIONS, Override, _operand

ENTRY_KEYS = ("op", "source", "note")
VIEW_KEYS = ("weight", "source", "note") + OPERATIONS
VALIDATION_LEVELS = (0.001, 0.5, 0.999)  # each entry is tried at these quantiles when the file is read


@dataclass(frozen=True)
class Entry:
    """One hyper-prior: ``op`` of the keys matching ``key`` by a value drawn from ``prior``."""

    key: str
    op: str
    prior: Prior
    source: str

    def overrides(self, value: float, origin: str) -> list[Override]:
        """The overrides of this entry at the drawn ``value``."""
        return [Override(self.op, self.key, float(value), origin)]

    def to_dict(self) -> dict:
        p5, p50, p95 = (float(v) for v in self.prior.ppf([0.05, 0.5, 0.95]))
        return {"key": self.key, "op": self.op, "dist": self.prior.family, "p5": p5, "p50": p50, "p95": p95,
                "source": self.source}


@dataclass(frozen=True)
class View:
    """A named set of overrides with a weight (weights are normalised over the views)."""

    name: str
    weight: float
    source: str
    changes: tuple

    def to_dict(self) -> dict:
        return {"name": self.name, "weight": self.weight, "source": self.source,
                "changes": [o.describe() for o in self.changes]}


@dataclass(frozen=True)
class Judgement:
    """The entries and views of a ``[judgement]`` table."""

    entries: tuple
    views: tuple = ()

    @property
    def labels(self) -> list[str]:
        """What a calibration draws: each entry's key (and ``views`` when there are views)."""
        return [e.key for e in self.entries] + (["views"] if self.views else [])

    def to_dict(self) -> dict:
        return {"entries": [e.to_dict() for e in self.entries], "views": [v.to_dict() for v in self.views]}


def parse_judgement(raw, *, source: str) -> Judgement:
    """Validate the structure of a ``[judgement]`` table (see the module docstring).

    That each key matches the scenario and gives a valid scenario at the
    hyper-prior's extremes is checked by :func:`check_against`.
    """
    if not isinstance(raw, dict) or not raw:
        raise InputError("expected a table of hyper-priors", source=source, key="judgement",
                         allowed='"companies.*.price_decline.p50" = {dist = "normal", p5 = -0.1, p95 = 0.1, '
                                 'source = "..."}, or [judgement.views.NAME]')
    entries, views = [], []
    for key, value in raw.items():
        where = f"judgement.{key}" if key == "views" else f'judgement."{key}"'
        if key == "views":
            views = _views(value, source)
            continue
        if not isinstance(value, dict):
            raise InputError("expected an inline table: a hyper-prior with its source", source=source, key=where,
                             allowed='{dist = "normal", p5 = ..., p95 = ..., source = "..."}')
        op = value.get("op", "set")
        if op not in OPERATIONS:
            raise InputError(f"unknown op {op!r}", source=source, key=f"{where}.op", allowed="set, scale or shift")
        text = _source(value, source, where)
        prior = parse_prior({k: v for k, v in value.items() if k not in ENTRY_KEYS}, key=where, source=source)
        if prior.is_fixed():
            raise InputError("a fixed hyper-prior is no judgement", source=source, key=where,
                             allowed="a distribution; to fix the value, write it in the scenario itself")
        if op == "scale" and not prior.support()[0] >= 0:
            raise InputError("a scale factor's hyper-prior must be positive", source=source, key=where,
                             allowed="a lognormal (or another positive family) over the factor")
        entries.append(Entry(key, op, prior, text))
    if not entries and not views:
        raise InputError("no entries and no views", source=source, key="judgement",
                         allowed="at least one hyper-prior or view")
    return Judgement(tuple(entries), tuple(views))


def _source(value: dict, source: str, where: str) -> str:
    text = value.get("source")
    if not isinstance(text, str) or not text.strip():
        raise InputError("missing source", source=source, key=f"{where}.source",
                         allowed='a citation, or "judgement: <the reasoning>"')
    return text.strip()


def _views(raw, source) -> list[View]:
    if not isinstance(raw, dict) or len(raw) < 2:
        raise InputError("expected at least two named views", source=source, key="judgement.views",
                         allowed="[judgement.views.NAME] tables with weight, source and set/scale/shift")
    views = []
    for name, table in raw.items():
        where = f"judgement.views.{name}"
        if not isinstance(table, dict):
            raise InputError("expected a table", source=source, key=where, allowed="weight, source, set/scale/shift")
        unknown = sorted(set(table) - set(VIEW_KEYS))
        if unknown:
            raise InputError(f"unknown key {unknown[0]!r}", source=source, key=f"{where}.{unknown[0]}",
                             allowed=", ".join(VIEW_KEYS))
        weight = table.get("weight")
        if isinstance(weight, bool) or not isinstance(weight, (int, float)) or not (math.isfinite(weight)
                                                                                    and weight > 0):
            raise InputError(f"{weight!r} is not a weight", source=source, key=f"{where}.weight",
                             allowed="a number > 0 (weights are normalised over the views)")
        text = _source(table, source, where)
        changes = []
        for op in OPERATIONS:
            block = table.get(op, {})
            if not isinstance(block, dict):
                raise InputError("expected an inline table", source=source, key=f"{where}.{op}",
                                 allowed=f'{op} = {{"companies.*.growth_terminal.p50" = ...}}')
            for path, value in block.items():
                if op != "set":
                    value = _operand(op, value, source, f"{where}.{op}.{path}")
                changes.append(Override(op, path, value, f"{source} [{where}] {op} {path}"))
        views.append(View(name, float(weight), text, tuple(changes)))
    total = sum(v.weight for v in views)
    return [View(v.name, v.weight / total, v.source, v.changes) for v in views]


def calibration_overrides(judgement: Judgement, values: dict, view: int | None, origin: str) -> list[Override]:
    """The overrides of one calibration: its view's, then every entry at its drawn value (``values[key]``)."""
    found = list(judgement.views[view].changes) if view is not None else []
    for entry in judgement.entries:
        found.extend(entry.overrides(values[entry.key], origin))
    return found


def check_against(judgement: Judgement, build, *, source: str) -> None:
    """Try every entry at its hyper-prior's 0.1 %, 50 % and 99.9 % points, and every view, on the scenario.

    ``build(overrides)`` applies overrides to the scenario document and
    validates the result (``schema``), raising ``InputError``; an error is
    re-raised naming the judgement entry and the value that broke it.
    """
    trials = []
    for entry in judgement.entries:
        for level, value in zip(VALIDATION_LEVELS, entry.prior.ppf(list(VALIDATION_LEVELS))):
            trials.append((f'judgement."{entry.key}" at its {level:.1%} point ({value:.4g})',
                           entry.overrides(value, f'judgement."{entry.key}"')))
    for view in judgement.views:
        trials.append((f"judgement.views.{view.name}", list(view.changes)))
    for where, overrides in trials:
        try:
            build(overrides)
        except InputError as err:
            at = f" at '{err.key}'" if err.key else ""
            raise InputError(f"{where} gives an invalid scenario{at}: {err.problem}", source=source, key=where,
                             allowed="a hyper-prior whose range keeps every matched key valid"
                                     + (f" ({err.allowed})" if err.allowed else "")) from None
