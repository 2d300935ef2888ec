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
from reportlab.platypus import (BaseDocTemplate, Frame, Image, KeepTogether, LongTable, PageBreak, PageTemplate,
                                Paragraph, Spacer, Table, TableStyle)
from reportlab.platypus.tableofcontents import TableOfContents

from .. import numbers
from ..grade import GAP_SHARE_BOUNDS, GRADES, P_SHORTFALL_BOUNDS
from ..scenario.schema import referenced_sources
from .content import percent

CHART_DPI = 150
STYLES = getSampleStyleSheet()
SMALL = ParagraphStyle("small", parent=STYLES["BodyText"], fontSize=7.5, leading=9)
TABLE_STYLE = TableStyle([
    ("FONTSIZE", (0, 0), (-1, -1), 8), ("GRID", (0, 0), (-1, -1), 0.25, colors.grey),
    ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e8e8e8")), ("VALIGN", (0, 0), (-1, -1), "TOP"),
    ("ALIGN", (1, 1), (-1, -1), "RIGHT")])


OVERLAPS: list = []  # colliding labels of the charts drawn so far (tests read it)


def overlapping_labels(fig) -> list[str]:
    """Tick labels that collide on an axis of ``fig`` (only the ticks drawn, those within the view)."""
    renderer = fig.canvas.get_renderer()
    found = []
    for ax in fig.axes:
        for axis in (ax.xaxis, ax.yaxis):
            boxes = []
            for tick in axis._update_ticks():  # the ticks the next draw shows
                label = tick.label1
                if label.get_visible() and label.get_text().strip():
                    boxes.append((label.get_text(), label.get_window_extent(renderer)))
            for (text_a, a), (text_b, b) in zip(boxes, boxes[1:]):
                if a.overlaps(b):
                    found.append(f"{text_a} / {text_b}")
    return found


def _figure(draw, width_cm=16.0, height_cm=8.0) -> Image:
    """A matplotlib drawing as a PNG flowable ``width_cm`` wide.

    Saved with ``bbox_inches="tight"``: the image grows to hold every label,
    title and legend (a legend below the axes included), so nothing is ever
    cut at the figure's edge; its height follows.
    """
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(width_cm / 2.54, height_cm / 2.54))
    try:
        draw(ax)
        fig.tight_layout()
        fig.canvas.draw()
        OVERLAPS.extend(overlapping_labels(fig))
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png", dpi=CHART_DPI, bbox_inches="tight", pad_inches=0.04)
    finally:
        plt.close(fig)
    width, height = _png_size(buffer.getvalue())
    buffer.seek(0)
    return Image(buffer, width=width_cm * cm, height=width_cm * cm * height / width)


def _png_size(data: bytes) -> tuple[int, int]:
    # the IHDR chunk: width and height, big-endian, at bytes 16-24 of every PNG
    return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")


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


def _p(stats: dict, key: str) -> str:
    """A probability of the sidecar with its error, at the error's precision (``risk.numbers``)."""
    return numbers.probability(stats[key], stats[f"{key}_mcse"], interval=stats.get(f"{key}_ci95"))


