"""What-if changes on top of a scenario: overrides and stress overlays.

An override names a key of the scenario file by its dotted path and says what
to do with it:

``set``
    Replace the value: ``horizon = 10``, a whole prior
    (``companies.openai.revenue0 = {dist = "normal", mean = 30, sd = 3}``) or
    one parameter of a prior (``companies.openai.revenue0.sigma = 0.2``).
``scale``
    Multiply by a factor > 0.  On a prior it is the exact transform
    ``X -> factor * X`` of the random variable (a lognormal's ``mu`` moves by
    ``ln factor``, a beta's bounds scale, ...); on a number or a list (a
    capacity ramp), every value is multiplied.
``shift``
    Add a number: the exact transform ``X -> X + delta`` on a prior, or
    ``+ delta`` on numbers and lists.

Quantile keys ``pNN`` move a prior by its percentiles, in its own family:

* one quantile (``revenue0.p50 = 30``) moves the prior so that this
  percentile takes the new value and keeps its spread: a normal's mean or a
  uniform's bounds shift, a lognormal's ``mu`` and a gamma's scale stretch
  (about ``loc``), a truncated normal's mean, a beta's mean (at fixed
  ``a + b``) and a PERT's or triangle's mode are solved for;
* two quantiles given together (``p5 = 20`` and ``p95 = 40``) refit the prior
  through them, keeping its family and companions (``loc``, bounds, mode).

A ``*`` path segment matches every existing key at that level
(``companies.*.contracts.*.capex_per_gw``: every owned contract).  A pattern
that matches nothing is an error, except inside a stress overlay, where it is
normal that a scenario lacks some of the keys an overlay names (a scenario
with only leases has no ``capex_per_gw``).

Every changed prior is validated at once, with errors naming the override
(``--set companies.openai.revenue0.p50=abc``) rather than the file.
"""

from __future__ import annotations

import dataclasses
import difflib
import math
import tomllib
from dataclasses import dataclass
from pathlib import Path

from ..errors import InputError
from .brent import brentq
from .common import embedded_path, read_input, reject_unknown, toml_document
from .distributions import FAMILIES, QUANTILE_COMPANIONS, QUANTILE_KEY, Prior, _finite

OPERATIONS = ("set", "scale", "shift")


@dataclass(frozen=True)
class Scale:
    """Multiply a prior (as a random variable), a number or a list by ``factor`` (> 0)."""

    factor: float


@dataclass(frozen=True)
class Shift:
    """Add ``delta`` to a prior (as a random variable), a number or a list."""

    delta: float


@dataclass(frozen=True)
class Override:
    """One change: ``op`` (set / scale / shift) of the key at ``path`` by ``value``.

    ``origin`` says where it came from (``--set ...`` or an overlay file), for
    error messages; ``optional`` lets a wildcard pattern match nothing.
    """

    op: str
    path: str
    value: object
    origin: str
    optional: bool = False

    def describe(self) -> str:
        """One line for provenance: ``scale companies.*.capex_per_gw by 1.3``."""
        word = {"set": "=", "scale": "x", "shift": "+"}[self.op]
        return f"{self.path} {word} {self.value!r}"


@dataclass(frozen=True)
class Overlay:
    """A named stress overlay: a narrative and the overrides that express it."""

    name: str
    description: str
    overrides: tuple
    source: str


# ---------------------------------------------------------------------------
# Building overrides


def parse_assignment(text: str, op: str = "set") -> Override:
    """Parse ``KEY=VALUE`` as given on the command line (``--set``, ``--scale``, ``--shift``).

    ``VALUE`` is read as a TOML value (``30``, ``[1, 2]``,
    ``{dist = "normal", mean = 1, sd = 0.1}``, ``"text"``); a bare word that
    is not TOML is taken as a string.
    """
    origin = f"--{op} {text}"
    key, sep, value_text = text.partition("=")
    key = key.strip()
    if not sep or not key or not value_text.strip():
        raise InputError("expected KEY=VALUE", source=origin,
                         allowed="e.g. --set companies.openai.revenue0.p50=30")
    try:
        value = tomllib.loads(f"value = {value_text.strip()}")["value"]
    except tomllib.TOMLDecodeError:
        if op != "set" or not value_text.strip().replace("_", "").replace("-", "").isalnum():
            raise InputError(f"cannot read {value_text.strip()!r} as a value", source=origin, key=key,
                             allowed="a number, a list [..], a table {..} or a quoted string") from None
        value = value_text.strip()
    if op != "set":
        value = _operand(op, value, origin, key)
    return Override(op, key, value, origin)


