"""Scenario files: TOML -> validated, frozen ``Scenario`` objects.

The format is documented in ``priors/README.md``.  Every problem is reported
with the file, the dotted key path, what is wrong and what is allowed; all
problems found in one pass are reported together.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import re
from dataclasses import dataclass
from pathlib import Path
from statistics import NormalDist

import numpy as np

from .._cache import scenario_cache_dir
from ..errors import InputError, InputErrors
from . import judgement as jm
from . import overrides as ov
from .common import embedded_path, read_input, read_stdin, reject_unknown, toml_document, unknown_keys
from .display import scenario_html, scenario_text
from .distributions import Prior, _finite, parse_prior

# Every company prior, in kernel order.  A company gives exactly one of
# ``revenue_per_gw`` (the observable) and ``yield_per_gw`` (YIELD_PRIORS);
# the priors of COMPANY_DEFAULTS may be left out.
COMPANY_PRIORS = (
    "revenue0", "growth_initial", "growth_terminal", "growth_halflife", "growth_vol",
    "opex_ratio_initial", "opex_ratio_terminal", "sbc_ratio_initial", "sbc_ratio_terminal",
    "training_share", "training_share_decay", "utilization",
    "revenue_per_gw", "yield_per_gw", "price_decline", "cash0",
)
YIELD_PRIORS = ("revenue_per_gw", "yield_per_gw")
COMPANY_DEFAULTS = {"sbc_ratio_initial": 0.0, "sbc_ratio_terminal": 0.0, "training_share_decay": 0.0}
DEFAULT_FINANCING_RATE = 0.0  # a file without it: owned hardware at capex / life
# The funding market (design/model.md "Funding market"): scenario-level priors of [funding_market].
FUNDING_PRIORS = ("p_close", "p_reopen", "growth_hurdle", "raise_multiple")
PER_YEAR_PRIORS = ("utilization",)
LEASE_PRIORS = ("lease_per_gw_year",)
OWNED_PRIORS = ("capex_per_gw", "life_years", "power_price", "pue")
CONTRACT_PRIORS = ("ramp_delay", "delivered_fraction") + LEASE_PRIORS + OWNED_PRIORS
CONTRACT_DEFAULTS = {"ramp_delay": 0.0, "delivered_fraction": 1.0}

# Values each prior may take: (lowest, highest, lowest excluded, highest excluded).
DOMAINS = {
    "revenue0": (0.0, math.inf, False, True, "$B, >= 0"),
    "growth_initial": (-1.0, math.inf, True, True, "> -1 (a growth rate: 1.5 = +150 %)"),
    "growth_terminal": (-1.0, math.inf, True, True, "> -1 (a growth rate)"),
    "growth_halflife": (0.0, math.inf, True, True, "years, > 0"),
    "growth_vol": (0.0, math.inf, False, True, ">= 0"),
    "opex_ratio_initial": (0.0, math.inf, False, True, "a share of revenue, >= 0"),
    "opex_ratio_terminal": (0.0, math.inf, False, True, "a share of revenue, >= 0"),
    "training_share": (0.0, 1.0, False, False, "a share in [0, 1]"),
    "utilization": (0.0, 1.0, False, False, "a share in [0, 1]"),
    "yield_per_gw": (0.0, math.inf, False, True, "$B per GW-year, >= 0"),
    "revenue_per_gw": (0.0, math.inf, False, True, "$B per GW-year of total capacity online, >= 0"),
    "sbc_ratio_initial": (0.0, math.inf, False, True, "a share of revenue, >= 0"),
    "sbc_ratio_terminal": (0.0, math.inf, False, True, "a share of revenue, >= 0"),
    "training_share_decay": (0.0, 1.0, False, False, "a yearly rate in [0, 1]"),
    "financing_rate": (-1.0, math.inf, True, True, "a yearly rate > -1"),
    "p_close": (0.0, 1.0, False, False, "a probability in [0, 1]"),
    "p_reopen": (0.0, 1.0, False, False, "a probability in [0, 1]"),
    "growth_hurdle": (-1.0, math.inf, False, True, "a yearly growth rate >= -1 (0.2 = +20 %)"),
    "raise_multiple": (0.0, math.inf, False, True, "a multiple of the run-rate, >= 0"),
    "price_decline": (-math.inf, 1.0, True, True, "a yearly rate < 1"),
    "cash0": (-math.inf, math.inf, True, True, "$B"),
    "discount_rate": (-1.0, math.inf, True, True, "a yearly rate > -1"),
    "ramp_delay": (0.0, math.inf, False, True, "years, >= 0"),
    "delivered_fraction": (0.0, 1.0, False, False, "a share in [0, 1]"),
    "lease_per_gw_year": (0.0, math.inf, False, True, "$B per GW-year, >= 0"),
    "capex_per_gw": (0.0, math.inf, False, True, "$B per GW, >= 0"),
    "life_years": (0.0, math.inf, True, True, "years, > 0"),
    "power_price": (0.0, math.inf, False, True, "$/MWh, >= 0"),
    "pue": (1.0, math.inf, False, True, ">= 1"),
    "amount": (0.0, math.inf, False, True, "$B >= 0 (an investment)"),
}
TOP_KEYS = ("name", "description", "as_of", "start_year", "horizon", "discount_rate", "financing_rate",
            "equity_recovery", "demand_correlation", "funding_market", "companies", "correlation", "judgement",
            "sources")
# a reference a prior's source text makes to the file's [sources] table: "§1A", "§6"
SOURCE_REFERENCE = re.compile(r"§\d+[A-Z]?")
FUNDING_KEYS = FUNDING_PRIORS + ("note",)
COMPANY_KEYS = COMPANY_PRIORS + ("label", "contracts", "investments")
CONTRACT_KEYS = ("kind", "provider", "capacity_gw", "note", "binding_gw", "notice_years") + CONTRACT_PRIORS
INVESTMENT_KEYS = ("investor", "amount", "timing", "contract", "note")
TIMINGS = ("past", "upfront", "per_gw")
DEFAULT_EQUITY_RECOVERY = 0.2
MAX_HORIZON = 50


@dataclass(frozen=True)
class Contract:
    """One compute contract of a company (``kind`` is ``lease`` or ``owned``).

    ``binding_gw``: GW of the ramp that cannot be cancelled (default: all);
    the rest can be cancelled, effective ``notice_years`` after the decision.
    """

    name: str
    kind: str
    provider: str
    capacity_gw: tuple
    priors: dict
    binding_gw: float = math.inf
    notice_years: float = 0.0


@dataclass(frozen=True)
class Investment:
    """Money an investor puts into a lab: ``past`` (already in cash0), ``upfront`` or ``per_gw`` of a contract."""

    investor: str
    amount: Prior
    timing: str
    contract: str = ""


@dataclass(frozen=True)
class Company:
    """One lab: its priors and its contracts."""

    name: str
    label: str
    priors: dict
    contracts: tuple
    investments: tuple = ()


@dataclass(frozen=True)
class Scenario:
    """A validated scenario (see ``priors/README.md`` for the format).

    Attributes
    ----------
    name, description, as_of : str
        Labels.
    start_year, horizon : int
        Years ``start_year .. start_year + horizon - 1`` are simulated.
    discount_rate : Prior
        Yearly discount rate ``r`` (``v = 1 / (1 + r)``).
    financing_rate : Prior
        Yearly rate at which owned hardware is financed (the annuity of
        ``design/model.md``; fixed 0 when the file leaves it out: capex / life).
    funding_market : dict or None
        ``{name: Prior}`` of ``FUNDING_PRIORS``, or None: no funding market,
        so a lab never raises new money (``p_default`` equals ``p_distress``).
    demand_correlation : float
        Share of each company's growth-shock variance from the common
        demand factor: the correlation of any two companies' shocks.
    companies : tuple of Company
    correlation : tuple or None
        ``(prior paths, matrix)`` of the optional Gaussian copula.
    source : str
        Where it was read from.
    sha256 : str
        Hash of the file's bytes (provenance).
    changes : tuple of str
        Stress overlays and overrides applied on top of the file, in order
        (provenance; empty for the file as it is).
    judgement : Judgement or None
        The ``[judgement]`` table: hyper-priors over the calibration
        (``risk.scenario.judgement``), or None.
    sources : dict
        The ``[sources]`` table: what a reference such as ``§1A`` in a
        prior's source stands for (the primary sources, with their dates).
    document : dict
        The validated TOML document (after overrides), each prior in it the
        ``Prior`` it was parsed into: what further changes (``with_changes``)
        and a calibration's overrides (without its ``[judgement]``,
        :func:`core_document`) apply to, so a prior is parsed once.
    """

    name: str
    description: str
    as_of: str
    start_year: int
    horizon: int
    discount_rate: Prior
    demand_correlation: float
    companies: tuple
    correlation: tuple | None
    source: str
    sha256: str
    changes: tuple = ()
    equity_recovery: float = DEFAULT_EQUITY_RECOVERY
    financing_rate: Prior | None = None
    funding_market: dict | None = None
    judgement: jm.Judgement | None = None
    sources: dict = dataclasses.field(default_factory=dict)
    document: dict | None = dataclasses.field(default=None, repr=False, compare=False)

    @property
    def years(self) -> list[int]:
        """Calendar labels of the simulated years."""
        return list(range(self.start_year, self.start_year + self.horizon))

    @property
    def entities(self) -> list[str]:
        """Company names, then ``"sector"``."""
        return [c.name for c in self.companies] + ["sector"]

    def __repr__(self) -> str:
        return scenario_text(self)

    def _repr_html_(self) -> str:
        return scenario_html(self)

    def priors(self):
        """Yield ``(dotted path, Prior)`` for every prior of the scenario."""
        yield "discount_rate", self.discount_rate
        yield "financing_rate", self.financing_rate
        for name in FUNDING_PRIORS if self.funding_market else ():
            yield f"funding_market.{name}", self.funding_market[name]
        for company in self.companies:
            for name in COMPANY_PRIORS:
                if name in company.priors:
                    yield f"companies.{company.name}.{name}", company.priors[name]
            for contract in company.contracts:
                for name, prior in contract.priors.items():
                    yield f"companies.{company.name}.contracts.{contract.name}.{name}", prior
            for i, investment in enumerate(company.investments):
                yield f"companies.{company.name}.investments[{i}].amount", investment.amount


EMBEDDED = ("default", "article-2025")


def resolve(scenario: str | Path | None) -> Path:
    """Turn a scenario argument (None, an embedded name or a path) into a file path."""
    if scenario is None:
        return embedded_path("default")
    text = str(scenario)
    if text in EMBEDDED:
        return embedded_path(text)
    path = Path(text)
    if not path.is_file():
        raise InputError("no such scenario file", source=text,
                         allowed=f"a TOML file, or an embedded scenario: {', '.join(EMBEDDED)}")
    return path


def load_scenario(scenario: str | Path | None = None, *, overrides=None, stress=None) -> Scenario:
    """Read and validate a scenario, with optional stress overlays and overrides on top.

    Parameters
    ----------
    scenario : str or pathlib.Path, optional
        A TOML file, the name of an embedded scenario (``"default"``,
        ``"article-2025"``), or ``"-"``: TOML read from standard input.
        Default: the embedded default.
    overrides : dict or sequence of Override, optional
        ``{key path: value | Scale(factor) | Shift(delta)}`` (see
        ``risk.scenario.overrides``), applied after the overlays.
    stress : str or sequence of str, optional
        Stress overlays, by embedded name (``"capex-overrun"``) or file path,
        applied in order.

    Returns
    -------
    Scenario

    Raises
    ------
    risk.errors.InputError
        Naming the file (or the override), the key, the problem and what is allowed.
    """
    if str(scenario) == "-":  # the scenario on standard input (a pipe from a generator script, say)
        data, source = read_stdin(what="scenario"), "<stdin>"
    else:
        path = resolve(scenario)
        data, source = read_input(path, what="scenario"), str(path)
    doc = toml_document(data, source=source)
    return _changed(doc, source=source, sha256=hashlib.sha256(data).hexdigest(), earlier=(),
                    overrides=overrides, stress=stress)


def with_changes(scenario: Scenario, *, overrides=None, stress=None) -> Scenario:
    """``scenario`` (already loaded) with stress overlays and overrides on top, as :func:`load_scenario` does.

    Works on the scenario's validated document, so a ``Scenario`` object
    takes the same changes as its file; its earlier changes stay in ``changes``.
    """
    if not overrides and not stress:
        return scenario
    return _changed(scenario.document, source=scenario.source, sha256=scenario.sha256, earlier=scenario.changes,
                    overrides=overrides, stress=stress)


def _changed(doc: dict, *, source: str, sha256: str, earlier: tuple, overrides, stress) -> Scenario:
    changes = []
    for name in ([stress] if isinstance(stress, (str, Path)) else list(stress or ())):
        overlay = ov.load_overlay(name)
        changes.append((f"stress {overlay.name}", overlay.overrides))
    listed = ov.as_overrides(overrides)
    if listed:
        changes.append((None, listed))
    described = list(earlier)
    for label, batch in changes:
        doc = ov.apply_overrides(doc, batch, prior_names=PRIOR_NAMES, allowed_keys=allowed_keys,
                                 check_prior=check_prior, default_of=default_of)
        described.extend([label] if label else [f"{o.op} {o.describe()}" for o in batch])
    if changes and isinstance(doc.get("judgement"), dict):
        doc, dropped = _without_overridden(doc, [o for _, batch in changes for o in batch])
        described.extend(dropped)
    try:
        scenario = build_scenario(doc, source=source, sha256=sha256)
    except InputError as err:
        raise _blame_override(err, [o for _, batch in changes for o in batch], source) from None
    return dataclasses.replace(scenario, changes=tuple(described))


def _blame_override(err: InputError, overrides, source: str) -> InputError:
    """``err`` with the override that set its key named as the source (``--set horizon=0 (on default.toml)``).

    The file was valid before the change, so a problem at a key an override
    touched is the override's: the message names it, not the file.
    """
    if isinstance(err, InputErrors):
        return InputErrors([_blame_override(one, overrides, source) for one in err.errors])

    if err.key and err.source == source:
        for override in reversed(overrides):
            if _covers(override.path, err.key) or _covers(err.key, override.path):
                return InputError(err.problem, source=f"{override.origin} (on {source})", key=err.key,
                                  allowed=err.allowed, line=None)
    return err


def _covers(outer: str, inner: str) -> bool:
    """Whether dotted path ``outer`` names ``inner`` or a table holding it (``*`` matches any name on either side)."""
    x, y = outer.split("."), inner.split(".")
    return len(x) <= len(y) and all(p == q or "*" in (p, q) for p, q in zip(x, y))


def _without_overridden(doc: dict, overrides) -> tuple[dict, list[str]]:
    """Drop the ``set`` judgement entries whose key (or its prior) an override changes: the user's value stands.

    (A ``scale`` or ``shift`` entry composes with the user's change and stays.)
    """
    table, dropped = {}, []
    for key, value in doc["judgement"].items():
        op = value.get("op", "set") if isinstance(value, dict) else "set"
        if key != "views" and op == "set" and any(_covers(o.path, key) for o in overrides):
            dropped.append(f"judgement on {key} dropped (overridden)")
        else:
            table[key] = value
    if not dropped:
        return doc, []
    doc = {key: value for key, value in doc.items() if key != "judgement"}
    if table:
        doc["judgement"] = table
    return doc, dropped


PRIOR_NAMES = frozenset(("discount_rate", "financing_rate") + FUNDING_PRIORS + COMPANY_PRIORS + CONTRACT_PRIORS)


def allowed_keys(parts) -> tuple:
    """Key names a scenario table may hold, for a key at path ``parts`` (overrides' typo check)."""
    if len(parts) == 1:
        return TOP_KEYS
    if len(parts) == 2 and parts[0] == "funding_market":
        return FUNDING_KEYS
    if len(parts) == 3 and parts[0] == "companies":
        return COMPANY_KEYS
    if len(parts) == 5 and parts[0] == "companies" and parts[2] == "contracts":
        return CONTRACT_KEYS
    return ()


def default_of(parts):
    """The value a key takes when a file leaves it out (None: required or not a defaulted key)."""
    if len(parts) == 5 and parts[0] == "companies" and parts[2] == "contracts":
        return CONTRACT_DEFAULTS.get(parts[4])
    if len(parts) == 3 and parts[0] == "companies":
        return COMPANY_DEFAULTS.get(parts[2])
    if parts == ("financing_rate",):
        return DEFAULT_FINANCING_RATE
    return None


def parse_scenario(data: bytes | str, *, source: str = "<string>") -> Scenario:
    """Validate scenario TOML text (see :func:`load_scenario`)."""
    raw_bytes = data.encode() if isinstance(data, str) else data
    doc = toml_document(raw_bytes, source=source)
    return build_scenario(doc, source=source, sha256=hashlib.sha256(raw_bytes).hexdigest())


class _Collector:
    """Gather input errors so one run reports them all."""

    def __init__(self):
        self.errors: list[InputError] = []

    def run(self, fn, *args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except InputErrors as err:
            self.errors.extend(err.errors)
        except InputError as err:
            self.errors.append(err)
        return None

    def raise_any(self):
        if self.errors:
            raise InputErrors(self.errors)


def _table(doc, key, source, name):
    if not isinstance(doc, dict):
        raise InputError(f"expected a table, got {type(doc).__name__}", source=source, key=key,
                         allowed=f"a TOML table [{key}]")
    return doc


def _integer(value, key, source, low, high):
    if isinstance(value, bool) or not isinstance(value, int):
        raise InputError(f"expected a whole number, got {value!r}", source=source, key=key,
                         allowed=f"an integer in [{low}, {high}]")
    if not low <= value <= high:
        raise InputError(f"{value} is out of range", source=source, key=key,
                         allowed=f"an integer in [{low}, {high}]")
    return value


def _string(value, key, source):
    if not isinstance(value, str):
        raise InputError(f"expected a string, got {value!r}", source=source, key=key, allowed="text")
    return value


NORMAL_TAIL_ALLOWED = 1e-6


def domain_bounds(name: str) -> tuple[float, float]:
    """Closed bounds a sampled value of prior ``name`` is clamped to (open bounds nudged in)."""
    low, high, low_open, high_open, _ = DOMAINS[name]
    if low_open and math.isfinite(low):
        low = low + max(abs(low), 1.0) * 1e-12
    if high_open and math.isfinite(high):
        high = high - max(abs(high), 1.0) * 1e-12
    return low, high


def check_prior(raw, name: str, key: str, source: str) -> Prior:
    """Parse a prior and check it against the domain of prior ``name`` (``DOMAINS``)."""
    prior = parse_prior(raw, key=key, source=source)
    low, high, low_open, high_open, text = DOMAINS[name]
    lo, hi = prior.support()
    if prior.family == "normal":
        # A normal is accepted when its mass outside the domain is negligible;
        # the kernel clamps the rare values beyond (see kernels.sampling).
        mean, sd = prior.params["mean"], prior.params["sd"]
        outside = NormalDist(mean, sd).cdf(low) if math.isfinite(low) else 0.0
        outside += 1.0 - NormalDist(mean, sd).cdf(high) if math.isfinite(high) else 0.0
        if outside < NORMAL_TAIL_ALLOWED:
            return prior
        raise InputError(f"this normal puts {outside:.2g} of its probability outside the domain of "
                         f"{name}; use truncated_normal, lognormal or beta", source=source, key=key,
                         allowed=text)
    below = lo < low or (low_open and lo == low and prior.family in ("fixed", "discrete"))
    above = hi > high or (high_open and hi == high and prior.family in ("fixed", "discrete"))
    if below or above:
        span = f"[{lo:g}, {hi:g}]"
        raise InputError(f"{name} can take values in {span}, outside its domain",
                         source=source, key=key, allowed=text)
    return prior


# Names a scenario may give its companies, contracts, providers and investors: they become key paths
# (companies.<name>.revenue0), '*' patterns, table labels and file-safe report text, so no dots, no '*', no
# spaces or control and direction-override characters
NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,47}")
NAME_RULE = "a name of letters, digits, '_' and '-' (at most 48, starting with a letter or digit), e.g. google_tpu"
# Bounds on a scenario's size: far above any real one (the default has 2 companies, 12 contracts), far
# below what would take minutes to validate or compile
MAX_COMPANIES = 64
MAX_CONTRACTS = 64  # per company
MAX_INVESTMENTS = 256  # per company


def _name(name, key: str, source: str, what: str) -> str:
    if not isinstance(name, str) or not NAME.fullmatch(name):
        # ascii(): a direction-override or control character is shown escaped, never acted on by the terminal
        raise InputError(f"{ascii(name)} is not a usable {what} name", source=source, key=key.rsplit(".", 1)[0],
                         allowed=NAME_RULE)
    return name


def _bounded(items, limit: int, key: str, source: str, what: str) -> None:
    if len(items) > limit:
        raise InputError(f"{len(items)} {what}: more than this engine takes", source=source, key=key,
                         allowed=f"at most {limit} {what} (split the scenario)")


def _contract(raw, company, name, horizon, source) -> Contract:
    """One contract; every problem of it is reported at once (``InputErrors``), not the first only."""
    key = f"companies.{company}.contracts.{name}"
    _name(name, key, source, "contract")
    _table(raw, key, source, name)
    collector = _Collector()
    collector.errors.extend(unknown_keys(raw, CONTRACT_KEYS, key=key, source=source))
    kind = raw.get("kind")
    if "kind" not in raw:
        collector.errors.append(InputError("missing key 'kind'", source=source, key=f"{key}.kind",
                                           allowed='kind = "lease" or "owned"'))
    elif kind not in ("lease", "owned"):
        collector.errors.extend(unknown_keys([kind], ("lease", "owned"), key=f"{key}.kind", source=source,
                                             what="kind"))
    needed = LEASE_PRIORS if kind == "lease" else OWNED_PRIORS if kind == "owned" else ()
    unused = [p for p in (OWNED_PRIORS if kind == "lease" else LEASE_PRIORS if kind == "owned" else ()) if p in raw]
    for extra in unused:
        collector.errors.append(InputError(f"'{extra}' is not used by a {kind} contract", source=source,
                                           key=f"{key}.{extra}", allowed=f"for kind = \"{kind}\": {', '.join(needed)}"))
    ramp = collector.run(_ramp, raw.get("capacity_gw"), f"{key}.capacity_gw", horizon, source)
    priors = {}
    for prior_name in ("ramp_delay", "delivered_fraction") + needed:
        if prior_name not in raw and prior_name not in CONTRACT_DEFAULTS:
            collector.errors.append(InputError(f"missing key '{prior_name}'", source=source,
                                               key=f"{key}.{prior_name}",
                                               allowed=f"a prior: {DOMAINS[prior_name][4]}"))
            continue
        value = raw.get(prior_name, CONTRACT_DEFAULTS.get(prior_name))
        priors[prior_name] = collector.run(check_prior, value, prior_name, f"{key}.{prior_name}", source)
    provider = collector.run(_string, raw.get("provider", ""), f"{key}.provider", source)
    if provider:
        collector.run(_name, provider, f"{key}.provider", source, "provider")
    binding = collector.run(_number, raw.get("binding_gw", math.inf), f"{key}.binding_gw", source) \
        if "binding_gw" in raw else math.inf
    notice = collector.run(_number, raw.get("notice_years", 0.0), f"{key}.notice_years", source)
    for which, value in (("binding_gw", binding), ("notice_years", notice)):
        if value is not None and value < 0:
            collector.errors.append(InputError("must not be negative", source=source, key=f"{key}.{which}",
                                               allowed="GW >= 0 (binding_gw), years >= 0 (notice_years)"))
    collector.raise_any()
    return Contract(name, kind, provider, tuple(ramp[:horizon]), priors, binding, notice)


def _ramp(ramp, key, horizon, source) -> list:
    if not isinstance(ramp, list) or not ramp:
        raise InputError("missing or empty capacity ramp", source=source, key=key,
                         allowed=f"a list of GW online in each year, at least {horizon} values")
    ramp = [_number(v, key, source) for v in ramp]
    if len(ramp) < horizon:
        raise InputError(f"the capacity ramp has {len(ramp)} values but the horizon is {horizon} years",
                         source=source, key=key, allowed=f"at least {horizon} values (one per year)")
    if any(v < 0 for v in ramp):
        raise InputError("negative capacity", source=source, key=key, allowed="GW >= 0")
    return ramp


def _investment(raw, company, index, contracts, source) -> Investment:
    key = f"companies.{company}.investments[{index}]"
    _table(raw, key, source, key)
    reject_unknown(raw, INVESTMENT_KEYS, key=key, source=source)
    for name in ("investor", "amount", "timing"):
        if name not in raw:
            raise InputError(f"missing key '{name}'", source=source, key=f"{key}.{name}",
                             allowed='investor = "...", amount = <$B prior>, timing = "past" | "upfront" | "per_gw"')
    investor = _name(_string(raw["investor"], f"{key}.investor", source), f"{key}.investor", source, "investor")
    timing = raw["timing"]
    if timing not in TIMINGS:
        reject_unknown([timing], TIMINGS, key=f"{key}.timing", source=source, what="timing")
    amount = parse_prior(raw["amount"], key=f"{key}.amount", source=source)
    if amount.support()[0] < 0:
        raise InputError("an investment cannot be negative", source=source, key=f"{key}.amount",
                         allowed="$B >= 0 ($B per GW delivered with timing per_gw)")
    contract = raw.get("contract", "")
    if timing == "per_gw":
        names = [k.name for k in contracts if k is not None]
        if contract not in names:
            reject_unknown([contract], names, key=f"{key}.contract", source=source, what="contract")
    elif contract:
        raise InputError("only a per_gw investment names a contract", source=source, key=f"{key}.contract",
                         allowed='timing = "per_gw"')
    return Investment(investor, amount, timing, contract)


def _number(value, key, source):
    return _finite(value, key, source, "a number")


def _company(raw, name, horizon, source) -> Company:
    key = f"companies.{name}"
    _table(raw, key, source, name)
    collector = _Collector()
    collector.errors.extend(unknown_keys(raw, COMPANY_KEYS, key=key, source=source))
    priors = {}
    given = [name for name in YIELD_PRIORS if name in raw]
    if len(given) != 1:
        collector.errors.append(InputError(
            "both 'revenue_per_gw' and 'yield_per_gw' are given" if given else "missing key 'revenue_per_gw'",
            source=source, key=f"{key}.revenue_per_gw",
            allowed="exactly one of revenue_per_gw (the observable: year-1 revenue per GW of total capacity "
                    "online, $B) and yield_per_gw (revenue of one serving GW at full use)"))
    for prior_name in COMPANY_PRIORS:
        if prior_name in YIELD_PRIORS and prior_name not in raw:
            continue
        if prior_name not in raw and prior_name not in COMPANY_DEFAULTS:
            collector.errors.append(InputError(f"missing key '{prior_name}'", source=source,
                                               key=f"{key}.{prior_name}",
                                               allowed=f"a prior: {DOMAINS[prior_name][4]}"))
            continue
        priors[prior_name] = collector.run(check_prior, raw.get(prior_name, COMPANY_DEFAULTS.get(prior_name)),
                                           prior_name, f"{key}.{prior_name}", source)
    contracts_raw = raw.get("contracts")
    contracts = []
    if not isinstance(contracts_raw, dict) or not contracts_raw:
        collector.errors.append(InputError("no contracts", source=source, key=f"{key}.contracts",
                                           allowed=f"at least one [{key}.contracts.<name>] table"))
    else:
        _bounded(contracts_raw, MAX_CONTRACTS, f"{key}.contracts", source, "contracts")
        for contract_name, contract_raw in contracts_raw.items():
            contracts.append(collector.run(_contract, contract_raw, name, contract_name, horizon, source))
    collector.raise_any()
    label = _string(raw.get("label", name), f"{key}.label", source)
    investments_raw = raw.get("investments", [])
    if not isinstance(investments_raw, list):
        raise InputError("expected an array of tables", source=source, key=f"{key}.investments",
                         allowed=f"[[{key}.investments]] tables")
    _bounded(investments_raw, MAX_INVESTMENTS, f"{key}.investments", source, "investments")
    investments = tuple(_investment(item, name, i, contracts, source) for i, item in enumerate(investments_raw))
    return Company(name, label, priors, tuple(contracts), investments)


def _correlation(raw, companies, source):

    key = "correlation"
    _table(raw, key, source, key)
    reject_unknown(raw, ("priors", "matrix"), key=key, source=source)
    paths, matrix = raw.get("priors"), raw.get("matrix")
    if not isinstance(paths, list) or len(paths) < 2 or not all(isinstance(p, str) for p in paths):
        raise InputError("expected a list of at least two prior paths", source=source,
                         key=f"{key}.priors", allowed='e.g. ["companies.openai.growth_initial", ...]')
    known = {}
    for company in companies:
        for prior_name in company.priors:
            known[f"companies.{company.name}.{prior_name}"] = prior_name
        for contract in company.contracts:
            for prior_name in contract.priors:
                known[f"companies.{company.name}.contracts.{contract.name}.{prior_name}"] = prior_name
    for path in paths:
        if path not in known:
            reject_unknown([path], sorted(known), key=f"{key}.priors", source=source, what="prior path")
        if known[path] in PER_YEAR_PRIORS:
            raise InputError(f"'{path}' is drawn once per year and cannot join the copula",
                             source=source, key=f"{key}.priors", allowed="priors drawn once per draw")
    if len(set(paths)) != len(paths):
        raise InputError("a prior is listed twice", source=source, key=f"{key}.priors",
                         allowed="distinct prior paths")
    n = len(paths)
    if (not isinstance(matrix, list) or len(matrix) != n
            or not all(isinstance(row, list) and len(row) == n for row in matrix)):
        raise InputError(f"expected a {n} x {n} matrix (one row per listed prior)", source=source,
                         key=f"{key}.matrix", allowed="a list of lists of numbers")
    values = np.array([[_number(v, f"{key}.matrix", source) for v in row] for row in matrix])
    if not np.allclose(values, values.T, atol=1e-12) or not np.allclose(np.diag(values), 1.0):
        raise InputError("not a correlation matrix: it must be symmetric with ones on the diagonal",
                         source=source, key=f"{key}.matrix", allowed="symmetric, unit diagonal, entries in [-1, 1]")
    if np.any(np.abs(values) > 1):
        raise InputError("an entry is outside [-1, 1]", source=source, key=f"{key}.matrix",
                         allowed="correlations in [-1, 1]")
    try:
        np.linalg.cholesky(values)
    except np.linalg.LinAlgError:
        smallest = float(np.linalg.eigvalsh(values).min())
        raise InputError(f"the correlation matrix is not positive definite (smallest eigenvalue "
                         f"{smallest:.3g})", source=source, key=f"{key}.matrix",
                         allowed="a positive-definite matrix: weaken the correlations") from None
    return tuple(paths), tuple(tuple(float(v) for v in row) for row in values)


def build_scenario(doc: dict, *, source: str, sha256: str = "") -> Scenario:
    """Validate a parsed TOML document into a :class:`Scenario`.

    A ``[judgement]`` table is validated against the rest: every entry is
    tried at its hyper-prior's extremes (``judgement.check_against``).
    """
    reject_unknown(doc, TOP_KEYS, key="", source=source)
    core = {key: value for key, value in doc.items() if key != "judgement"}
    scenario = _build_core(core, source=source, sha256=sha256)
    scenario = dataclasses.replace(scenario, sources=_sources(doc.get("sources", {}), source))
    if "judgement" not in doc:
        return dataclasses.replace(scenario, document=_parsed_document(doc, scenario))
    judgement = jm.parse_judgement(doc["judgement"], source=source)
    checked = _checked_marker(doc)
    if checked is None or not checked.is_file():
        # 3 trials per entry (scipy's quantile functions): remembered by content, so a warm load skips them
        jm.check_against(judgement, lambda overrides: calibrated_document(core, overrides, source=source),
                         source=source)
        _remember(checked)
    return dataclasses.replace(scenario, judgement=judgement, document=_parsed_document(doc, scenario))


def _parsed_document(doc: dict, scenario: Scenario) -> dict:
    """``doc`` with each of its priors (and each defaulted one) replaced by the ``Prior`` it was parsed into.

    What further overrides (``with_changes``, a calibration's) change: they
    transform the ``Prior`` and the build checks it, so a prior is parsed once,
    when its file is read.
    """
    out = dict(doc, discount_rate=scenario.discount_rate, financing_rate=scenario.financing_rate)
    if scenario.funding_market is not None:
        out["funding_market"] = {**doc["funding_market"], **scenario.funding_market}
    companies = {}
    for company in scenario.companies:
        raw = doc["companies"][company.name]
        contracts = {contract.name: {**raw["contracts"][contract.name], **contract.priors}
                     for contract in company.contracts}
        companies[company.name] = {**raw, **company.priors, "contracts": contracts}
    out["companies"] = companies
    return out


def _sources(raw, source: str) -> dict:
    """The ``[sources]`` table: ``"§1A" = "primary sources, with dates"``; every reference any text of the
    file makes to one of its labels resolves here (``referenced_sources``)."""
    if not isinstance(raw, dict):
        raise InputError("expected a table [sources]", source=source, key="sources",
                         allowed='[sources] with "§1A" = "title, outlet, date; ..." entries')
    for label, text in raw.items():
        if not SOURCE_REFERENCE.fullmatch(label) or not isinstance(text, str) or not text.strip():
            raise InputError(f"{label!r} = {text!r} is not a source entry", source=source, key=f"sources.{label}",
                             allowed='"§<section>" = "the primary sources it stands for, with dates"')
    return dict(raw)


def referenced_sources(scenario: Scenario) -> dict:
    """The ``[sources]`` entries that the scenario's priors, judgement entries and views cite, by label."""
    found = {}
    texts = [prior.source or "" for _, prior in scenario.priors()]
    if scenario.judgement is not None:
        texts += [entry.source or "" for entry in scenario.judgement.entries]
        texts += [view.source or "" for view in scenario.judgement.views]
    for text in texts:
        for label in SOURCE_REFERENCE.findall(text):
            if label in scenario.sources:
                found.setdefault(label, scenario.sources[label])
    return dict(sorted(found.items()))


def core_document(scenario: Scenario) -> dict:
    """The scenario's document without its ``[judgement]`` table: what a calibration changes."""
    return {key: value for key, value in scenario.document.items() if key != "judgement"}


def _checked_marker(doc: dict) -> Path | None:
    """Where a document whose judgement passed :func:`judgement.check_against` is remembered (or None)."""
    folder = scenario_cache_dir()
    if folder is None:
        return None
    digest = hashlib.sha256(json.dumps(doc, sort_keys=True, default=repr).encode()).hexdigest()
    return folder / "judgement-checked" / digest


def _remember(marker: Path | None) -> None:
    if marker is None:
        return
    try:
        marker.parent.mkdir(parents=True, exist_ok=True)
        marker.touch()
    except OSError:
        pass  # an optimisation only


def calibrated_document(core: dict, overrides, *, source: str) -> Scenario:
    """The scenario of ``core`` (a document without judgement) with ``overrides`` applied, validated."""
    changed = ov.apply_overrides(core, overrides, prior_names=PRIOR_NAMES, allowed_keys=allowed_keys,
                                 check_prior=check_prior, default_of=default_of)
    return _build_core(changed, source=source, sha256="")


def _build_core(doc: dict, *, source: str, sha256: str = "") -> Scenario:
    reject_unknown(doc, TOP_KEYS, key="", source=source)
    collector = _Collector()
    horizon = collector.run(_integer, doc.get("horizon", 8), "horizon", source, 1, MAX_HORIZON) or 0
    start_year = collector.run(_integer, doc.get("start_year", 2026), "start_year", source, 1900, 2200)
    if "discount_rate" not in doc:
        collector.errors.append(InputError("missing key 'discount_rate'", source=source, key="discount_rate",
                                           allowed="a yearly rate, fixed or a prior"))
        discount = None
    else:
        discount = collector.run(check_prior, doc["discount_rate"], "discount_rate", "discount_rate", source)
    financing = collector.run(check_prior, doc.get("financing_rate", DEFAULT_FINANCING_RATE), "financing_rate",
                              "financing_rate", source)
    market = collector.run(_funding_market, doc["funding_market"], source) if "funding_market" in doc else None
    loading = collector.run(_number, doc.get("demand_correlation", 0.0), "demand_correlation", source)
    recovery = collector.run(_number, doc.get("equity_recovery", DEFAULT_EQUITY_RECOVERY), "equity_recovery", source)
    if recovery is not None and not 0.0 <= recovery <= 1.0:
        collector.errors.append(InputError(f"{recovery:g} is outside [0, 1]", source=source, key="equity_recovery",
                                           allowed="the share of an investment recovered when the lab is in distress"))
    if loading is not None and not 0.0 <= loading <= 1.0:
        collector.errors.append(InputError(f"{loading:g} is outside [0, 1]", source=source,
                                           key="demand_correlation",
                                           allowed="a correlation in [0, 1]"))
    names = {}
    for name in ("name", "description", "as_of"):
        names[name] = collector.run(_string, doc.get(name, ""), name, source)
    companies_raw = doc.get("companies")
    companies = []
    if not isinstance(companies_raw, dict) or not companies_raw:
        collector.errors.append(InputError("no companies", source=source, key="companies",
                                           allowed="at least one [companies.<name>] table"))
    elif horizon:
        _bounded(companies_raw, MAX_COMPANIES, "companies", source, "companies")
        for name, raw in companies_raw.items():
            if not isinstance(name, str) or not NAME.fullmatch(name):
                collector.errors.append(InputError(f"{ascii(name)} is not a usable company name", source=source,
                                                   key="companies", allowed=NAME_RULE))
                continue
            if name == "sector":
                collector.errors.append(InputError("'sector' is reserved for the sum of the companies",
                                                   source=source, key="companies.sector",
                                                   allowed="another company name"))
                continue
            companies.append(collector.run(_company, raw, name, horizon, source))
    collector.raise_any()
    correlation = None
    if "correlation" in doc:
        correlation = _correlation(doc["correlation"], companies, source)
    return Scenario(name=names["name"] or Path(source).stem, description=names["description"],
                    as_of=names["as_of"], start_year=start_year, horizon=horizon,
                    discount_rate=discount, demand_correlation=loading, companies=tuple(companies),
                    correlation=correlation, source=source, sha256=sha256,
                    equity_recovery=recovery if recovery is not None else DEFAULT_EQUITY_RECOVERY,
                    financing_rate=financing, funding_market=market)


def _funding_market(raw, source) -> dict:
    """The ``[funding_market]`` table: every one of ``FUNDING_PRIORS``, each a prior."""
    key = "funding_market"
    _table(raw, key, source, key)
    reject_unknown(raw, FUNDING_KEYS, key=key, source=source)
    collector = _Collector()
    found = {}
    for name in FUNDING_PRIORS:
        if name not in raw:
            collector.errors.append(InputError(f"missing key '{name}'", source=source, key=f"{key}.{name}",
                                               allowed=f"a prior: {DOMAINS[name][4]}"))
            continue
        found[name] = collector.run(check_prior, raw[name], name, f"{key}.{name}", source)
    collector.raise_any()
    return found
