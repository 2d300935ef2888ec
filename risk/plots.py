"""Matplotlib plots of results and sensitivity analyses.

Every function draws on the ``ax`` it is given (or a new figure's) and
returns that Axes.  Each entity keeps its colour across plots
(:func:`entity_color`); money is in $B, years are calendar labels.
"""

from __future__ import annotations

import numpy as np

from .result import histogram_cdf, histogram_density

PALETTE = ("#c2562d", "#0f8a6d", "#3b6fb6", "#8e5ab5", "#b58b00", "#4d8f2a")
SECTOR_COLOR = "#303030"
QUANTITY_LABELS = {"revenue": "revenue, $B/yr", "earnings": "earnings before compute, $B/yr",
                   "compute_cost": "compute cost, $B/yr", "earnings_to_cost": "earnings / compute cost"}


def entity_color(result_or_names, name: str) -> str:
    """The colour of an entity: companies in scenario order from ``PALETTE``, the sector dark grey."""
    names = list(getattr(result_or_names, "entities", result_or_names))
    if name == "sector":
        return SECTOR_COLOR
    return PALETTE[names.index(name) % len(PALETTE)]


def _axes(ax):
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt

    return plt.subplots(figsize=(7, 4))[1]


def plot_fan(result, quantity: str = "revenue", *, company: str = "sector", ax=None):
    """Nested 5-95 % and 25-75 % bands and the median of a yearly quantity, with the compute cost.

    Parameters
    ----------
    result : risk.Result
    quantity : {"revenue", "earnings", "compute_cost", "earnings_to_cost"}
    company : str
        A company name or ``"sector"``.
    ax : matplotlib.axes.Axes, optional

    Returns
    -------
    matplotlib.axes.Axes
    """
    if quantity not in QUANTITY_LABELS:
        raise ValueError(f"quantity must be one of {', '.join(QUANTITY_LABELS)}")
    ax = _axes(ax)
    stats = result[company]
    years = [int(y) for y in stats.years]
    key = f"{quantity}_quantiles"
    bands = {q: np.array([stats.years[str(y)][key][q] for y in years]) for q in ("5", "25", "50", "75", "95")}
    color = entity_color(result, company)
    ax.fill_between(years, bands["5"], bands["95"], color=color, alpha=0.18, lw=0, label="5–95 %")
    ax.fill_between(years, bands["25"], bands["75"], color=color, alpha=0.35, lw=0, label="25–75 %")
    ax.plot(years, bands["50"], color=color, lw=2, label="median")
    if quantity == "earnings_to_cost":
        ax.axhline(1.0, color="black", lw=1, ls="--", label="earnings = compute cost")
    elif quantity != "compute_cost":
        cost = [stats.years[str(y)]["compute_cost_quantiles"]["50"] for y in years]
        ax.plot(years, cost, color="black", lw=1.5, ls="--", label="compute cost (median)")
    ax.set_ylabel(QUANTITY_LABELS[quantity])  # no x label: the ticks are calendar years
    ax.set_title(f"{company}: {quantity.replace('_', ' ')}")
    ax.set_xticks(years)
    # below the axes: a legend inside would cover the bands it explains
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.18), ncol=4, fontsize="small", frameon=False)
    return ax


def plot_coverage(result, *, companies=None, ax=None):
    """ECDF of coverage (left axis) and its density (right axis), with 1.0 and ``p_shortfall`` marked.

    The curves come from the engine's histograms (all draws, not a sample).
    The x axis spans the 0.5 to 99.5 % points of the plotted entities'
    coverage (and 1.0), so the distributions fill the width.
    """
    ax = _axes(ax)
    names = list(companies or result.entities)
    density_ax = ax.twinx()
    low, high = 1.0, 1.0
    for name in names:
        stats = result[name]
        color = entity_color(result, name)
        x, cdf = histogram_cdf(stats.coverage_histogram)
        keep = (x > 0) & np.isfinite(x)
        p = stats.p_shortfall["p"]
        ax.step(x[keep], cdf[keep], where="post", color=color, lw=2,
                label=f"{name}: P(shortfall) {p:.2f}")
        mids, density = histogram_density(stats.coverage_histogram)
        positive = mids > 0
        # density per unit of log coverage so that the log axis shows areas truly
        density_ax.plot(mids[positive], density[positive] * mids[positive], color=color, lw=1, alpha=0.5)
        ax.plot([1.0], [p], marker="o", color=color, zorder=5)
        inside = x[keep][(cdf[keep] >= 0.005) & (cdf[keep] <= 0.995)]
        if inside.size:
            low, high = min(low, float(inside.min())), max(high, float(inside.max()))
    ax.axvline(1.0, color="black", lw=1, ls="--")
    ax.set_xscale("log")
    ax.set_xlim(low / 1.25, high * 1.25)
    _plain_log_ticks(ax)
    ax.set_ylim(0, 1)
    ax.set_xlabel("coverage = PV earnings / PV compute cost (log scale)")
    ax.set_ylabel("share of draws ≤ x")
    density_ax.set_ylabel("density (log x)")
    density_ax.set_ylim(bottom=0)
    density_ax.set_yticks([])
    ax.set_title(f"{result.scenario.name}: coverage")
    ax.legend(loc="upper left", fontsize="small", frameon=False)
    return ax


