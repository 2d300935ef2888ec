"""Display of a scenario: a plain-text ``__repr__`` and an HTML table for notebooks."""

from __future__ import annotations

import html


def cell(text) -> str:
    """A right-aligned, escaped HTML table cell."""
    return f"<td style='text-align:right'>{html.escape(str(text))}</td>"


def scenario_html(scenario) -> str:
    """A compact HTML summary of a scenario: companies, contracts, priors, years."""
    head = (f"<b>risk.Scenario</b> {html.escape(scenario.name)}"
            + (f" + {html.escape(', '.join(scenario.changes))}" if scenario.changes else "")
            + f" (as of {html.escape(scenario.as_of or '?')}), years {scenario.years[0]}–{scenario.years[-1]}")
    rows = ["<table><tr><th>company</th><th>revenue0 median, $B</th><th>contracts</th>"
            "<th>GW in the last year</th></tr>"]
    for company in scenario.companies:
        revenue = float(company.priors["revenue0"].ppf([0.5])[0])
        gw = sum(k.capacity_gw[-1] for k in company.contracts)
        contracts = ", ".join(f"{k.name} ({k.kind})" for k in company.contracts)
        rows.append(f"<tr><td>{html.escape(company.label)}</td>{cell(f'{revenue:,.1f}')}"
                    f"<td>{html.escape(contracts)}</td>{cell(f'{gw:,.1f}')}</tr>")
    rows.append("</table>")
    return f"<div>{head}{''.join(rows)}<small>{html.escape(scenario.source)}</small></div>"


def scenario_text(scenario) -> str:
    """A plain-text summary of a scenario for terminals."""
    lines = [f"<risk.Scenario {scenario.name}"
             + (f" + {', '.join(scenario.changes)}" if scenario.changes else "")
             + f": years {scenario.years[0]}–{scenario.years[-1]}, {scenario.source}>"]
    for company in scenario.companies:
        revenue = float(company.priors["revenue0"].ppf([0.5])[0])
        lines.append(f"  {company.name:<12} revenue0 median {revenue:,.1f} $B, {len(company.contracts)} contracts, "
                     f"{sum(k.capacity_gw[-1] for k in company.contracts):,.1f} GW in {scenario.years[-1]}")
    return "\n".join(lines)
