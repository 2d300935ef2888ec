"""Prior distribution families: parameters, quantile elicitation, support, ppf.

Each family is given either by its own parameters or by two quantiles
(``p5 = 8, p95 = 18``: the 5th and 95th percentiles), the way analysts
elicit priors.  Conversions from quantiles are exact (closed forms) or
solved to machine precision and then checked: the fitted distribution must
reproduce both quantiles to 1e-9 in probability, or the input is rejected.

=================  ==========================  ==================================
family             own parameters              from two quantiles ``pNN``
=================  ==========================  ==================================
fixed              value                       -
normal             mean, sd                    closed form
truncated_normal   mean, sd, low, high         low, high given; mean, sd solved
lognormal          mu, sigma, [loc = 0]        closed form on ``log(q - loc)``
beta               a, b, [low = 0, high = 1]   a, b solved (low, high given)
gamma              shape, scale, [loc = 0]     shape from the quantile ratio (1-D root), then scale
uniform            low, high                   closed form
triangular         low, mode, high             mode given; low, high solved
pert               low, mode, high, [lambda=4] mode given; low, high solved
discrete           values, weights             -
=================  ==========================  ==================================

``scipy`` is imported lazily: a warm run loads compiled scenarios from the
cache and never pays its import time.
"""

from __future__ import annotations

import json
import math
import os
import re
import tempfile
from dataclasses import dataclass, field
from statistics import NormalDist

import numpy as np

from .._cache import scenario_cache_dir
from ..errors import InputError
from .brent import brentq
from .common import reject_unknown

_STD_NORMAL = NormalDist()
QUANTILE_KEY = re.compile(r"^p(\d{1,2})$")
FIT_TOLERANCE = 1e-9

FAMILIES: dict[str, dict] = {
    "fixed": {"required": ("value",), "optional": {}},
    "normal": {"required": ("mean", "sd"), "optional": {}},
    "truncated_normal": {"required": ("mean", "sd", "low", "high"), "optional": {}},
    "lognormal": {"required": ("mu", "sigma"), "optional": {"loc": 0.0}},
    "beta": {"required": ("a", "b"), "optional": {"low": 0.0, "high": 1.0}},
    "gamma": {"required": ("shape", "scale"), "optional": {"loc": 0.0}},
    "uniform": {"required": ("low", "high"), "optional": {}},
    "triangular": {"required": ("low", "mode", "high"), "optional": {}},
    "pert": {"required": ("low", "mode", "high"), "optional": {"lambda": 4.0}},
    "discrete": {"required": ("values", "weights"), "optional": {}},
}
# Parameters that may accompany two quantiles (the rest are solved for).
QUANTILE_COMPANIONS = {
    "normal": (), "lognormal": ("loc",), "uniform": (), "gamma": ("loc",),
    "beta": ("low", "high"), "truncated_normal": ("low", "high"),
    "triangular": ("mode",), "pert": ("mode", "lambda"),
}
QUANTILE_REQUIRED = {"truncated_normal": ("low", "high"), "triangular": ("mode",), "pert": ("mode",)}