def _plain_log_ticks(ax) -> None:
    """Log-axis ticks at 1, 2, 5 x 10^k written as plain numbers (0.2, 0.5, 1, 2), no crowded minor labels."""
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

    ax.xaxis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:g}"))
    ax.xaxis.set_minor_formatter(NullFormatter())


def plot_breakeven(result, *, ax=None):
    """Share of draws that first break even in each year (and never, within the horizon)."""
    ax = _axes(ax)
    names = list(result.entities)
    labels = [str(y) for y in result.scenario.years] + ["none"]
    width = 0.8 / len(names)
    x = np.arange(len(labels))
    for i, name in enumerate(names):
        shares = [result[name].breakeven[label] for label in labels]
        ax.bar(x + (i - (len(names) - 1) / 2) * width, shares, width, color=entity_color(result, name), label=name)
    ax.set_xticks(x, labels)
    ax.set_xlabel("first year with earnings ≥ compute cost")
    ax.set_ylabel("share of draws")
    ax.set_title(f"{result.scenario.name}: break-even year")
    ax.legend(fontsize="small", frameon=False)
    return ax


def plot_tornado(sensitivity, *, top: int = 12, ax=None):
    """The swing of ``p_shortfall`` from each prior's 10th to its 90th percentile, largest first.

    Error bars (95 %) are clipped to [0, 1], as is the axis: a probability's bar never runs past 1.
    Bars whose swing is within its 95 % error are grey (noise at these draws, not a driver).
    """
    ax = _axes(ax)
    bars = sensitivity.tornado[:top][::-1]
    base = sensitivity.p_shortfall
    y = np.arange(len(bars))
    low = np.array([b.p_shortfall_low for b in bars])
    high = np.array([b.p_shortfall_high for b in bars])
    half = 1.96 * np.array([b.p_shortfall_swing_se for b in bars])
    # a swing within its own 95 % error is not distinguishable from noise: grey, not a driver's colour
    clear = np.array([abs(b.p_shortfall_swing) > 1.96 * b.p_shortfall_swing_se for b in bars])
    ax.barh(y, low - base, left=base, color=np.where(clear, "#3b6fb6", "#c8c8c8"), label="prior at p10")
    ax.barh(y, high - base, left=base, color=np.where(clear, "#c2562d", "#a0a0a0"), label="prior at p90")
    ax.errorbar(high, y, xerr=[np.minimum(half, high), np.minimum(half, 1.0 - high)], fmt="none",
                ecolor="black", lw=0.8)
    ax.axvline(base, color="black", lw=1)
    ends = np.concatenate([low, high, [base]])
    margin = max(0.02, 0.08 * float(ends.max() - ends.min()))
    ax.set_xlim(max(0.0, float(ends.min()) - margin), min(1.0, float(ends.max()) + margin))
    ax.set_yticks(y, [short_name(b.prior) for b in bars], fontsize="x-small")
    ax.set_xlabel(f"P(shortfall) of {sensitivity.entity}")
    ax.legend(fontsize="small", frameon=False, loc="lower left", bbox_to_anchor=(0.0, 1.0), ncol=2)
    return ax


def short_name(path: str) -> str:
    """A prior's path without ``companies.`` and ``contracts.``, for axis labels."""
    return path.replace("companies.", "").replace("contracts.", "")


def plot_drivers(sensitivity, *, top: int = 12, ax=None):
    """``P(X_shortfall > X_covered)`` per prior with 95 % intervals; 0.5 means no influence."""
    ax = _axes(ax)
    drivers = sensitivity.drivers[:top][::-1]
    y = np.arange(len(drivers))
    auc = np.array([d.auc for d in drivers])
    se = np.array([d.auc_se for d in drivers])
    colors = ["#c2562d" if a > 0.5 else "#3b6fb6" for a in auc]
    ax.barh(y, auc - 0.5, left=0.5, color=colors)
    ax.errorbar(auc, y, xerr=1.96 * se, fmt="none", ecolor="black", lw=0.8)
    ax.axvline(0.5, color="black", lw=1)
    ax.set_xlim(0, 1)
    ax.set_yticks(y, [short_name(d.prior) for d in drivers], fontsize="small")
    ax.set_xlabel("P(X in a shortfall draw > X in a covered draw)")
    ax.set_title(f"drivers of shortfall: {sensitivity.entity}")
    return ax


__all__ = ["entity_color", "plot_breakeven", "plot_coverage", "plot_drivers", "plot_fan", "plot_tornado",
           "short_name"]
