"""Scenario -> the flat arrays the kernels read (``CompiledScenario``).

Variates are laid out prior by prior (a per-year prior takes ``horizon``
consecutive slots), then the companies' growth shocks (``horizon`` each), then
the common demand factor (``horizon``).  Each normal score has a name
(``variate_names`` plus ``companies.<c>.growth_shock[t]`` and
``demand_factor[t]``) and its random stream is keyed by a hash of that name,
so two scenarios give a prior of the same name the same random numbers in
every draw, whatever its family and whatever else differs: common random
numbers for comparisons come for free.

Table families are tabulated as ``F^-1(Phi(z))`` on ``z`` in ``[-8.5, 8.5]``
with 4097 points (numerically: the upper half through ``isf`` so the upper
tail keeps its precision; beta and PERT by ``beta_grid``, 2.4 times faster
than the inverse at every point).  Linear interpolation in ``z`` puts the sampled
distribution within about 1e-6 in Kolmogorov distance of the exact one for
the families and parameters shipped here (measured in
``tests/scenario/test_compile.py``), far below Monte Carlo error at 1e9 draws.
Compiled scenarios are cached on disk by content, so a warm run never
imports scipy.
"""

from __future__ import annotations

import dataclasses
import hashlib
import re
import json
import math
import os
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .._cache import scenario_cache_dir
from .._version import __version__
from ..kernels import model as m
from ..kernels.sampling import (FAMILY_DISCRETE, FAMILY_FIXED, FAMILY_LOGNORMAL, FAMILY_NORMAL,
                                FAMILY_TABLE, SPEC_COLUMNS, SPEC_FAMILY, SPEC_P0, SPEC_ROW,
                                TABLE_POINTS, Z_MAX)
from .beta_grid import beta_quantiles
from .distributions import Prior, beta_shape
from .schema import (COMPANY_PRIORS, CONTRACT_PRIORS, FUNDING_PRIORS, PER_YEAR_PRIORS, YIELD_PRIORS, Scenario,
                     domain_bounds)

# revenue_per_gw and yield_per_gw share a column; YIELD_FROM_REVENUE says which it holds
_COMPANY_COLUMN = {name: getattr(m, "YIELD_PER_GW" if name in YIELD_PRIORS else name.upper())
                   for name in COMPANY_PRIORS}
_CONTRACT_COLUMN = {name: getattr(m, name.upper()) for name in CONTRACT_PRIORS}
_FUNDING_SLOT = {"p_close": m.SV_P_CLOSE, "p_reopen": m.SV_P_REOPEN, "growth_hurdle": m.SV_HURDLE,
                 "raise_multiple": m.SV_RAISE_MULTIPLE}
LAYOUT = 5  # bump when the arrays change: keys the on-disk cache
ARRAYS = ("z_stream", "z_active", "spec", "tables", "order", "family_start", "copula_index", "copula_chol",
          "company_var", "contract_var", "contract_ramp", "contract_terms", "investments", "scenario_var",
          "providers", "equity_recovery")
TIMING_CODE = {"past": 0, "upfront": 1, "per_gw": 2}  # kernels.exposure.TIMING_*


@dataclass(frozen=True)
class CompiledScenario:
    """The kernel-ready form of a scenario: arrays plus the scalars the kernel needs."""

    arrays: dict
    n_z: int
    factor_z: int
    discount_var: int
    demand_loading: float
    horizon: int
    n_companies: int

    @property
    def providers(self) -> list[str]:
        """Names of the providers and investors (``contract_terms`` and ``investments`` index them)."""
        return [str(p) for p in self.arrays["providers"]]

    @property
    def equity_recovery(self) -> float:
        """Share of an investment recovered when the lab leaves payments unpaid (the exposure kernel's)."""
        return float(self.arrays["equity_recovery"][0])

    @property
    def model(self) -> m.Model:
        """The bundle every kernel reads (``kernels.model.Model``)."""
        a = self.arrays
        return m.Model(a["z_active"], a["spec"], a["tables"], a["order"], a["family_start"], a["copula_index"],
                       a["copula_chol"], a["company_var"], a["contract_var"], a["contract_ramp"],
                       a["contract_terms"], a["investments"], a["scenario_var"], float(self.demand_loading),
                       int(self.horizon))