@dataclass(frozen=True)
class Prior:
    """One prior: a family with its canonical parameters.

    Attributes
    ----------
    family : str
        One of ``FAMILIES``.
    params : dict
        Canonical parameters (see the module table); quantile input is
        converted to these.
    quantiles : dict
        The quantiles it was elicited from (probability -> value), if any.
    source : str
        Free text: where the number comes from, or "judgement".
    """

    family: str
    params: dict
    quantiles: dict = field(default_factory=dict)
    source: str = ""

    def support(self) -> tuple[float, float]:
        """Return the closed hull ``(lowest, highest)`` of the values it can take."""
        p = self.params
        if self.family == "fixed":
            return p["value"], p["value"]
        if self.family == "normal":
            return -math.inf, math.inf
        if self.family in ("lognormal", "gamma"):
            return p["loc"], math.inf
        if self.family == "discrete":
            return min(p["values"]), max(p["values"])
        return p["low"], p["high"]

    def is_fixed(self) -> bool:
        """True when the prior is a single value."""
        return self.family == "fixed"

    def frozen(self):
        """The equivalent ``scipy.stats`` distribution with its parameters bound (not for fixed/discrete).

        Its ``ppf``, ``isf``, ``cdf``, ``pdf``, ``mean``, ... are those of a
        frozen scipy distribution; it is not one, because freezing builds a
        new distribution object each time (with its docstrings: ~0.1 ms, and
        a two-level run freezes thousands).
        """
        from scipy import stats

        p = self.params
        if self.family == "normal":
            return _Bound(stats.norm, (), dict(loc=p["mean"], scale=p["sd"]))
        if self.family == "truncated_normal":
            return _Bound(stats.truncnorm, ((p["low"] - p["mean"]) / p["sd"], (p["high"] - p["mean"]) / p["sd"]),
                          dict(loc=p["mean"], scale=p["sd"]))
        if self.family == "lognormal":
            return _Bound(stats.lognorm, (p["sigma"],), dict(scale=math.exp(p["mu"]), loc=p["loc"]))
        if self.family in ("beta", "pert"):
            return _Bound(stats.beta, beta_shape(self), dict(loc=p["low"], scale=p["high"] - p["low"]))
        if self.family == "gamma":
            return _Bound(stats.gamma, (p["shape"],), dict(loc=p["loc"], scale=p["scale"]))
        if self.family == "uniform":
            return _Bound(stats.uniform, (), dict(loc=p["low"], scale=p["high"] - p["low"]))
        if self.family == "triangular":
            width = p["high"] - p["low"]
            return _Bound(stats.triang, ((p["mode"] - p["low"]) / width,), dict(loc=p["low"], scale=width))
        raise ValueError(f"no scipy equivalent for family {self.family!r}")

    def ppf(self, probabilities):
        """Quantiles at ``probabilities`` (an array), exact for every family."""

        probabilities = np.asarray(probabilities, dtype=float)
        if self.family == "fixed":
            return np.full(probabilities.shape, self.params["value"])
        if self.family == "discrete":
            values = np.asarray(self.params["values"], dtype=float)
            cumulative = np.cumsum(self.params["weights"])
            index = np.searchsorted(cumulative, probabilities, side="right")
            return values[np.minimum(index, len(values) - 1)]
        if self.family in _SPECIAL_PPF:
            return _special_ppf(self, probabilities)
        return self.frozen().ppf(probabilities)

    def isf(self, probabilities):
        """The inverse survival function at ``probabilities``: ``ppf(1 - q)``, accurate where ``q`` is tiny."""
        probabilities = np.asarray(probabilities, dtype=float)
        if self.family in _SPECIAL_PPF:
            return _special_ppf(self, probabilities, upper=True)
        return self.frozen().isf(probabilities)

    def mean(self) -> float:
        """Mean of the prior."""
        if self.family == "fixed":
            return float(self.params["value"])
        if self.family == "discrete":
            return float(sum(v * w for v, w in zip(self.params["values"], self.params["weights"])))
        return float(self.frozen().mean())


class _Bound:
    """A scipy distribution and its parameters: ``ppf(q)`` is ``dist.ppf(q, *args, **kwds)`` (see ``Prior.frozen``)."""

    def __init__(self, dist, args, kwds):
        self.dist, self.args, self.kwds = dist, args, kwds

    def __getattr__(self, name):
        method = getattr(self.dist, name)
        return lambda *values: method(*values, *self.args, **self.kwds)


def pert_shape(low: float, mode: float, high: float, lam: float) -> tuple[float, float]:
    """Beta shape parameters of a PERT(low, mode, high, lambda) distribution."""
    width = high - low
    return 1.0 + lam * (mode - low) / width, 1.0 + lam * (high - mode) / width


def beta_shape(prior: "Prior") -> tuple[float, float]:
    """The Beta shape ``(a, b)`` of a beta or PERT prior (on ``[low, high]``)."""
    p = prior.params
    return (p["a"], p["b"]) if prior.family == "beta" else pert_shape(p["low"], p["mode"], p["high"], p["lambda"])


def _finite(value, key, source, what="a finite number"):
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise InputError(f"expected {what}, got {type(value).__name__} {value!r}", source=source,
                         key=key, allowed=what)
    if not math.isfinite(value):
        raise InputError(f"{value} is not a finite number", source=source, key=key,
                         allowed="a finite number (no nan or inf)")
    return float(value)