def _breakeven_rows(stats: dict, years: list) -> list:
    """Break-even as its distribution: a median of a split distribution (40 % in year 1, 43 % never) misleads."""
    dist = stats["breakeven_year_distribution"]
    middle = years[(len(years) - 1) // 2]
    return [[f"breaks even in {years[0]} / by {middle} / never (to {years[-1]})",
             f"{percent(dist[str(years[0])], 0)} / {percent(sum(dist[str(y)] for y in years if y <= middle), 0)}"
             f" / {percent(dist['none'], 0)}"]]


def _entity_table(stats: dict, years: list) -> Table:
    q = stats["coverage_quantiles"]
    gq = stats["funding_gap_quantiles"]
    rows = [["statistic", "value"],
            ["P(shortfall) ± se", _p(stats, "p_shortfall")],
            ["95 % interval", numbers.interval(*stats["p_shortfall_ci95"], stats["p_shortfall_mcse"])],
            ["P(shortfall), stock pay counted", numbers.probability(stats["p_shortfall_economic"],
                                                                     stats["p_shortfall_economic_mcse"])],
            ["P(default) ± se", _p(stats, "p_default")],
            ["P(needs new money) ± se", _p(stats, "p_distress")],
            ["new money raised, mean ± se / 95 %, $B",
             f"{numbers.value(stats['new_money_mean'], stats['new_money_mean_mcse'])} / "
             f"{stats['new_money_quantiles']['95']:,.1f}"],
            ["coverage 5 / 50 / 95 %", f"{q['5']:.3f} / {q['50']:.3f} / {q['95']:.3f}"],
            ["funding gap mean ± se, $B", numbers.value(stats["funding_gap_mean"], stats["funding_gap_mean_mcse"])],
            ["funding gap 50 / 95 %, $B", f"{gq['50']:,.1f} / {gq['95']:,.1f}"],
            ["funding gap VaR95 / CVaR95, $B", f"{stats['funding_gap_var95']:,.1f} / {stats['funding_gap_cvar95']:,.1f}"],
            ["PV of commitments, $B", f"{stats['pv_commitments_mean']:,.1f}"],
            *_breakeven_rows(stats, years),
            ["bubble-risk grade", stats["grade"]]]
    if stats.get("p_shortfall_judgement"):
        band = stats["p_shortfall_judgement"]
        rows.insert(2, ["judgement band 5-95 %", f"{band['5']:.2f} - {band['95']:.2f}"])
    if stats.get("coverage_pooled_quantiles"):
        pooled = stats["coverage_pooled_quantiles"]
        rows.insert(8, ["pooled coverage 5 / 50 / 95 % (netted)",
                        f"{pooled['5']:.3f} / {pooled['50']:.3f} / {pooled['95']:.3f}"])
    return _table(rows, widths=[8 * cm, 8 * cm])


class _Memo(BaseDocTemplate):
    """A4 pages with a footer (title, date, page number); every Heading1 becomes a PDF bookmark and a
    contents entry."""

    def __init__(self, target, *, footer: str, **kwargs):
        super().__init__(target, **kwargs)
        self.footer = footer
        frame = Frame(self.leftMargin, self.bottomMargin, self.width, self.height, id="body")
        self.addPageTemplates([PageTemplate(id="page", frames=[frame], onPage=self._decorate)])
        self._headings = 0

    def _decorate(self, canvas, doc) -> None:
        canvas.saveState()
        canvas.setFont("Helvetica", 7.5)
        canvas.setFillColor(colors.HexColor("#555555"))
        canvas.drawString(self.leftMargin, 1.0 * cm, self.footer)
        canvas.drawRightString(self.pagesize[0] - self.rightMargin, 1.0 * cm, f"page {doc.page}")
        canvas.restoreState()

    def afterFlowable(self, flowable) -> None:
        if isinstance(flowable, Paragraph) and flowable.style.name == "Heading1":
            self._headings += 1
            key = f"section-{self._headings}"
            text = flowable.getPlainText()
            self.canv.bookmarkPage(key)
            self.canv.addOutlineEntry(text, key, level=0, closed=True)
            self.notify("TOCEntry", (0, text, self.page, key))

    def handle_documentBegin(self):  # noqa: N802 - reportlab's hook: headings count afresh on every pass
        self._headings = 0
        super().handle_documentBegin()


def _heading(text: str) -> Paragraph:
    return Paragraph(escape(text), STYLES["Heading1"])


def _verdict(out: dict, entities: dict) -> str:
    """The cover's one sentence: the sector's verdict, its probability with both errors, the gap in dollars."""
    sector = out["sector"]
    band = sector.get("p_shortfall_judgement")
    how_sure = (f" (judgement band {percent(band['5'], 0)} to {percent(band['95'], 0)}; Monte Carlo "
                f"± {numbers.point(sector['p_shortfall_mcse'], sector['p_shortfall_mcse'], percent=True)})"
                if band else f" (± {numbers.point(sector['p_shortfall_mcse'], sector['p_shortfall_mcse'], percent=True)})")
    return (f"Bubble-risk grade {sector['grade']}: at least one lab's discounted earnings fall short of its "
            f"discounted compute commitments in {numbers.point(sector['p_shortfall'], sector['p_shortfall_mcse'], percent=True)}"
            f" of draws{how_sure}; the expected funding gap is ${sector['funding_gap_mean']:,.0f} B "
            f"({percent(sector['funding_gap_share'], 0)} of the commitments), and a lab runs out of cash after "
            f"raising what it can in {numbers.point(sector['p_default'], sector['p_default_mcse'], percent=True)}"
            f" of draws.")


def _cover_table(out: dict, entities: dict, changes: list) -> Table:
    judged = bool(out.get("judgement"))
    moved = {c["entity"]: c for c in changes if c["metric"] == "p_shortfall"}
    header = ["entity", "P(shortfall)", "judgement band" if judged else "95 % interval", "P(default)",
              "gap, $B", "change since last", "grade"]
    rows = [header]
    for name, stats in entities.items():
        band = stats.get("p_shortfall_judgement")
        spread = (f"{band['5']:.2f} - {band['95']:.2f}" if band
                  else numbers.interval(*stats["p_shortfall_ci95"], stats["p_shortfall_mcse"]))
        change = moved.get(name)
        shift = ("first run" if not changes else "" if change is None else
                 numbers.difference(change["difference"], change["se"]) + (" *" if change["larger_than_noise"] else ""))
        grades = stats.get("grade_range") or [stats["grade"]] * 2
        rows.append([name, _p(stats, "p_shortfall"), spread, _p(stats, "p_default"),
                     numbers.value(stats["funding_gap_mean"], stats["funding_gap_mean_mcse"]), shift,
                     stats["grade"] if grades[0] == grades[1] else f"{stats['grade']} ({grades[0]}-{grades[1]})"])
    return _table(rows)


def _inputs_line(data: dict) -> str:
    history = data["history"]
    if history["previous_day"] is None:
        return "First run of this report: nothing to compare with yet."
    changed = history["inputs_changed"]
    seed = ("the same seed (common random numbers)" if history["previous_seed"] == data["seed"]
            else f"a new seed ({history['previous_seed']} then, {data['seed']} now)")
    if not changed:
        return (f"Inputs unchanged since {history['previous_day']} (scenario file, overlays, observations, draws, "
                f"package version), run on {seed}.")
    return (f"Inputs changed since {history['previous_day']}: " + "; ".join(changed) + f". Run on {seed}.")


def _vintage_line(data: dict) -> str:
    out, observed = data["result"], data["observations"]
    line = f"Data vintage: scenario {out['scenario']} as of {observed['as_of'] or 'an unstated date'}"
    if observed["file"] is None:
        return line + "; the definition names no observations."
    if observed["after_as_of"]:
        return line + (f"; {observed['after_as_of']} reported number(s) dated after it weigh the draws (see "
                       f"'What was reported since the vintage').")
    return line + (f"; none of the {observed['before_as_of']} observations is dated after it (they set its priors, "
                   f"and would count twice).")


def _grade_line() -> str:
    steps = [f"{grade} below {percent(p, 0)} and {percent(g, 0)}"
             for grade, p, g in zip(GRADES, P_SHORTFALL_BOUNDS, GAP_SHARE_BOUNDS)]
    return ("Grades (the worse of two): P(shortfall) and the funding gap's share of the commitments, "
            + "; ".join(steps) + f"; {GRADES[-1]} otherwise.")


def _observations_section(data: dict) -> list:
    observed = data["observations"]
    story = [_heading("What was reported since the vintage")]
    posterior = observed["posterior"]
    story.append(Paragraph(escape(
        f"The draws are weighted by the likelihood of the {len(posterior['observations'])} reported number(s) "
        f"dated after the scenario's as_of (Pareto-smoothed importance sampling): what the verdict becomes once "
        f"they are known. Effective sample size {posterior['ess']:,.0f}; Pareto k-hat {posterior['khat']:.2f}"
        + (" (reliable)." if posterior["reliable"] else f". {posterior['warning']}")), STYLES["BodyText"]))
    rows = [["entity", "P(shortfall) at the vintage", "after the reported numbers", "change ± se", "grade"]]
    for name, shift in posterior["shift"].items():
        after = posterior["entities"][name]["p_shortfall"]
        rows.append([name, f"{shift['p_shortfall_prior']:.4f}",
                     numbers.probability(after["p"], after["mcse"], interval=after["ci95"]),
                     numbers.difference(shift["difference"], shift["se"]),
                     shift["grade_prior"] if shift["grade_prior"] == shift["grade_posterior"]
                     else f"{shift['grade_prior']} -> {shift['grade_posterior']}"])
    story += [Spacer(1, 0.2 * cm), _table(rows), Spacer(1, 0.3 * cm)]
    rows = [["company", "date", "quantity", "reported", "source"]]
    for o in posterior["observations"]:
        rows.append([o["company"], o["date"], o["quantity"], f"{o['value']:g} (± {percent(o['rel_error'], 0)})",
                     Paragraph(escape(o.get("source") or ""), SMALL)])
    return story + [_table(rows, widths=[2.5 * cm, 2.2 * cm, 3.8 * cm, 2.8 * cm, 5.7 * cm], long=True), PageBreak()]


def _history_section(data: dict) -> list:
    story = [_heading("History")]
    history = data["history"]
    trend = history["trend"]
    if trend:
        story.append(_figure(lambda ax: _plot_trend(ax, trend, data), height_cm=8.5))
    else:
        story.append(Paragraph("This is the first run of this report: no history yet.", STYLES["BodyText"]))
    if history["previous_day"] is not None:
        story.append(Paragraph(escape(_inputs_line(data)), STYLES["BodyText"]))
    changes = history["changes"]
    if changes:
        rows = [["entity", "quantity", "previous", "now", "change ± se", "beyond noise"]]
        for c in changes:
            if c["metric"] == "grade":
                rows.append([c["entity"], "grade", c["previous"], c["current"], "", ""])
                continue
            digits = 1 if c["metric"] == "funding_gap_mean" else 4
            rows.append([c["entity"], c["metric"], f"{c['previous']:.{digits}f}", f"{c['current']:.{digits}f}",
                         numbers.difference(c["difference"], c["se"]), "yes" if c["larger_than_noise"] else "no"])
        story += [Paragraph(f"What changed since {history['previous_day']}", STYLES["Heading3"]),
                  _table(rows, long=True), Spacer(1, 0.2 * cm),
                  Paragraph(escape(
                      f"A change counts as beyond Monte Carlo noise under Holm's step-down correction over the "
                      f"{history['tested']} changes tested at once, at a {percent(history['family_alpha'], 0)} "
                      f"family-wise error rate (one test at 1.96 standard errors each would raise a false alarm "
                      f"about one report in three). The error of a change is the two runs' errors combined as if "
                      f"independent: conservative when they share their seed."), SMALL)]
    return story + [PageBreak()]


def render(path, data: dict, result, sensitivities: dict, definition) -> None:
    """Write the PDF of ``data`` to ``path``, a file name or a binary file (the caller makes it atomic)."""
    out = data["result"]
    doc = _Memo(path if hasattr(path, "write") else str(path), pagesize=A4, title=data["title"], author="risk",
                subject=f"{data['report']} {data['date']}", leftMargin=2 * cm, rightMargin=2 * cm,
                topMargin=1.8 * cm, bottomMargin=1.8 * cm,
                footer=f"{data['title']} · {data['date']} · scenario {out['scenario']} · risk {out['version']}")
    story = []
    sections = definition.sections
    entities = dict(out["companies"], sector=out["sector"])
    years = [int(y) for y in out["years"]]
    if "cover" in sections:
        story += [Paragraph(escape(data["title"]), STYLES["Title"]),
                  Paragraph(escape(f"{data['date']} · scenario {out['scenario']} · {out['draws']:,} draws · "
                                   f"seed {data['seed']}"), STYLES["Normal"]), Spacer(1, 0.4 * cm),
                  Paragraph(escape(_verdict(out, entities)), STYLES["Heading3"]), Spacer(1, 0.2 * cm),
                  _cover_table(out, entities, data["history"]["changes"]), Spacer(1, 0.2 * cm),
                  Paragraph(escape(_inputs_line(data)
                                   + (" * marks a change beyond Monte Carlo noise (Holm, 5 % family-wise)."
                                      if data["history"]["changes"] else "")), SMALL),
                  Paragraph(escape(_vintage_line(data)), SMALL),
                  Paragraph(escape(_grade_line()), SMALL), Spacer(1, 0.2 * cm),
                  _figure(lambda ax: result.plot_fan("earnings", company="sector", ax=ax), height_cm=7.0),
                  Paragraph(HEADLINE_MEANING, SMALL), PageBreak()]
    contents = TableOfContents()
    contents.levelStyles = [ParagraphStyle("toc", parent=STYLES["BodyText"], fontSize=10, leading=14)]
    story += [Paragraph("Contents", STYLES["Heading2"]), contents, Spacer(1, 0.5 * cm)]
    if "summary" in sections:
        story.append(_heading("Executive summary"))
        story += [Paragraph(escape(sentence), STYLES["BodyText"]) for sentence in data["summary"]]
    story.append(PageBreak())
    pages = [n for n in entities if n != "sector"] if "companies" in sections else []
    if "sector" in sections:
        pages.append("sector")
    for name in pages:
        story += [_heading(name), _entity_table(entities[name], years), Spacer(1, 0.3 * cm),
                  _figure(lambda ax, n=name: result.plot_fan("earnings", company=n, ax=ax), height_cm=7.0),
                  _figure(lambda ax, n=name: result.plot_coverage(companies=[n], ax=ax), height_cm=6.5),
                  PageBreak()]
    if pages:
        story += [_heading("Break-even years"),
                  _figure(lambda ax: result.plot_breakeven(ax=ax)), PageBreak()]
    if "providers" in sections and out.get("providers"):
        story.append(_heading("Who holds the bag: providers and investors"))
        rows = [["provider", "booked", "paid", "cancelled", "at risk ± se", "P(at risk)", "invested",
                 "round trip", "inv. loss"]]
        for name, p in out["providers"].items():
            rows.append([name, f"{p['revenue_booked_mean']:,.1f}", f"{p['revenue_paid_mean']:,.1f}",
                         f"{p['revenue_cancelled_mean']:,.1f}",
                         numbers.value(p["revenue_at_risk_mean"], p["revenue_at_risk_mean_mcse"]),
                         numbers.point(p["p_revenue_at_risk"]["p"], p["p_revenue_at_risk"].get("mcse", 0.0)),
                         f"{p['invested_mean']:,.1f}",
                         percent(p["round_trip_share_mean"]), f"{p['investment_loss_mean']:,.1f}"])
        story += [_table(rows, long=True), Spacer(1, 0.3 * cm),
                  Paragraph("Present values in $B. At risk: payments owed but not made when a lab runs out of cash; "
                            "cancelled: non-binding tranches dropped after their notice; round trip: the share of "
                            "the payments received that is the provider's own investment coming back (pro rata to "
                            "its share of the lab's funding); investment loss: equity written down to the recovery "
                            "rate when the lab leaves payments unpaid.", SMALL), PageBreak()]
    if "drivers" in sections and sensitivities:
        story.append(_heading("Drivers"))
        for entity, found in sensitivities.items():
            unclear = sum(1 for b in found.tornado[:8] if abs(b.p_shortfall_swing) <= 1.96 * b.p_shortfall_swing_se)
            story += [Paragraph(escape(f"{entity}: tornado ({found.draws:,} paired draws per pin)"), STYLES["Heading3"]),
                      _figure(lambda ax, f=found: f.plot_tornado(top=8, ax=ax), height_cm=8.0)]
            if unclear:
                story.append(Paragraph(escape(
                    f"{unclear} of these bars swing by less than their 95 % error (grey): at {found.draws:,} draws per "
                    f"pin they are not distinguishable from Monte Carlo noise, and their order may change from one "
                    f"report to the next."), SMALL))
        story.append(PageBreak())
    if "stress" in sections and data["stress"]:
        story.append(_heading("Stress overlays (paired on common random numbers)"))
        rows = [["overlay", "entity", "P(shortfall) base", "stressed", "change ± se", "beyond noise"]]
        for row in data["stress"]:
            for name, d in row["entities"].items():
                rows.append([row["overlay"], name, f"{d['a']:.4f}", f"{d['b']:.4f}",
                             numbers.difference(d["difference"], d["se"]), "yes" if d["distinguishable"] else "no"])
        story += [_table(rows, long=True), PageBreak()]
    if "observations" in sections and data["observations"].get("posterior"):
        # without a posterior (every observation predates the vintage) the cover's vintage line says why
        story += _observations_section(data)
    if "history" in sections:
        story += _history_section(data)
    if "priors" in sections:
        story.append(_heading("Appendix: every prior"))
        rows = [["prior", "family", "5 %", "50 %", "95 %", "source"]]
        for path, prior in result.scenario.priors():
            p05, p50, p95 = prior.ppf([0.05, 0.5, 0.95])
            rows.append([Paragraph(escape(path.replace("companies.", "")), SMALL), prior.family, f"{p05:.4g}", f"{p50:.4g}",
                         f"{p95:.4g}", Paragraph(escape(prior.source or ""), SMALL)])
        story.append(_table(rows, widths=[5.2 * cm, 2 * cm, 1.5 * cm, 1.5 * cm, 1.5 * cm, 5.3 * cm], long=True))
        cited = referenced_sources(result.scenario)
        if cited:
            story += [Paragraph("Sources cited", STYLES["Heading3"]),
                      _table([["reference", "primary sources"]]
                             + [[label, Paragraph(escape(text), SMALL)] for label, text in cited.items()],
                             widths=[2 * cm, 15 * cm], long=True)]
        story.append(PageBreak())
    if "methodology" in sections:
        provenance = out["provenance"]
        story += [_heading("Methodology and provenance"),
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
                            "with batch-means errors. Numbers are printed to the precision of their error (the "
                            "error rounded as the Particle Data Group does, the value to the same place). 'What "
                            "changed' tests every headline change at once under Holm's correction (5 % "
                            "family-wise).", STYLES["BodyText"]), Spacer(1, 0.2 * cm),
                  Paragraph(HEADLINE_MEANING, STYLES["BodyText"]), Spacer(1, 0.3 * cm)]
        rows = [["field", "value"]] + [[key, Paragraph(escape(str(value)), SMALL)] for key, value in [
            ("package version", provenance["version"]), ("scenario", f"{out['scenario']} ({provenance['scenario_source']})"),
            ("scenario sha256", provenance["scenario_sha256"]), ("changes", ", ".join(out["changes"]) or "none"),
            ("seed", f"{data['seed']} (policy: {definition.seed})"), ("draws", f"{out['draws']:,}"),
            ("sampler", out["sampler"]), ("threads", provenance["threads"]), ("timestamp", provenance["timestamp"]),
            ("report definition", data["definition"]),
            ("python / numpy / numba", f"{platform.python_version()} / {provenance['numpy']} / {provenance['numba']}")]]
        story.append(KeepTogether(_table(rows, widths=[5 * cm, 11 * cm])))
    doc.multiBuild(story)