def z_grid() -> np.ndarray:
    """The normal scores at which table families are tabulated."""
    return np.linspace(-Z_MAX, Z_MAX, TABLE_POINTS)


def build_table(prior: Prior) -> np.ndarray:
    """Tabulate ``F^-1(Phi(z))`` of a prior on :func:`z_grid`."""
    from scipy.special import ndtr

    z = z_grid()
    if prior.family in ("beta", "pert"):  # 2.4x faster (risk.scenario.beta_grid), within 1e-13
        table = beta_quantiles(*beta_shape(prior), z) * (prior.params["high"] - prior.params["low"])
        table += prior.params["low"]
    else:
        table = np.empty_like(z)
        lower = z <= 0
        table[lower] = prior.ppf(ndtr(z[lower]))
        table[~lower] = prior.isf(ndtr(-z[~lower]))
    low, high = prior.support()
    table = np.clip(table, low, high)
    if not np.all(np.isfinite(table)):
        raise ValueError(f"non-finite quantile table for {prior}")
    return np.maximum.accumulate(table)  # guard against rounding wiggles: keep it monotone


def discrete_row(prior: Prior) -> np.ndarray:
    """A discrete prior's table row: ``k - 1`` thresholds ``Phi^-1(cumulative)``, then ``k`` values."""
    from statistics import NormalDist

    cumulative = np.cumsum(prior.params["weights"])[:-1]
    inv = NormalDist().inv_cdf
    thresholds = [inv(c) if 0.0 < c < 1.0 else (-np.inf if c <= 0.0 else np.inf) for c in cumulative]
    return np.array(thresholds + list(prior.params["values"]), dtype=float)


def _spec_key(scenario: Scenario) -> str:
    payload = {"version": __version__, "layout": LAYOUT, "table_points": TABLE_POINTS, "z_max": Z_MAX,
               "scenario": _canonical(scenario)}
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()


def _canonical(scenario: Scenario):
    return {
        "horizon": scenario.horizon, "loading": scenario.demand_correlation,
        "recovery": scenario.equity_recovery, "financing": _prior_key(scenario.financing_rate),
        "market": {k: _prior_key(v) for k, v in (scenario.funding_market or {}).items()},
        "terms": [[k.provider, repr(k.binding_gw), k.notice_years] for c in scenario.companies for k in c.contracts],
        "investments": [[c.name, i.investor, i.timing, i.contract, _prior_key(i.amount)]
                        for c in scenario.companies for i in c.investments],
        "discount": _prior_key(scenario.discount_rate), "correlation": scenario.correlation,
        "companies": [
            {"name": c.name, "priors": {k: _prior_key(v) for k, v in c.priors.items()},
             "contracts": [{"name": k.name, "kind": k.kind, "ramp": k.capacity_gw,
                            "priors": {n: _prior_key(v) for n, v in k.priors.items()}}
                           for k in c.contracts]}
            for c in scenario.companies],
    }


def _table_key(prior: Prior) -> str:
    """A prior's content as a key: equal priors share one table."""
    return json.dumps(_prior_key(prior))


def _prior_key(prior: Prior):
    return [prior.family, sorted((k, repr(v)) for k, v in prior.params.items())]


def compile_scenario(scenario: Scenario, *, use_cache: bool = True) -> CompiledScenario:
    """Compile a scenario for the kernels, from the on-disk cache when possible.

    Parameters
    ----------
    scenario : Scenario
        A validated scenario.
    use_cache : bool, default True
        Read and write the compiled-scenario cache.

    Returns
    -------
    CompiledScenario
    """
    folder = scenario_cache_dir() if use_cache else None
    path = folder / f"{_spec_key(scenario)}.npz" if folder else None
    if path is not None and path.is_file():
        try:
            return _load(path)
        except (OSError, ValueError, KeyError):
            pass  # a damaged cache entry is rebuilt below
    compiled = _build(scenario)
    if path is not None:
        _save(path, compiled)
    return compiled


def _save(path: Path, compiled: CompiledScenario) -> None:
    scalars = np.array([compiled.n_z, compiled.factor_z, compiled.discount_var, compiled.horizon,
                        compiled.n_companies], dtype=np.int64)
    handle, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as out:
            np.savez(out, scalars=scalars, loading=np.array([compiled.demand_loading]), **compiled.arrays)
        os.replace(tmp, path)
    except OSError:
        Path(tmp).unlink(missing_ok=True)


