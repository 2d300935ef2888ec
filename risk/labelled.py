"""Labelled views of a result: xarray, ArviZ and HTML (the notebook layer).

``to_xarray`` turns the kept draws (``simulate(..., keep=N)``) into an
``xarray.Dataset`` with dimensions ``draw`` (the draws' numbers in the run),
``company`` (the companies and ``"sector"``) and ``year``.
``to_inference_data`` gives ArviZ the sampled inputs as the ``prior`` group
and the outcomes as ``prior_predictive``; the kept draws are split into
``chains`` consecutive blocks.  Every draw has its own random streams, so the
chains are independent and ArviZ's effective sample size and Monte Carlo
standard errors apply as they do to independent chains.

ArviZ 0.23 (what pip resolves on Python 3.11) holds groups in an
``InferenceData``; ArviZ 1.x in an ``xarray.DataTree``.  Both are built from
the same ``xarray`` datasets here.
"""

from __future__ import annotations

import html

import numpy as np

from .errors import InputError
from .scenario.compile import prior_variates
from .scenario.display import cell
from .scenario.schema import DOMAINS, PER_YEAR_PRIORS

# The kept paths' rows (kernels.simulate.KEPT_PATHS), in order.
SERIES = (("revenue", "$B per year"), ("earnings", "$B per year, cash, before compute"),
          ("compute_cost", "$B per year"), ("new_money", "$B raised at the end of the year"),
          ("inflow", "$B of committed strategic money arriving"), ("run_rate", "$B per year, at the year's end"))


def _kept(result):
    if result.kept is None:
        raise InputError("this result kept no draws", source="keep",
                         allowed="simulate with keep=N, e.g. risk.simulate(..., keep=100_000)")
    return result.kept


def _prior_arrays(result) -> dict:
    """Sampled prior values per prior path: (n,) or (n, year) for per-year priors."""
    kept = _kept(result)
    arrays = {}
    for path, (prior, columns) in prior_variates(result.scenario).items():
        name = path.rsplit(".", 1)[-1]
        values = kept.values[:, columns]
        arrays[path] = (values if name in PER_YEAR_PRIORS else values[:, 0], prior, name)
    return arrays


def to_xarray(result):
    """The kept draws as an ``xarray.Dataset`` (dims ``draw``, ``company``, ``year``).

    Variables: ``coverage``, ``funding_gap`` ($B, discounted), ``shortfall``
    and ``distress`` (booleans), ``breakeven_year`` (NaN when none in the
    horizon), ``revenue``, ``earnings``, ``compute_cost`` per year ($B), and
    every sampled prior under its dotted path (with its family, source and
    domain as attributes).
    """
    import xarray as xr

    kept = _kept(result)
    scenario = result.scenario
    years = np.array(scenario.years)
    coords = {"draw": kept.draw_index, "company": list(scenario.entities), "year": years}
    breakeven = np.where(kept.breakeven < scenario.horizon,
                         scenario.start_year + kept.breakeven, np.nan).astype(float)
    data = {
        "coverage": (("draw", "company"), kept.coverage,
                     {"long_name": "discounted earnings / discounted compute cost", "units": "ratio"}),
        "funding_gap": (("draw", "company"), kept.funding_gap,
                        {"long_name": "discounted shortfall of earnings under compute cost", "units": "$B"}),
        "shortfall": (("draw", "company"), kept.coverage < 1.0, {"long_name": "coverage < 1"}),
        "distress": (("draw", "company"), kept.distress,
                     {"long_name": "cash without raises below zero in some year (needs new money)"}),
        "default": (("draw", "company"), kept.default, {"long_name": "cash after raising below zero in some year"}),
        "new_money_total": (("draw", "company"), kept.new_money, {"long_name": "new money raised", "units": "$B"}),
        "breakeven_year": (("draw", "company"), breakeven,
                           {"long_name": "first year from which earnings >= compute cost to the horizon (NaN: none)",
                            "units": "year"}),
    }
    for row, (series, units) in enumerate(SERIES):
        data[series] = (("draw", "company", "year"), kept.paths[:, row], {"units": units})
    for path, (values, prior, name) in _prior_arrays(result).items():
        dims = ("draw", "year") if values.ndim == 2 else ("draw",)
        data[path] = (dims, values, {"family": prior.family, "source": prior.source,
                                     "domain": DOMAINS[name][4]})
    attrs = {"scenario": scenario.name, "changes": "; ".join(scenario.changes), "seed": result.seed,
             "draws": result.draws, "kept": len(kept.draw_index), "sampler": result.sampler,
             "kept_draws": "floor((i + 1/2) * draws / kept): spread evenly over the run"}
    return xr.Dataset(data, coords=coords, attrs=attrs)