def _plot_trend(ax, trend, data):
    """P(shortfall) by report date per entity: dodged so that overlapping lines stay visible, legend below."""
    from ..plots import entity_color

    out = data["result"]
    current = dict(out["companies"], sector=out["sector"])
    names = list(current)
    days = sorted({t["day"] for t in trend} | {data["date"]})
    where = {day: i for i, day in enumerate(days)}
    for k, name in enumerate(names):
        points = [t for t in trend if t["entity"] == name]
        x = [where[t["day"]] for t in points] + [where[data["date"]]]
        x = [v + (k - (len(names) - 1) / 2) * 0.08 for v in x]  # a small dodge per entity
        values = [t["p_shortfall"] for t in points] + [current[name]["p_shortfall"]]
        errors = [1.96 * t["p_shortfall_mcse"] for t in points] + [1.96 * current[name]["p_shortfall_mcse"]]
        ax.errorbar(x, values, yerr=errors, marker="os^Dv"[k % 5], color=entity_color(names, name), label=name,
                    capsize=2, ls="--" if name == "sector" else "-", mfc="white" if name == "sector" else None)
    ax.set_xticks(range(len(days)), days)
    ax.set_ylabel("P(shortfall)")
    ax.set_ylim(0, 1.02)
    ax.set_title("P(shortfall) by report date (bars: 95 % intervals)")
    ax.legend(fontsize="small", frameon=False, loc="upper center", bbox_to_anchor=(0.5, -0.22), ncol=len(names))
    ax.tick_params(axis="x", labelrotation=30, labelsize=7)