def _load(path: Path) -> CompiledScenario:
    with np.load(path) as data:
        arrays = {name: np.ascontiguousarray(data[name]) for name in ARRAYS}
        n_z, factor_z, discount_var, horizon, n_companies = (int(v) for v in data["scalars"])
        loading = float(data["loading"][0])
    return CompiledScenario(arrays, n_z, factor_z, discount_var, loading, horizon, n_companies)


def variate_names(scenario: Scenario) -> list[str]:
    """Dotted name of every variate, in kernel order (per-year priors get ``[t]``)."""
    names = []
    for path, prior in scenario.priors():
        if path.rsplit(".", 1)[-1] in PER_YEAR_PRIORS:
            names.extend(f"{path}[{t}]" for t in range(scenario.horizon))
        else:
            names.append(path)
    return names


def prior_variates(scenario: Scenario) -> dict:
    """Every prior with the indices of its variates, in kernel order: ``path -> (Prior, [index, ...])``.

    A per-year prior has ``horizon`` consecutive variates, any other prior one
    (the layout of ``variate_names`` and of the compiled ``spec``).
    """
    found, index = {}, 0
    for path, prior in scenario.priors():
        count = scenario.horizon if path.rsplit(".", 1)[-1] in PER_YEAR_PRIORS else 1
        found[path] = (prior, list(range(index, index + count)))
        index += count
    return found


def score_names(scenario: Scenario) -> list[str]:
    """Name of every normal score of a draw, in kernel order: the variates, then
    each company's growth shocks, then the common demand factor, then (with a
    funding market) the market's reopening scores."""
    names = variate_names(scenario)
    for company in scenario.companies:
        names.extend(f"companies.{company.name}.growth_shock[{t}]" for t in range(scenario.horizon))
    names.extend(f"demand_factor[{t}]" for t in range(scenario.horizon))
    if scenario.funding_market:
        names.extend(f"funding_market.reopen[{t}]" for t in range(scenario.horizon))
    return names


def stream_hash(name: str) -> int:
    """64-bit hash of an input's name: the key of its random stream (with the seed)."""
    return int.from_bytes(hashlib.blake2b(name.encode(), digest_size=8).digest(), "little")