def parse_prior(raw, *, key: str, source: str) -> Prior:
    """Parse one prior from its TOML value (a number, or a table with ``dist``).

    Parameters
    ----------
    raw : float, dict or Prior
        A bare number (a fixed value), a table such as
        ``{dist = "lognormal", p5 = 8, p95 = 18}``, or a ``Prior`` (returned
        as it is once its parameters pass their checks).
    key : str
        Its dotted key path, for error messages.
    source : str
        The file it came from, for error messages.

    Returns
    -------
    Prior
        With canonical parameters (quantiles converted).

    Raises
    ------
    InputError
        Naming the file, the key and what is allowed.
    """
    if isinstance(raw, Prior):
        # already parsed (a scenario's document holds its priors parsed, and overrides make Priors):
        # its parameters are checked again, nothing is parsed twice
        _check_params(raw.family, raw.params, key, source)
        return raw
    if not isinstance(raw, dict):
        return Prior("fixed", {"value": _finite(raw, key, source, "a number or a table with 'dist'")})

    if "dist" not in raw:
        raise InputError("a prior table needs a 'dist' key", source=source, key=key,
                         allowed="dist = " + " | ".join(f'"{f}"' for f in FAMILIES))
    family = raw["dist"]
    if family not in FAMILIES:
        reject_unknown([family], FAMILIES, key=f"{key}.dist", source=source, what="family")
    spec = FAMILIES[family]
    quantiles: dict[float, float] = {}
    params: dict = {}
    text = raw.get("source", "") or raw.get("note", "")
    allowed = set(spec["required"]) | set(spec["optional"]) | {"dist", "source", "note"}
    for name, value in raw.items():
        match = QUANTILE_KEY.match(name)
        if match and family not in ("fixed", "discrete"):
            percent = int(match.group(1))
            if not 1 <= percent <= 99:
                raise InputError(f"quantile key '{name}' is not a percentile between 1 and 99",
                                 source=source, key=f"{key}.{name}", allowed="p1 .. p99")
            quantiles[percent / 100.0] = _finite(value, f"{key}.{name}", source)
        elif name not in allowed:
            extra = ["pNN (a percentile)"] if family not in ("fixed", "discrete") else []
            reject_unknown([name], sorted(allowed) + extra, key=key, source=source, what="key")
    for name in ("source", "note"):
        if name in raw and not isinstance(raw[name], str):
            raise InputError("expected a string", source=source, key=f"{key}.{name}", allowed="text")
    if family == "discrete":
        return Prior(family, _discrete(raw, key, source), source=text)
    for name in set(spec["required"]) | set(spec["optional"]):
        if name in raw:
            params[name] = _finite(raw[name], f"{key}.{name}", source)
    if quantiles:
        return _from_quantiles(family, params, quantiles, key, source, text)
    missing = [name for name in spec["required"] if name not in params]
    if missing:
        raise InputError(f"{family} prior is missing {', '.join(missing)}", source=source, key=key,
                         allowed=f"{', '.join(spec['required'])}, or two quantiles such as p5 and p95")
    for name, default in spec["optional"].items():
        params.setdefault(name, default)
    _check_params(family, params, key, source)
    return Prior(family, params, source=text)


def _discrete(raw, key, source) -> dict:
    values, weights = raw.get("values"), raw.get("weights")
    for name, arr in (("values", values), ("weights", weights)):
        if not isinstance(arr, list) or not arr:
            raise InputError("expected a non-empty list of numbers", source=source,
                             key=f"{key}.{name}", allowed="e.g. [0, 0.5, 1]")
    values = [_finite(v, f"{key}.values", source) for v in values]
    weights = [_finite(w, f"{key}.weights", source) for w in weights]
    if len(values) != len(weights):
        raise InputError(f"{len(values)} values but {len(weights)} weights", source=source, key=key,
                         allowed="one weight per value")
    if any(w < 0 or w > 1 for w in weights):
        raise InputError("a weight is outside [0, 1]", source=source, key=f"{key}.weights",
                         allowed="probabilities in [0, 1] that sum to 1")
    if abs(sum(weights) - 1.0) > 1e-6:
        raise InputError(f"weights sum to {sum(weights):.6g}, not 1", source=source,
                         key=f"{key}.weights", allowed="probabilities in [0, 1] that sum to 1")
    if sorted(values) != values or len(set(values)) != len(values):
        raise InputError("values must be distinct and in increasing order", source=source,
                         key=f"{key}.values", allowed="e.g. [0, 0.5, 1]")
    total = sum(weights)
    return {"values": values, "weights": [w / total for w in weights]}


