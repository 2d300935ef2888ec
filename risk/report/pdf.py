"""Render a report's content to PDF (reportlab platypus; matplotlib charts as PNG images).

Text is real text (extractable); every number printed comes from the same
``data`` dict as the JSON sidecar.
"""

from __future__ import annotations

import io
import platform
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
from reportlab.lib.units import cm
from reportlab.platypus import (Image, KeepTogether, LongTable, PageBreak, Paragraph, SimpleDocTemplate, Spacer,
                                Table, TableStyle)

from .content import percent

CHART_DPI = 150
STYLES = getSampleStyleSheet()
SMALL = ParagraphStyle("small", parent=STYLES["BodyText"], fontSize=7.5, leading=9)
TABLE_STYLE = TableStyle([
    ("FONTSIZE", (0, 0), (-1, -1), 8), ("GRID", (0, 0), (-1, -1), 0.25, colors.grey),
    ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e8e8e8")), ("VALIGN", (0, 0), (-1, -1), "TOP"),
    ("ALIGN", (1, 1), (-1, -1), "RIGHT")])


def _figure(draw, width_cm=16.0, height_cm=8.0) -> Image:
    """A matplotlib drawing as a PNG flowable."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(width_cm / 2.54, height_cm / 2.54))
    try:
        draw(ax)
        fig.tight_layout()
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png", dpi=CHART_DPI)
    finally:
        plt.close(fig)
    buffer.seek(0)
    return Image(buffer, width=width_cm * cm, height=height_cm * cm)


HEADLINE_MEANING = (
    "P(shortfall): the probability that discounted cash earnings (stock pay excluded; the economic view "
    "counts it) fall short of the discounted compute commitments that management keeps after cancelling "
    "what demand does not need. P(default): cash below zero after the funding market has had its say. "
    "P(needs new money): cash below zero without raises. The sector is not one balance sheet: it is short "
    "or in default when any lab is, and its gap is the sum of the labs' gaps. ± is one Monte Carlo "
    "standard error.")


def _table(rows, widths=None, long=False):
    table = (LongTable if long else Table)(rows, colWidths=widths, repeatRows=1 if long else 0)
    table.setStyle(TABLE_STYLE)
    return table


def _entity_table(stats: dict) -> Table:
    q = stats["coverage_quantiles"]
    gq = stats["funding_gap_quantiles"]
    rows = [["statistic", "value"],
            ["P(shortfall) ± se", f"{stats['p_shortfall']:.4f} ± {stats['p_shortfall_mcse']:.4f}"],
            ["95 % interval", "[{:.4f}, {:.4f}]".format(*stats["p_shortfall_ci95"])],
            ["P(shortfall), stock pay counted", f"{stats['p_shortfall_economic']:.4f}"],
            ["P(default) ± se", f"{stats['p_default']:.4f} ± {stats['p_default_mcse']:.4f}"],
            ["P(needs new money) ± se", f"{stats['p_distress']:.4f} ± {stats['p_distress_mcse']:.4f}"],
            ["new money raised, mean / 95 %, $B",
             f"{stats['new_money_mean']:,.1f} / {stats['new_money_quantiles']['95']:,.1f}"],
            ["coverage 5 / 50 / 95 %", f"{q['5']:.3f} / {q['50']:.3f} / {q['95']:.3f}"],
            ["funding gap mean ± se, $B", f"{stats['funding_gap_mean']:,.1f} ± {stats['funding_gap_mean_mcse']:,.1f}"],
            ["funding gap 50 / 95 %, $B", f"{gq['50']:,.1f} / {gq['95']:,.1f}"],
            ["funding gap VaR95 / CVaR95, $B", f"{stats['funding_gap_var95']:,.1f} / {stats['funding_gap_cvar95']:,.1f}"],
            ["PV of commitments, $B", f"{stats['pv_commitments_mean']:,.1f}"],
            ["break-even year (median)", str(stats["breakeven_year_median"] or "none in horizon")],
            ["bubble-risk grade", stats["grade"]]]
    if stats.get("coverage_pooled_quantiles"):
        pooled = stats["coverage_pooled_quantiles"]
        rows.insert(8, ["pooled coverage 5 / 50 / 95 % (netted)",
                        f"{pooled['5']:.3f} / {pooled['50']:.3f} / {pooled['95']:.3f}"])
    return _table(rows, widths=[7 * cm, 7 * cm])


def _judgement_cover(out: dict, entities: dict) -> list:
    """The cover of a two-level run: the judgement band first, then the mixture and its Monte Carlo error."""
    plan = out["judgement"]
    story = [Paragraph("How sure: the judgement band", STYLES["Heading3"]),
             Paragraph(escape(f"P(shortfall) across {plan['calibrations']} calibrations drawn from the scenario's "
                              f"judgement (what the evidence does not pin down), {plan['draws_per_calibration']:,} "
                              f"draws each: the band is its 5 % to 95 % range; the mixture is the probability "
                              f"over all of them, and its Monte Carlo error counts both levels."), SMALL),
             Spacer(1, 0.2 * cm)]
    rows = [["entity", "P(shortfall): band 5-95 %", "mixture ± MC", "P(default): band", "gap, $B", "grade range"]]
    for name, stats in entities.items():
        band, default = stats["p_shortfall_judgement"], stats["p_default_judgement"]
        grades = stats["grade_range"]
        rows.append([name, f"{band['5']:.2f} - {band['95']:.2f}",
                     f"{stats['p_shortfall']:.2f} ± {stats['p_shortfall_mcse']:.3f}",
                     f"{default['5']:.2f} - {default['95']:.2f}", f"{stats['funding_gap_mean']:,.0f}",
                     grades[0] if grades[0] == grades[1] else f"{grades[0]} - {grades[1]}"])
    story.append(_table(rows))
    movers = []
    for name in entities:
        top = [row for row in plan["entities"][name]["drivers"] if row["clear"]][:2]
        if top:
            movers.append(f"{name}: " + ", ".join(f"{row['entry']} (rank correlation {row['rank_correlation']:+.2f})"
                                                  for row in top))
    if movers:
        story += [Spacer(1, 0.2 * cm),
                  Paragraph(escape("What moves the band most: " + "; ".join(movers) + "."), SMALL)]
    return story


def render(path, data: dict, result, sensitivities: dict, definition) -> None:
    """Write the PDF of ``data`` to ``path``, a file name or a binary file (the caller makes it atomic)."""
    doc = SimpleDocTemplate(path if hasattr(path, "write") else str(path), pagesize=A4, title=data["title"], author="risk",
                            subject=f"{data['report']} {data['date']}", leftMargin=2 * cm, rightMargin=2 * cm,
                            topMargin=1.8 * cm, bottomMargin=1.8 * cm)
    story = []
    sections = definition.sections
    out = data["result"]
    entities = dict(out["companies"], sector=out["sector"])
    if "cover" in sections:
        story += [Paragraph(escape(data["title"]), STYLES["Title"]),
                  Paragraph(escape(f"{data['date']} · scenario {out['scenario']} · {out['draws']:,} draws · seed {data['seed']}"),
                            STYLES["Normal"]), Spacer(1, 0.6 * cm),
                  Paragraph(f"Bubble-risk verdict for the sector: <b>{out['sector']['grade']}</b>", STYLES["Heading2"])]
        if out.get("judgement"):
            story += _judgement_cover(out, entities)
        else:
            rows = [["entity", "P(shortfall) ± se", "95 % interval", "P(default) ± se", "gap, $B", "grade"]]
            for name, stats in entities.items():
                rows.append([name, f"{stats['p_shortfall']:.4f} ± {stats['p_shortfall_mcse']:.4f}",
                             "[{:.4f}, {:.4f}]".format(*stats["p_shortfall_ci95"]),
                             f"{stats['p_default']:.4f} ± {stats['p_default_mcse']:.4f}",
                             f"{stats['funding_gap_mean']:,.0f}", stats["grade"]])
            story.append(_table(rows))
        story += [Spacer(1, 0.4 * cm), Paragraph(HEADLINE_MEANING, SMALL), PageBreak()]
    if "summary" in sections:
        story.append(Paragraph("Executive summary", STYLES["Heading1"]))
        story += [Paragraph(escape(sentence), STYLES["BodyText"]) for sentence in data["summary"]]
        story.append(PageBreak())
    pages = [n for n in entities if n != "sector"] if "companies" in sections else []
    if "sector" in sections:
        pages.append("sector")
    for name in pages:
        story += [Paragraph(escape(name), STYLES["Heading1"]), _entity_table(entities[name]), Spacer(1, 0.3 * cm),
                  _figure(lambda ax, n=name: result.plot_fan("earnings", company=n, ax=ax), height_cm=6.5),
                  _figure(lambda ax, n=name: result.plot_coverage(companies=[n], ax=ax), height_cm=6.5),
                  PageBreak()]
    if pages:
        story += [Paragraph("Break-even years", STYLES["Heading1"]),
                  _figure(lambda ax: result.plot_breakeven(ax=ax)), PageBreak()]
    if "providers" in sections and out.get("providers"):
        story.append(Paragraph("Who holds the bag: providers and investors", STYLES["Heading1"]))
        rows = [["provider", "booked", "paid", "cancelled", "at risk ± se", "P(at risk)", "invested",
                 "round trip", "inv. loss"]]
        for name, p in out["providers"].items():
            rows.append([name, f"{p['revenue_booked_mean']:,.1f}", f"{p['revenue_paid_mean']:,.1f}",
                         f"{p['revenue_cancelled_mean']:,.1f}",
                         f"{p['revenue_at_risk_mean']:,.1f} ± {p['revenue_at_risk_mean_mcse']:,.1f}",
                         f"{p['p_revenue_at_risk']['p']:.3f}", f"{p['invested_mean']:,.1f}",
                         percent(p["round_trip_share_mean"]), f"{p['investment_loss_mean']:,.1f}"])
        story += [_table(rows, long=True), Spacer(1, 0.3 * cm),
                  Paragraph("Present values in $B. At risk: payments owed but not made when a lab runs out of cash; "
                            "cancelled: non-binding tranches dropped after their notice; round trip: the share of "
                            "the payments received that is the provider's own investment coming back (pro rata to "
                            "its share of the lab's funding); investment loss: equity written down to the recovery "
                            "rate when the lab leaves payments unpaid.", SMALL), PageBreak()]
    if "drivers" in sections and sensitivities:
        story.append(Paragraph("Drivers", STYLES["Heading1"]))
        for entity, found in sensitivities.items():
            story += [Paragraph(escape(f"{entity}: tornado ({found.draws:,} paired draws per pin)"), STYLES["Heading3"]),
                      _figure(lambda ax, f=found: f.plot_tornado(top=8, ax=ax), height_cm=7.5)]
        story.append(PageBreak())
    if "stress" in sections and data["stress"]:
        story.append(Paragraph("Stress overlays (paired on common random numbers)", STYLES["Heading1"]))
        rows = [["overlay", "entity", "P(shortfall) base", "stressed", "change ± se", "beyond noise"]]
        for row in data["stress"]:
            for name, d in row["entities"].items():
                rows.append([row["overlay"], name, f"{d['a']:.4f}", f"{d['b']:.4f}",
                             f"{d['difference']:+.4f} ± {d['se']:.4f}", "yes" if d["distinguishable"] else "no"])
        story += [_table(rows, long=True), PageBreak()]
    if "history" in sections:
        story.append(Paragraph("History", STYLES["Heading1"]))
        trend = data["history"]["trend"]
        if trend:
            story.append(_figure(lambda ax: _plot_trend(ax, trend, data)))
        else:
            story.append(Paragraph("This is the first run of this report: no history yet.", STYLES["BodyText"]))
        changes = data["history"]["changes"]
        if changes:
            rows = [["entity", "quantity", "previous", "now", "change ± se", "larger than MC error"]]
            for c in changes:
                if c["metric"] == "grade":
                    rows.append([c["entity"], "grade", c["previous"], c["current"], "", ""])
                    continue
                digits = 1 if c["metric"] == "funding_gap_mean" else 4
                rows.append([c["entity"], c["metric"], f"{c['previous']:.{digits}f}", f"{c['current']:.{digits}f}",
                             f"{c['difference']:+.{digits}f} ± {c['se']:.{digits}f}",
                             "yes" if c["larger_than_noise"] else "no"])
            story += [Paragraph(f"What changed since {data['history']['previous_day']}", STYLES["Heading3"]),
                      _table(rows, long=True)]
        story.append(PageBreak())
    if "priors" in sections:
        story.append(Paragraph("Appendix: every prior", STYLES["Heading1"]))
        rows = [["prior", "family", "5 %", "50 %", "95 %", "source"]]
        for path, prior in result.scenario.priors():
            p05, p50, p95 = prior.ppf([0.05, 0.5, 0.95])
            rows.append([Paragraph(escape(path.replace("companies.", "")), SMALL), prior.family, f"{p05:.4g}", f"{p50:.4g}",
                         f"{p95:.4g}", Paragraph(escape(prior.source or ""), SMALL)])
        story += [_table(rows, widths=[5.2 * cm, 2 * cm, 1.5 * cm, 1.5 * cm, 1.5 * cm, 5.3 * cm], long=True),
                  PageBreak()]
    if "methodology" in sections:
        provenance = out["provenance"]
        story += [Paragraph("Methodology and provenance", STYLES["Heading1"]),
                  Paragraph("Each draw samples every prior and runs the year-by-year model v2: the run-rate grows "
                            "with decaying, correlated growth; revenue is the year's flow (the logarithmic mean of "
                            "its start and end run-rates), capped by serving capacity at the observed revenue per "
                            "GW; cash earnings before compute exclude stock pay; compute costs are the contracts' "
                            "leases and owned hardware as an annuity at the financing rate; capacity that demand "
                            "does not need is cancelled where the contract allows, after its notice; a lab below a "
                            "year of burn raises new money when the funding market is open and it still grows. "
                            "Earnings and commitments are discounted. Probabilities carry binomial standard errors "
                            "and Wilson 95 % intervals; quantiles come from log-linear histograms within 0.78 % of "
                            "the sample quantile; stress rows are paired differences on common random numbers "
                            "with batch-means errors.", STYLES["BodyText"]), Spacer(1, 0.2 * cm),
                  Paragraph(HEADLINE_MEANING, STYLES["BodyText"]), Spacer(1, 0.3 * cm)]
        rows = [["field", "value"]] + [[key, Paragraph(escape(str(value)), SMALL)] for key, value in [
            ("package version", provenance["version"]), ("scenario", f"{out['scenario']} ({provenance['scenario_source']})"),
            ("scenario sha256", provenance["scenario_sha256"]), ("changes", ", ".join(out["changes"]) or "none"),
            ("seed", data["seed"]), ("draws", f"{out['draws']:,}"), ("sampler", out["sampler"]),
            ("threads", provenance["threads"]), ("timestamp", provenance["timestamp"]),
            ("report definition", data["definition"]),
            ("python / numpy / numba", f"{platform.python_version()} / {provenance['numpy']} / {provenance['numba']}")]]
        story.append(KeepTogether(_table(rows, widths=[5 * cm, 11 * cm])))
    doc.build(story)


def _plot_trend(ax, trend, data):
    from ..plots import entity_color

    out = data["result"]
    current = dict(out["companies"], sector=out["sector"])
    names = list(current)
    for name in names:
        points = [t for t in trend if t["entity"] == name]
        days = [t["day"] for t in points] + [data["date"]]
        values = [t["p_shortfall"] for t in points] + [current[name]["p_shortfall"]]
        errors = [1.96 * t["p_shortfall_mcse"] for t in points] + [1.96 * current[name]["p_shortfall_mcse"]]
        ax.errorbar(days, values, yerr=errors, marker="o", color=entity_color(names, name), label=name, capsize=2)
    ax.set_ylabel("P(shortfall)")
    ax.set_ylim(0, 1.02)
    ax.set_title("P(shortfall) by report date (bars: 95 % intervals)")
    ax.legend(fontsize="small", frameon=False)
    ax.tick_params(axis="x", labelrotation=30, labelsize=7)