def _build(scenario: Scenario) -> CompiledScenario:
    horizon = scenario.horizon
    variates: list[Prior] = []
    bounds: list[tuple[float, float]] = []
    index_of: dict[str, int] = {}
    for path, prior in scenario.priors():
        index_of[path] = len(variates)
        name = path.rsplit(".", 1)[-1]
        count = horizon if name in PER_YEAR_PRIORS else 1
        variates.extend([prior] * count)
        bounds.extend([domain_bounds(name)] * count)
    n_var = len(variates)
    spec = np.zeros((n_var, SPEC_COLUMNS))
    tables: list[np.ndarray] = []
    rows: dict[str, int] = {}
    for i, prior in enumerate(variates):
        _fill_spec(spec[i], prior, bounds[i], tables, rows)
    companies = scenario.companies
    company_var = np.zeros((len(companies), m.N_COMPANY_COLUMNS), dtype=np.int64)
    contracts = [(ci, k) for ci, c in enumerate(companies) for k in c.contracts]
    contract_var = np.full((len(contracts), m.CONTRACT_KIND + 1), -1, dtype=np.int64)
    contract_ramp = np.array([k.capacity_gw for _, k in contracts], dtype=float).reshape(len(contracts), horizon)
    for ci, company in enumerate(companies):
        for name in company.priors:
            company_var[ci, _COMPANY_COLUMN[name]] = index_of[f"companies.{company.name}.{name}"]
        company_var[ci, m.YIELD_FROM_REVENUE] = 1 if "revenue_per_gw" in company.priors else 0
        company_var[ci, m.COMPANY_SHOCK_Z] = n_var + ci * horizon
    for row, (ci, contract) in enumerate(contracts):
        for name in contract.priors:
            path = f"companies.{companies[ci].name}.contracts.{contract.name}.{name}"
            contract_var[row, _CONTRACT_COLUMN[name]] = index_of[path]
        contract_var[row, m.CONTRACT_COMPANY] = ci
        contract_var[row, m.CONTRACT_KIND] = m.KIND_LEASE if contract.kind == "lease" else m.KIND_OWNED
    factor_z = n_var + len(companies) * horizon
    if scenario.correlation:
        paths, matrix = scenario.correlation
        copula_index = np.array([index_of[p] for p in paths], dtype=np.int64)
        copula_chol = np.linalg.cholesky(np.array(matrix))
    else:
        copula_index = np.zeros(0, dtype=np.int64)
        copula_chol = np.zeros((0, 0))
    width = max([TABLE_POINTS] + [len(t) for t in tables])
    table_array = np.zeros((max(len(tables), 1), width))
    for row, table in enumerate(tables):
        table_array[row, :len(table)] = table
    providers = sorted({k.provider or "(unnamed)" for _, k in contracts}
                       | {i.investor for c in companies for i in c.investments})
    provider_index = {name: i for i, name in enumerate(providers)}
    contract_terms = np.array([[provider_index[k.provider or "(unnamed)"], min(k.binding_gw, m.ALL_BINDING),
                                k.notice_years]
                               for _, k in contracts], dtype=float).reshape(len(contracts), 3)
    contract_row = {(ci, k.name): row for row, (ci, k) in enumerate(contracts)}
    investments = np.array([[ci, provider_index[inv.investor], TIMING_CODE[inv.timing],
                             index_of[f"companies.{c.name}.investments[{j}].amount"],
                             contract_row[(ci, inv.contract)] if inv.timing == "per_gw" else -1]
                            for ci, c in enumerate(companies) for j, inv in enumerate(c.investments)],
                           dtype=float).reshape(-1, 5)
    n_z = factor_z + horizon * (2 if scenario.funding_market else 1)
    scenario_var = np.full(m.N_SCENARIO_VAR, -1, dtype=np.int64)
    scenario_var[m.SV_DISCOUNT] = index_of["discount_rate"]
    scenario_var[m.SV_FINANCING] = index_of["financing_rate"]
    scenario_var[m.SV_FACTOR_Z] = factor_z
    if scenario.funding_market:
        for name in FUNDING_PRIORS:
            scenario_var[_FUNDING_SLOT[name]] = index_of[f"funding_market.{name}"]
        scenario_var[m.SV_REOPEN_Z] = factor_z + horizon
    z_stream = np.array([stream_hash(name) for name in score_names(scenario)], dtype=np.uint64)
    order, family_start, z_active = _sampling_plan(spec, n_z)
    arrays = {
        "z_stream": z_stream, "z_active": z_active, "spec": spec, "tables": table_array,
        "order": order, "family_start": family_start, "copula_index": copula_index,
        "copula_chol": copula_chol, "company_var": company_var, "contract_var": contract_var,
        "contract_ramp": np.ascontiguousarray(contract_ramp),
        "contract_terms": contract_terms, "investments": investments, "scenario_var": scenario_var,
        "providers": np.array(providers if providers else [""], dtype=str)[:len(providers)],
        "equity_recovery": np.array([scenario.equity_recovery]),
    }
    return CompiledScenario(arrays=arrays, n_z=n_z, factor_z=factor_z,
                            discount_var=index_of["discount_rate"],
                            demand_loading=float(scenario.demand_correlation),
                            horizon=horizon, n_companies=len(companies))


def _fill_spec(row: np.ndarray, prior: Prior, bounds: tuple, tables: list, rows: dict, pending=None) -> None:
    """Write a variate's ``spec`` row; a table family's table is appended to ``tables`` once per prior.

    ``rows`` maps a prior's content (``_prior_key``) to its table's row, so
    per-year priors and equal priors share one table.  With ``pending`` (a
    list), a new table is left as None and ``(row, prior)`` noted, to be
    built later (in parallel).
    """
    p = prior.params
    if prior.family == "fixed":
        row[:2] = FAMILY_FIXED, p["value"]
        return
    if prior.family == "normal":
        row[:5] = (FAMILY_NORMAL, p["mean"], p["sd"], *bounds)
        return
    if prior.family == "lognormal":
        row[:4] = FAMILY_LOGNORMAL, p["mu"], p["sigma"], p["loc"]
        return
    key = _table_key(prior)
    if key not in rows:
        rows[key] = len(tables)
        if pending is not None and prior.family != "discrete":
            pending.append((len(tables), prior))
            tables.append(None)
        else:
            tables.append(discrete_row(prior) if prior.family == "discrete" else build_table(prior))
    row[SPEC_ROW] = rows[key]
    if prior.family == "discrete":
        row[SPEC_FAMILY] = FAMILY_DISCRETE
        row[SPEC_P0] = len(prior.params["values"])
    else:
        row[SPEC_FAMILY] = FAMILY_TABLE