def to_inference_data(result, chains: int = 4):
    """ArviZ data: sampled inputs in ``prior``, outcomes in ``prior_predictive``.

    The kept draws are split into ``chains`` consecutive blocks of equal size
    (a remainder of fewer than ``chains`` draws is dropped).  Returns an
    ``arviz.InferenceData`` with ArviZ 0.x and an ``xarray.DataTree`` with 1.x.
    """
    import arviz as az
    import xarray as xr

    if isinstance(chains, bool) or not isinstance(chains, int) or chains < 1:
        raise InputError(f"{chains!r} chains", source="chains", allowed="an integer >= 1")
    dataset = to_xarray(result)
    per_chain = dataset.sizes["draw"] // chains
    if per_chain < 1:
        raise InputError(f"{dataset.sizes['draw']} kept draws cannot fill {chains} chains", source="chains",
                         allowed="fewer chains, or keep more draws")
    dataset = dataset.isel(draw=slice(0, per_chain * chains))
    groups = {}
    outcome_names = ["coverage", "funding_gap", "shortfall", "distress", "breakeven_year", "revenue",
                     "earnings", "compute_cost"]
    for group, names in (("prior", [v for v in dataset.data_vars if v not in outcome_names]),
                         ("prior_predictive", outcome_names)):
        variables = {}
        for name in names:
            array = dataset[name]
            values = array.values.reshape((chains, per_chain) + array.shape[1:])
            if values.dtype == bool:
                values = values.astype(np.int8)  # ArviZ diagnostics need numbers
            variables[name] = xr.DataArray(values, dims=("chain", "draw") + array.dims[1:],
                                           attrs=array.attrs)
        coords = {"chain": np.arange(chains), "draw": np.arange(per_chain),
                  "company": dataset["company"].values, "year": dataset["year"].values}
        used = {d for v in variables.values() for d in v.dims}
        groups[group] = xr.Dataset(variables, coords={k: v for k, v in coords.items() if k in used},
                                   attrs=dict(dataset.attrs))
    if int(az.__version__.split(".")[0]) >= 1:
        return xr.DataTree.from_dict({f"/{name}": ds for name, ds in groups.items()})
    return az.InferenceData(**groups)


# ---------------------------------------------------------------------------
# HTML for notebooks


def result_html(result) -> str:
    """A compact HTML table: the verdict per company and the sector, with error bars."""
    scenario = result.scenario
    changed = f" + {', '.join(scenario.changes)}" if scenario.changes else ""
    head = (f"<b>risk.Result</b> {html.escape(scenario.name + changed)}: {result.draws:,} draws"
            f" ({result.sampler}), seed {result.seed}, years {scenario.years[0]}–{scenario.years[-1]}")
    names = list(result.entities)
    rows = [("P(shortfall) ± se", lambda s: f"{s.p_shortfall['p']:.4f} ± {s.p_shortfall['mcse']:.4f}"),
            ("95 % interval", lambda s: "[{:.4f}, {:.4f}]".format(*s.p_shortfall["ci95"])),
            ("P(default) ± se", lambda s: f"{s.p_default['p']:.4f} ± {s.p_default['mcse']:.4f}"),
            ("P(distress)", lambda s: f"{s.p_distress['p']:.4f}"),
            ("coverage median [5 %, 95 %]", lambda s: "{:.2f} [{:.2f}, {:.2f}]".format(
                s.coverage_quantiles["50"], s.coverage_quantiles["5"], s.coverage_quantiles["95"])),
            ("funding gap mean, $B", lambda s: f"{s.funding_gap_mean:,.1f} ± {s.funding_gap_mean_mcse:,.1f}"),
            ("gap / commitments", lambda s: f"{s.gap_share:.1%}"),
            ("break-even year (median)", lambda s: s.breakeven_year_median or "none"),
            ("bubble-risk grade", lambda s: s.grade if s.grade_range[0] == s.grade_range[1]
             else f"{s.grade} ({s.grade_range[0]}–{s.grade_range[1]})")]
    if result.judgement is not None:
        head += f"; {result.judgement['calibrations']} calibrations of the scenario's judgement"
        rows[:2] = [("P(shortfall): judgement band 5–95 %", lambda s: "{:.2f}–{:.2f}".format(
                        s.p_shortfall_judgement["5"], s.p_shortfall_judgement["95"])),
                    ("P(shortfall): mixture ± MC", lambda s: f"{s.p_shortfall['p']:.3f} ± {s.p_shortfall['mcse']:.3f}"),
                    ("share of variance from judgement", lambda s: f"{s.judgement_share:.0%}")]
    table = ["<table><tr><th></th>" + "".join(f"<th>{html.escape(n)}</th>" for n in names) + "</tr>"]
    for label, fn in rows:
        table.append(f"<tr><td>{html.escape(label)}</td>"
                     + "".join(cell(fn(result.entities[n])) for n in names) + "</tr>")
    table.append("</table>")
    kept = "" if result.kept is None else f"<br><small>{len(result.kept.draw_index):,} draws kept</small>"
    return f"<div>{head}{''.join(table)}<small>± is one Monte Carlo standard error.</small>{kept}</div>"


__all__ = ["result_html", "to_inference_data", "to_xarray"]