def _operand(op, value, origin, key):
    number = _finite(value, key, origin, "a number")
    if op == "scale" and number <= 0:
        raise InputError(f"scale factor {number:g} is not positive", source=origin, key=key,
                         allowed="a factor > 0 (use shift to move a value down or through zero)")
    return number


def from_mapping(mapping, *, origin: str = "overrides") -> list[Override]:
    """Overrides from a Python mapping ``{path: value | Scale(f) | Shift(d)}`` (the API form)."""
    if mapping is None:
        return []
    if not isinstance(mapping, dict):
        raise InputError(f"expected a dict of key path -> value, got {type(mapping).__name__}",
                         source=origin, allowed='{"companies.openai.revenue0.p50": 30, ...}')
    result = []
    for path, value in mapping.items():
        if not isinstance(path, str) or not path:
            raise InputError(f"a key path must be a non-empty string, got {path!r}", source=origin,
                             allowed="a dotted path such as companies.openai.revenue0")
        where = f"{origin}[{path!r}]"
        if isinstance(value, Scale):
            result.append(Override("scale", path, _operand("scale", value.factor, where, path), where))
        elif isinstance(value, Shift):
            result.append(Override("shift", path, _operand("shift", value.delta, where, path), where))
        else:
            result.append(Override("set", path, value, where))
    return result


def as_overrides(overrides) -> list[Override]:
    """Overrides as a list: ``None``, a mapping (the API form) or a sequence of ``Override``."""
    if not overrides:
        return []
    return from_mapping(overrides) if isinstance(overrides, dict) else list(overrides)


STRESS_KEYS = ("name", "description", "set", "scale", "shift")


def parse_overlay(data: bytes, *, source: str) -> Overlay:
    """Validate a stress overlay file (TOML: ``name``, ``description``, ``[set]``, ``[scale]``, ``[shift]``)."""
    doc = toml_document(data, source=source)
    reject_unknown(doc, STRESS_KEYS, key="", source=source)
    name = doc.get("name", Path(source).stem)
    description = doc.get("description", "")
    for key, value in (("name", name), ("description", description)):
        if not isinstance(value, str) or (key == "description" and not value.strip()):
            raise InputError("expected a non-empty string", source=source, key=key,
                             allowed="text: an overlay documents the narrative behind it")
    overrides = []
    for op in OPERATIONS:
        table = doc.get(op, {})
        if not isinstance(table, dict):
            raise InputError(f"expected a table [{op}]", source=source, key=op,
                             allowed=f'[{op}] with lines like "companies.*.growth_terminal" = ...')
        for path, value in table.items():
            if op != "set":
                value = _operand(op, value, source, f"{op}.{path}")
            overrides.append(Override(op, path, value, f"{source} [{op}] {path}", optional="*" in path))
    if not overrides:
        raise InputError("the overlay changes nothing", source=source,
                         allowed="at least one entry under [set], [scale] or [shift]")
    return Overlay(name, description.strip(), tuple(overrides), source)


def embedded_overlays() -> list[str]:
    """Names of the stress overlays shipped with the package (``priors/stress/``)."""
    folder = embedded_path("stress/x").parent
    return sorted(p.stem for p in folder.glob("*.toml")) if folder.is_dir() else []


def load_overlay(name: str | Path) -> Overlay:
    """Read a stress overlay: an embedded name (``"capex-overrun"``) or a TOML file path."""
    text = str(name)
    shipped = embedded_overlays()
    path = embedded_path(f"stress/{text}") if text in shipped else Path(text)
    if not path.is_file():
        close = difflib.get_close_matches(text, shipped, n=1)
        hint = f"; did you mean '{close[0]}'?" if close else ""
        raise InputError(f"no such stress overlay{hint}", source=text or "--stress ''",
                         allowed=f"an overlay file, or one of: {', '.join(shipped)}")
    return parse_overlay(read_input(path, what="stress overlay"), source=str(path))