def compile_calibrations(scenario: Scenario, compiled: CompiledScenario, calibrated: list):
    """The compiled form of a two-level run: ``(compiled, specs, orders, family_starts)``.

    ``calibrated`` are the scenarios of the calibrations (``scenario`` with
    the judgement's overrides); they may differ from ``scenario`` only in
    their priors.  Only the priors a calibration changes are recompiled; all
    tables live in one array (the central ones first), and the scores drawn
    are those any calibration samples.
    """
    variates = prior_variates(scenario)
    central = _structure(scenario)
    rows = _central_rows(scenario, compiled)
    tables = list(compiled.arrays["tables"][:max(rows.values(), default=-1) + 1])
    pending: list = []  # new tables, built at the end on every core (scipy's quantile functions release the GIL)
    specs, orders, starts = [], [], []
    n_var = compiled.arrays["spec"].shape[0]
    active = np.zeros(compiled.n_z, dtype=bool)
    active[compiled.arrays["z_active"]] = True
    for index, other in enumerate(calibrated):
        if _structure(other) != central:
            raise ValueError(f"calibration {index} changes more than priors' values")
        spec = compiled.arrays["spec"].copy()
        for (path, prior), (_, (old, columns)) in zip(other.priors(), variates.items()):
            if _prior_key(prior) == _prior_key(old):
                continue
            key = _table_key(prior)
            if key not in rows and spec[columns[0], SPEC_FAMILY] == FAMILY_TABLE:
                moved = _affine_table(old, prior, compiled.arrays["tables"][int(spec[columns[0], SPEC_ROW])])
                if moved is not None:  # a scaled or shifted prior: its table, without scipy
                    rows[key] = len(tables)
                    tables.append(moved)
            for column in columns:
                spec[column] = 0.0
                _fill_spec(spec[column], prior, domain_bounds(path.rsplit(".", 1)[-1]), tables, rows, pending)
        order, family_start, z_active = _sampling_plan(spec, compiled.n_z)
        active[z_active] = True
        specs.append(spec)
        orders.append(np.concatenate([order, np.full(n_var - len(order), -1, dtype=np.int64)]))
        starts.append(family_start)
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        for (row, _), table in zip(pending, pool.map(build_table, [prior for _, prior in pending])):
            tables[row] = table
    width = max([TABLE_POINTS] + [len(t) for t in tables])
    table_array = np.zeros((max(len(tables), 1), width))
    for row, table in enumerate(tables):
        table_array[row, :len(table)] = table
    arrays = dict(compiled.arrays, tables=table_array, z_active=np.flatnonzero(active).astype(np.int64))
    return (dataclasses.replace(compiled, arrays=arrays), np.ascontiguousarray(specs),
            np.ascontiguousarray(orders), np.ascontiguousarray(starts))


def _affine_table(old: Prior, new: Prior, table: np.ndarray) -> np.ndarray | None:
    """``new``'s quantile table from ``old``'s when ``new`` is ``a X + b`` of ``old`` (same shape), else None.

    ``F_new^-1(u) = a F_old^-1(u) + b`` exactly, so the scale and shift
    overrides of the judgement (``op = "scale"``, a view's ``shift``) cost no
    quantile function.
    """
    if old.family != new.family:
        return None
    p, q = old.params, new.params
    if old.family in ("beta", "uniform", "triangular", "pert"):
        if old.family == "beta" and (p["a"], p["b"]) != (q["a"], q["b"]):
            return None
        if old.family == "pert" and p["lambda"] != q["lambda"]:
            return None
        width, new_width = p["high"] - p["low"], q["high"] - q["low"]
        if width <= 0 or new_width <= 0:
            return None
        if old.family in ("triangular", "pert") and not math.isclose(
                (p["mode"] - p["low"]) / width, (q["mode"] - q["low"]) / new_width, rel_tol=1e-12, abs_tol=1e-15):
            return None
        factor = new_width / width
        return q["low"] + (table[:TABLE_POINTS] - p["low"]) * factor
    if old.family == "gamma" and p["shape"] == q["shape"] and p["scale"] > 0:
        factor = q["scale"] / p["scale"]
        return q["loc"] + (table[:TABLE_POINTS] - p["loc"]) * factor
    return None