def _check_params(family: str, p: dict, key: str, source: str) -> None:
    def bad(problem, allowed, name=None):
        raise InputError(problem, source=source, key=f"{key}.{name}" if name else key, allowed=allowed)

    for scale in ("sd", "sigma", "scale"):
        if scale in p and p[scale] <= 0:
            bad(f"{scale} = {p[scale]:g} is not positive", f"{scale} > 0", scale)
    for shape in ("a", "b", "shape"):
        if shape in p and p[shape] <= 0:
            bad(f"{family} parameter {shape} = {p[shape]:g} is not positive", f"{shape} > 0", shape)
    if "lambda" in p and p["lambda"] <= 0:
        bad(f"lambda = {p['lambda']:g} is not positive", "lambda > 0", "lambda")
    if "low" in p and "high" in p and not p["low"] < p["high"]:
        bad(f"low = {p['low']:g} is not below high = {p['high']:g}", "low < high")
    if "mode" in p and "low" in p and not p["low"] <= p["mode"] <= p["high"]:
        bad(f"mode = {p['mode']:g} is outside [low, high] = [{p['low']:g}, {p['high']:g}]",
            "low <= mode <= high", "mode")
    if family == "truncated_normal" and "mean" in p:
        mass = _STD_NORMAL.cdf((p["high"] - p["mean"]) / p["sd"]) - _STD_NORMAL.cdf((p["low"] - p["mean"]) / p["sd"])
        if mass < 1e-12:
            bad("the truncation interval holds almost no probability of the parent normal",
                "an interval [low, high] near the mean")


def _from_quantiles(family, given, quantiles, key, source, text) -> Prior:
    if len(quantiles) != 2:
        raise InputError(f"{len(quantiles)} quantiles given; exactly two are needed", source=source,
                         key=key, allowed="two percentile keys, e.g. p5 and p95")
    companions = QUANTILE_COMPANIONS.get(family)
    if companions is None:
        raise InputError(f"{family} cannot be given by quantiles", source=source, key=key,
                         allowed="its own parameters")
    extra = [name for name in given if name not in companions]
    if extra:
        raise InputError(f"{', '.join(extra)} cannot be combined with quantiles for {family}",
                         source=source, key=key,
                         allowed=f"two quantiles plus {', '.join(companions) or 'nothing else'}")
    missing = [name for name in QUANTILE_REQUIRED.get(family, ()) if name not in given]
    if missing:
        raise InputError(f"{family} by quantiles also needs {', '.join(missing)}", source=source,
                         key=key, allowed=f"{', '.join(QUANTILE_REQUIRED[family])} plus two quantiles")
    (p1, q1), (p2, q2) = sorted(quantiles.items())
    if not q1 < q2:
        raise InputError(f"quantiles out of order: the {p1:.0%} value {q1:g} is not below the "
                         f"{p2:.0%} value {q2:g}", source=source, key=key,
                         allowed="values that increase with the percentile")
    params = dict(given)
    for name, default in FAMILIES[family]["optional"].items():
        params.setdefault(name, default)
    _check_params(family, params, key, source)
    cache_key = repr((family, sorted(params.items()), p1, q1, p2, q2))
    fitted = _fit_cache().get(cache_key)
    if fitted is None:
        fitted = _FITTERS[family](params, p1, q1, p2, q2, key, source)
        fitted = {name: float(value) for name, value in fitted.items()}
        prior = Prior(family, fitted, quantiles={p1: q1, p2: q2}, source=text)
        _check_params(family, fitted, key, source)
        _verify_fit(prior, key, source)
        _remember_fit(cache_key, fitted)
    return Prior(family, dict(fitted), quantiles={p1: q1, p2: q2}, source=text)


_FITS: dict | None = None


def _fit_path():
    folder = scenario_cache_dir()
    return folder / "quantile-fits.json" if folder else None


def _fit_cache() -> dict:
    """Verified quantile conversions from earlier runs: a warm run never imports scipy."""
    global _FITS
    if _FITS is None:
        path = _fit_path()
        try:
            _FITS = json.loads(path.read_text()) if path and path.is_file() else {}
        except (OSError, ValueError):
            _FITS = {}
    return _FITS


def _remember_fit(cache_key: str, fitted: dict) -> None:
    cache = _fit_cache()
    cache[cache_key] = fitted
    path = _fit_path()
    if path is None:
        return
    try:
        handle, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
        with os.fdopen(handle, "w") as out:
            json.dump(cache, out)
        os.replace(tmp, path)
    except OSError:
        pass  # the cache is an optimisation only