# ---------------------------------------------------------------------------
# Applying overrides to a parsed scenario document


def apply_overrides(doc: dict, overrides, *, prior_names, allowed_keys, check_prior, default_of) -> dict:
    """Return a copy of the scenario document ``doc`` with ``overrides`` applied in order.

    Parameters
    ----------
    doc : dict
        The scenario's document: its parsed TOML, where a prior may already be
        a ``Prior`` (a loaded scenario's document holds every prior parsed).
        It is not changed: its tables are copied, its priors, lists and
        values shared (none is changed in place).
    overrides : sequence of Override
    prior_names : collection of str
        Key names that hold priors (``revenue0``, ``lease_per_gw_year``, ...).
    allowed_keys : callable
        ``allowed_keys(parts) -> collection of str``: the key names a table at
        path ``parts[:-1]`` may hold (``schema``), to catch typos in new keys.
    check_prior : callable
        ``check_prior(raw, name, key, source) -> Prior``: validates a prior
        against its domain (``schema``), raising ``InputError``.
    default_of : callable
        ``default_of(parts) -> value or None``: the value a key takes when the
        file leaves it out (a contract's ``ramp_delay`` is 0), so that
        ``shift companies.*.contracts.*.ramp_delay`` slips those contracts too.
    """
    doc = _copy_tables(doc)
    _fill_defaults(doc, default_of, allowed_keys)
    batch = list(overrides)
    refits = _refit_groups(batch, prior_names)
    pending: dict[tuple, dict] = {}
    for override in batch:
        targets = _expand(doc, override, prior_names)
        if not targets and not override.optional:
            raise InputError("this pattern matches nothing in the scenario", source=override.origin,
                             key=override.path, allowed=_suggest(doc, override.path))
        if not targets:
            _check_key_names(override, allowed_keys)
        for parts in targets:
            _apply_one(doc, parts, override, prior_names, allowed_keys, check_prior, refits, pending)
    return doc


def _copy_tables(node):
    """A copy of a document's tables (dicts); values, priors and lists are shared: they are never changed in place."""
    if isinstance(node, dict):
        return {key: _copy_tables(value) for key, value in node.items()}
    return node


def _noted(prior: Prior, note: str) -> Prior:
    """``prior`` with ``[note]`` after its source text (what was done to it, for ``risk priors show``)."""
    return dataclasses.replace(prior, source=f"{prior.source} [{note}]")


def _fill_defaults(doc, default_of, allowed_keys) -> None:
    """Write the defaulted priors into the document so that overrides can reach them.

    Every key a table may hold (``allowed_keys``) that the file leaves out and
    that has a default (``default_of``) is written: the top level, each
    company and each contract.
    """
    tables = [((), doc)]
    companies = doc.get("companies")
    for company, raw in companies.items() if isinstance(companies, dict) else ():
        if not isinstance(raw, dict):
            continue
        tables.append((("companies", company), raw))
        contracts = raw.get("contracts")
        for contract, table in contracts.items() if isinstance(contracts, dict) else ():
            if isinstance(table, dict):
                tables.append((("companies", company, "contracts", contract), table))
    for prefix, table in tables:
        for name in allowed_keys(prefix + ("_",)):
            default = default_of(prefix + (name,))
            if name not in table and default is not None:
                table[name] = default


def _expand(doc, override, prior_names) -> list[tuple[str, ...]]:
    """Concrete key paths matched by ``override.path`` (``*`` matches existing keys)."""
    parts = tuple(override.path.split("."))
    if any(not p for p in parts):
        raise InputError("empty segment in key path", source=override.origin, key=override.path,
                         allowed="a dotted path such as companies.openai.revenue0")
    if "*" not in parts:
        return [parts]
    matches = [()]
    for part in parts:
        following = []
        for prefix in matches:
            if part != "*":
                following.append(prefix + (part,))
                continue
            node = _get(doc, prefix)
            if isinstance(node, dict):
                following.extend(prefix + (key,) for key in node)
        matches = following
    # a match counts when its key exists, or when it names a parameter of an existing prior
    return [m for m in matches if _get(doc, m) is not None or _names_parameter(m, doc, prior_names)]