def _structure(scenario: Scenario):
    """Everything of a scenario but its priors' values (calibrations must agree on it)."""
    canonical = _canonical(scenario)
    canonical["financing"] = canonical["discount"] = None
    canonical["market"] = sorted(canonical["market"])
    canonical["investments"] = [row[:4] for row in canonical["investments"]]
    for company in canonical["companies"]:
        company["priors"] = sorted(company["priors"])
        for contract in company["contracts"]:
            contract["priors"] = sorted(contract["priors"])
    return json.dumps(canonical, sort_keys=True, default=str)


def _central_rows(scenario: Scenario, compiled: CompiledScenario) -> dict:
    """``_prior_key`` of each central table prior -> its row in the compiled tables."""
    rows = {}
    spec = compiled.arrays["spec"]
    for path, (prior, columns) in prior_variates(scenario).items():
        if spec[columns[0], SPEC_FAMILY] >= FAMILY_TABLE:
            rows[_table_key(prior)] = int(spec[columns[0], SPEC_ROW])
    return rows


def _sampling_plan(spec: np.ndarray, n_z: int):
    """Variates grouped by family (``order``, ``family_start``) and the scores to draw."""
    groups = [np.flatnonzero(spec[:, SPEC_FAMILY] == code)
              for code in (FAMILY_NORMAL, FAMILY_LOGNORMAL, FAMILY_TABLE, FAMILY_DISCRETE)]
    family_start = np.cumsum([0] + [len(g) for g in groups]).astype(np.int64)
    n_var = spec.shape[0]
    z_active = np.array([i for i in range(n_z) if i >= n_var or spec[i, SPEC_FAMILY] != FAMILY_FIXED],
                        dtype=np.int64)
    return np.concatenate(groups).astype(np.int64), family_start, z_active


def pinned(compiled: CompiledScenario, variates, value: float) -> CompiledScenario:
    """A copy of ``compiled`` with the given variates fixed at ``value`` (a tornado's pinned prior).

    Every other input keeps its named stream, so the pinned run is paired
    draw by draw with the original.
    """
    spec = compiled.arrays["spec"].copy()
    for v in variates:
        spec[v, :] = 0.0
        spec[v, SPEC_FAMILY] = FAMILY_FIXED
        spec[v, SPEC_P0] = value
    order, family_start, z_active = _sampling_plan(spec, compiled.n_z)
    arrays = dict(compiled.arrays, spec=spec, order=order, family_start=family_start, z_active=z_active)
    copula_index = compiled.arrays["copula_index"]
    keep = np.array([i not in set(variates) for i in copula_index], dtype=bool)
    if not keep.all():
        # a pinned prior leaves the copula; the others keep their correlations
        chol = compiled.arrays["copula_chol"]
        kept = (chol @ chol.T)[np.ix_(keep, keep)]
        arrays["copula_index"] = copula_index[keep] if keep.sum() > 1 else np.zeros(0, dtype=np.int64)
        arrays["copula_chol"] = np.linalg.cholesky(kept) if keep.sum() > 1 else np.zeros((0, 0))
    return dataclasses.replace(compiled, arrays=arrays)


def score_groups(scenario: Scenario) -> dict[str, list[int]]:
    """The model's independent random inputs: name -> indices of its normal scores.

    A prior is one input (a per-year prior's ``horizon`` scores together), each
    company's growth shocks are one, and the common demand factor is one.
    Priors joined by the Gaussian copula are dependent, so they form a single
    group (``copula: a + b``): variance-based indices are then valid for
    groups of independent inputs.
    """
    groups: dict[str, list[int]] = {}
    for index, name in enumerate(score_names(scenario)):
        # a per-year input's "[t]" is its year; "investments[i]" is a name of its own
        groups.setdefault(re.sub(r"\[\d+\]$", "", name), []).append(index)
    if scenario.correlation:
        paths = scenario.correlation[0]
        merged = [i for path in paths for i in groups.pop(path)]
        groups["copula: " + " + ".join(paths)] = merged
    return groups