def _infeasible(family, key, source, why):
    return InputError(f"no {family} distribution has these quantiles: {why}", source=source, key=key,
                      allowed="quantiles inside the family's support, or another family")


def _fit_normal(params, p1, q1, p2, q2, key, source):
    z1, z2 = _STD_NORMAL.inv_cdf(p1), _STD_NORMAL.inv_cdf(p2)
    sd = (q2 - q1) / (z2 - z1)
    return {"mean": q1 - sd * z1, "sd": sd}


def _fit_lognormal(params, p1, q1, p2, q2, key, source):
    loc = params["loc"]
    if q1 <= loc:
        raise _infeasible("lognormal", key, source, f"the {p1:.0%} value must exceed loc = {loc:g}")
    fit = _fit_normal({}, p1, math.log(q1 - loc), p2, math.log(q2 - loc), key, source)
    return {"mu": fit["mean"], "sigma": fit["sd"], "loc": loc}


def _fit_uniform(params, p1, q1, p2, q2, key, source):
    width = (q2 - q1) / (p2 - p1)
    return {"low": q1 - p1 * width, "high": q1 - p1 * width + width}


def _fit_gamma(params, p1, q1, p2, q2, key, source):
    from scipy.special import gammaincinv

    loc = params["loc"]
    if q1 <= loc:
        raise _infeasible("gamma", key, source, f"the {p1:.0%} value must exceed loc = {loc:g}")
    target = math.log((q2 - loc) / (q1 - loc))

    def excess(log_shape):  # the quantile ratio falls monotonically with the shape
        k = math.exp(log_shape)
        with np.errstate(all="ignore"):
            ratio = gammaincinv(k, p2) / gammaincinv(k, p1)
        return (math.log(ratio) if 0 < ratio < math.inf else math.inf) - target

    lo, hi = math.log(0.02), math.log(1e7)
    if excess(lo) * excess(hi) > 0:
        raise _infeasible("gamma", key, source, "their ratio is outside what any shape gives")
    shape = math.exp(brentq(excess, lo, hi, xtol=1e-14, rtol=1e-14, maxiter=500))
    return {"shape": shape, "scale": (q1 - loc) / gammaincinv(shape, p1), "loc": loc}


def _solve2(residual, start, family, key, source):
    from scipy.optimize import root

    solution = root(residual, start, method="hybr", options={"xtol": 1e-13})
    if not solution.success or max(abs(r) for r in residual(solution.x)) > 1e-10:
        solution = root(residual, start, method="lm", options={"xtol": 1e-14, "ftol": 1e-14})
    if max(abs(r) for r in residual(solution.x)) > 1e-10:
        raise _infeasible(family, key, source, "the equations have no solution")
    return solution.x


def _fit_beta(params, p1, q1, p2, q2, key, source):
    from scipy.special import betaincinv

    low, high = params["low"], params["high"]
    if not low < q1 or not q2 < high:
        raise _infeasible("beta", key, source, f"both must lie inside ({low:g}, {high:g})")
    u1, u2 = (q1 - low) / (high - low), (q2 - low) / (high - low)

    def residual(log_ab):
        a, b = math.exp(log_ab[0]), math.exp(log_ab[1])
        return [betaincinv(a, b, p1) - u1, betaincinv(a, b, p2) - u2]

    mean = 0.5 * (u1 + u2)
    sd = (u2 - u1) / (_STD_NORMAL.inv_cdf(p2) - _STD_NORMAL.inv_cdf(p1))
    common = max(mean * (1 - mean) / max(sd * sd, 1e-12) - 1.0, 0.5)
    a, b = _solve2(residual, [math.log(mean * common), math.log((1 - mean) * common)], "beta", key, source)
    return {"a": math.exp(a), "b": math.exp(b), "low": low, "high": high}


def _fit_truncated_normal(params, p1, q1, p2, q2, key, source):
    low, high = params["low"], params["high"]
    if not low < q1 or not q2 < high:
        raise _infeasible("truncated_normal", key, source, f"both must lie inside ({low:g}, {high:g})")

    def residual(x):
        mean, sd = x[0], math.exp(x[1])
        prior = Prior("truncated_normal", {"mean": mean, "sd": sd, "low": low, "high": high})
        return list(prior.frozen().cdf([q1, q2]) - [p1, p2])

    start = _fit_normal({}, p1, q1, p2, q2, key, source)
    mean, log_sd = _solve2(residual, [start["mean"], math.log(start["sd"])], "truncated_normal", key, source)
    return {"mean": float(mean), "sd": math.exp(log_sd), "low": low, "high": high}