def _names_parameter(parts, doc, prior_names) -> bool:
    position = _prior_position(parts, prior_names)
    return position is not None and position[1] is not None and _get(doc, position[0]) is not None


def _check_key_names(override: Override, allowed_keys) -> None:
    """An overlay's pattern may match nothing in a scenario, but its key names must exist in the format.

    ``companies.*.revenue`` (a misspelt ``revenue0``) would otherwise change
    nothing in every scenario, silently.
    """
    parts = tuple(override.path.split("."))
    for depth in range(1, len(parts) + 1):
        allowed = allowed_keys(parts[:depth])
        name = parts[depth - 1]
        if allowed and name != "*" and name not in allowed:
            close = difflib.get_close_matches(name, [str(a) for a in allowed], n=1, cutoff=0.6)
            raise InputError(f"unknown key '{name}'" + (f"; did you mean '{close[0]}'?" if close else "")
                             + ": this pattern can match nothing in any scenario", source=override.origin,
                             key=override.path, allowed=", ".join(str(a) for a in allowed))


def _suggest(doc, path) -> str:
    node = doc
    for part in path.split("."):
        if part == "*" or not isinstance(node, dict):
            break
        if part not in node:
            return f"at '{part}': one of " + ", ".join(sorted(map(str, node)))
        node = node[part]
    return "a key path that exists in the scenario file"


def _prior_position(parts, prior_names):
    """``(prior path, parameter or None)`` when ``parts`` addresses a prior, else None."""
    if parts[-1] in prior_names and _is_prior_path(parts):
        return parts, None
    if len(parts) >= 2 and parts[-2] in prior_names and _is_prior_path(parts[:-1]):
        return parts[:-1], parts[-1]
    return None


def _is_prior_path(parts) -> bool:
    # discount_rate; funding_market.<prior>; companies.<c>.<prior>; companies.<c>.contracts.<k>.<prior>
    return (len(parts) == 1 or (len(parts) == 2 and parts[0] == "funding_market")
            or (len(parts) == 3 and parts[0] == "companies")
            or (len(parts) == 5 and parts[0] == "companies" and parts[2] == "contracts"))


def _refit_groups(batch, prior_names) -> dict:
    """Number of ``pNN`` sets per prior, for priors that get more than one (refit, not move)."""
    counts: dict[tuple, int] = {}
    for override in batch:
        if override.op != "set" or "*" in override.path:
            continue
        position = _prior_position(tuple(override.path.split(".")), prior_names)
        if position and position[1] and QUANTILE_KEY.match(position[1]):
            counts[position[0]] = counts.get(position[0], 0) + 1
    return {prior: n for prior, n in counts.items() if n > 1}


def _get(doc, parts):
    node = doc
    for part in parts:
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node


def _put(doc, parts, value, override, allowed_keys):
    node = _get(doc, parts[:-1])
    if not isinstance(node, dict):
        raise InputError("no such table in the scenario", source=override.origin, key=".".join(parts[:-1]),
                         allowed=_suggest(doc, ".".join(parts)))
    if parts[-1] not in node:
        reject_unknown([parts[-1]], allowed_keys(parts), key=".".join(parts[:-1]), source=override.origin)
    node[parts[-1]] = value