def _fit_bounded_by_mode(family):
    def fit(params, p1, q1, p2, q2, key, source):
        mode = params["mode"]
        extra = {"lambda": params["lambda"]} if family == "pert" else {}

        def residual(x):
            low, high = mode - math.exp(x[0]), mode + math.exp(x[1])
            prior = Prior(family, {"low": low, "mode": mode, "high": high, **extra})
            return list(prior.frozen().cdf([q1, q2]) - [p1, p2])

        spread = q2 - q1
        low_gap, high_gap = _solve2(residual, [math.log(max(mode - q1, 0) + 0.5 * spread),
                                               math.log(max(q2 - mode, 0) + 0.5 * spread)],
                                    family, key, source)
        return {"low": mode - math.exp(low_gap), "mode": mode, "high": mode + math.exp(high_gap), **extra}

    return fit


_FITTERS = {
    "normal": _fit_normal, "lognormal": _fit_lognormal, "uniform": _fit_uniform,
    "gamma": _fit_gamma, "beta": _fit_beta, "truncated_normal": _fit_truncated_normal,
    "triangular": _fit_bounded_by_mode("triangular"), "pert": _fit_bounded_by_mode("pert"),
}


def _verify_fit(prior: Prior, key: str, source: str) -> None:
    """Reject a conversion that does not reproduce its quantiles."""
    if prior.family in ("normal", "lognormal", "uniform"):
        return  # closed forms: exact up to rounding
    cdf = prior.frozen().cdf(list(prior.quantiles.values()))
    for (p, q), c in zip(prior.quantiles.items(), cdf):
        if abs(c - p) > FIT_TOLERANCE:
            raise _infeasible(prior.family, key, source,
                              f"the best fit puts {q:g} at the {c:.4%} point, not {p:.0%}")


# Families whose quantile function comes straight from scipy.special, computed as scipy.stats does
# (``_ppf(q) * scale + loc``, bounds at 0 and 1): the same numbers bit for bit, without importing
# scipy.stats (0.4 s of a judged run's start-up) nor its per-call overhead (a scalar beta quantile:
# 30 us through scipy.stats, 1.5 us here; a two-level run asks for thousands)
_SPECIAL_PPF = ("normal", "lognormal", "beta", "pert", "gamma", "uniform")


def _special_ppf(prior: "Prior", q: np.ndarray, *, upper: bool = False):
    """``ppf(q)``, or with ``upper`` the inverse survival function ``isf(q)`` (accurate in the upper tail)."""
    from scipy import special

    p = prior.params
    family = prior.family
    if family == "normal":
        z = -special.ndtri(q) if upper else special.ndtri(q)
        core, scale, loc, low, high = z, p["sd"], p["mean"], -np.inf, np.inf
    elif family == "lognormal":
        z = -special.ndtri(q) if upper else special.ndtri(q)
        core, scale, loc, low, high = np.exp(p["sigma"] * z), math.exp(p["mu"]), p["loc"], 0.0, np.inf
    elif family in ("beta", "pert"):
        a, b = beta_shape(prior)
        # not scipy.stats' own (its private _beta_ppf): where boost's root finder gives up under that
        # policy, it returns 0.5 (Beta(0.5, 2) at q ~ 1e-16: its table was 0.5 over 88 % of the mass);
        # betaincinv returns the root, and elsewhere the same bits
        with np.errstate(over="ignore"):
            core = special.betainccinv(a, b, q) if upper else special.betaincinv(a, b, q)
        scale, loc, low, high = p["high"] - p["low"], p["low"], 0.0, 1.0
    elif family == "gamma":
        core = special.gammainccinv(p["shape"], q) if upper else special.gammaincinv(p["shape"], q)
        scale, loc, low, high = p["scale"], p["loc"], 0.0, np.inf
    else:  # uniform
        core, scale, loc, low, high = (1.0 - q) if upper else q, p["high"] - p["low"], p["low"], 0.0, 1.0
    inside = (q > 0) & (q < 1)
    first, last = (high, low) if upper else (low, high)  # the value at q = 0 and at q = 1
    value = np.where(inside, np.asarray(core) * scale + loc,
                     np.where(q == 0, first * scale + loc, np.where(q == 1, last * scale + loc, np.nan)))
    return value[()] if value.ndim == 0 else value