def _apply_one(doc, parts, override, prior_names, allowed_keys, check_prior, refits, pending):
    position = _prior_position(parts, prior_names)
    key = ".".join(parts)
    if position is None:
        _put(doc, parts, _plain(_get(doc, parts), override, key), override, allowed_keys)
        return
    prior_parts, parameter = position
    name = prior_parts[-1]
    prior_key = ".".join(prior_parts)
    raw = _get(doc, prior_parts)
    if parameter is None and override.op == "set":
        _put(doc, prior_parts, check_prior(override.value, name, prior_key, override.origin), override,
             allowed_keys)
        return
    if raw is None:
        raise InputError(f"the scenario has no prior '{prior_key}' to change", source=override.origin,
                         key=prior_key, allowed="set the whole prior first, or pick an existing one")
    prior = check_prior(raw, name, prior_key, override.origin)
    if parameter is None:
        factor, delta = (override.value, 0.0) if override.op == "scale" else (1.0, override.value)
        new = _noted(transform(prior, factor, delta), f"{override.op} {override.value:g}")
    elif QUANTILE_KEY.match(parameter):
        new = _move_quantile(prior, prior_parts, parameter, override, refits, pending, key)
        if new is None:
            return  # a refit waits for the prior's other quantile
    else:
        new = _set_parameter(prior, parameter, override, key)
    # a Prior made here is checked, not parsed again; a table (a parameter set, a refit) is parsed once
    _put(doc, prior_parts, check_prior(new, name, prior_key, override.origin), override, allowed_keys)


def _plain(old, override, key):
    if override.op == "set":
        if old is not None and isinstance(old, (int, float, str, list)) and not isinstance(old, bool):
            expected = (int, float) if isinstance(old, (int, float)) else type(old)
            if not isinstance(override.value, expected) or isinstance(override.value, bool):
                raise InputError(f"expected {type(old).__name__} like the scenario's {old!r}, "
                                 f"got {override.value!r}", source=override.origin, key=key,
                                 allowed=f"a value of type {type(old).__name__}")
        return override.value

    def change(number):
        return number * override.value if override.op == "scale" else number + override.value

    if isinstance(old, bool) or old is None:
        raise InputError(f"cannot {override.op} {old!r}", source=override.origin, key=key,
                         allowed="a number, a list of numbers or a prior")
    if isinstance(old, (int, float)):
        return change(old)
    if isinstance(old, list) and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in old):
        return [change(v) for v in old]
    raise InputError(f"cannot {override.op} a {type(old).__name__}", source=override.origin, key=key,
                     allowed="a number, a list of numbers or a prior")


def _set_parameter(prior: Prior, parameter, override, key):
    family = prior.family
    allowed = FAMILIES[family]["required"] + tuple(FAMILIES[family]["optional"])
    if parameter == "dist":
        raise InputError("changing only the family leaves its parameters undefined", source=override.origin,
                         key=key, allowed="set the whole prior: KEY={dist = \"...\", ...}")
    if parameter not in allowed:
        reject_unknown([parameter], sorted(allowed) + ["pNN (a percentile)"], key=key.rsplit(".", 1)[0],
                       source=override.origin)
    params = dict(prior.params)
    old = params[parameter]
    if override.op == "set":
        params[parameter] = override.value
    elif isinstance(old, list):
        params[parameter] = [v * override.value if override.op == "scale" else v + override.value for v in old]
    else:
        params[parameter] = old * override.value if override.op == "scale" else old + override.value
    return {"dist": family, **params, "source": prior.source}


def _move_quantile(prior, prior_parts, parameter, override, refits, pending, key):
    level = int(QUANTILE_KEY.match(parameter).group(1)) / 100.0
    if override.op == "set":
        target = _finite(override.value, key, override.origin, "a number")
    else:
        current = float(prior.ppf([level])[0])
        target = current * override.value if override.op == "scale" else current + override.value
    expected = refits.get(tuple(prior_parts))
    if expected is None:
        return move_quantile(prior, level, target, key=key, source=override.origin)
    given = pending.setdefault(tuple(prior_parts), {})
    given[parameter] = target
    if len(given) < expected:
        return None
    del pending[tuple(prior_parts)]
    if len(given) != 2:
        raise InputError(f"{len(given)} different quantiles given for one prior", source=override.origin,
                         key=".".join(prior_parts), allowed="one quantile (moves the prior) or two (refit)")
    companions = {k: prior.params[k] for k in QUANTILE_COMPANIONS.get(prior.family, ()) if k in prior.params}
    return {"dist": prior.family, **companions, **given, "source": prior.source}


# ---------------------------------------------------------------------------
# Exact operations on priors


def transform(prior: Prior, factor: float = 1.0, delta: float = 0.0) -> Prior:
    """The prior of ``factor * X + delta`` for ``X`` with prior ``prior`` (``factor > 0``)."""
    p = dict(prior.params)

    def affine(value):
        return value * factor + delta

    family = prior.family
    if family == "fixed":
        p["value"] = affine(p["value"])
    elif family in ("normal", "truncated_normal"):
        p["mean"], p["sd"] = affine(p["mean"]), p["sd"] * factor
        if family == "truncated_normal":
            p["low"], p["high"] = affine(p["low"]), affine(p["high"])
    elif family == "lognormal":
        p["mu"], p["loc"] = p["mu"] + math.log(factor), affine(p["loc"])
    elif family == "gamma":
        p["scale"], p["loc"] = p["scale"] * factor, affine(p["loc"])
    elif family == "discrete":
        p["values"] = [affine(v) for v in p["values"]]
    else:  # beta, uniform, triangular, pert: bounds (and mode) move with X
        for name in ("low", "mode", "high"):
            if name in p:
                p[name] = affine(p[name])
    return Prior(family, p, source=prior.source)


def move_quantile(prior: Prior, level: float, target: float, *, key: str, source: str) -> Prior:
    """Move ``prior`` so that its ``level`` quantile is ``target``, keeping its spread.

    See the module notes for what "keeping its spread" means per family.
    """
    p = dict(prior.params)
    family = prior.family
    current = float(prior.ppf([level])[0])

    def fail(why):
        raise InputError(f"cannot move the {level * 100:g}th percentile of this {family} prior to "
                         f"{target:g}: {why}", source=source, key=key,
                         allowed="a reachable value, or two quantiles (pNN and pMM) to refit the prior")

    if family == "fixed":
        p["value"] = target
    elif family in ("normal", "uniform"):
        return transform(prior, 1.0, target - current)
    elif family in ("lognormal", "gamma"):
        if not target > p["loc"]:
            fail(f"the prior lives above its loc {p['loc']:g}")
        return transform(Prior(family, p, source=prior.source), (target - p["loc"]) / (current - p["loc"]),
                         p["loc"] - p["loc"] * (target - p["loc"]) / (current - p["loc"]))
    elif family == "discrete":
        fail("a discrete prior's quantiles are steps; set its values and weights instead")
    else:
        if not p["low"] < target < p["high"]:
            fail(f"its support is [{p['low']:g}, {p['high']:g}]")
        if family == "truncated_normal":
            name, low, high = "mean", p["low"] - 40 * p["sd"], p["high"] + 40 * p["sd"]
        elif family == "beta":
            name, low, high = "_mean", 1e-9, 1 - 1e-9
        else:
            name, low, high = "mode", p["low"], p["high"]
        p = _solve_location(family, p, name, low, high, level, target, fail)
    return Prior(family, p, source=prior.source)


def _solve_location(family, p, name, low, high, level, target, fail):
    concentration = p.get("a", 0.0) + p.get("b", 0.0)

    def with_location(x):
        q = dict(p)
        if name == "_mean":
            q["a"], q["b"] = x * concentration, (1 - x) * concentration
        else:
            q[name] = x
        return q

    def excess(x):
        return float(Prior(family, with_location(x)).ppf([level])[0]) - target

    lo_excess, hi_excess = excess(low), excess(high)
    if lo_excess > 0 or hi_excess < 0:
        fail("keeping its other parameters, the percentile ranges over "
             f"[{lo_excess + target:g}, {hi_excess + target:g}]")
    if lo_excess == 0:
        return with_location(low)
    if hi_excess == 0:
        return with_location(high)
    return with_location(brentq(excess, low, high, xtol=1e-13, rtol=1e-12))


__all__ = ["Override", "Overlay", "Scale", "Shift", "apply_overrides", "as_overrides", "from_mapping", "move_quantile",
           "parse_assignment", "parse_overlay", "transform"]
