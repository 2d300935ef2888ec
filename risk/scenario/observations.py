"""Observations files: what was actually reported, to weight the draws (``risk calibrate``).

CSV with a header and one observation per row::

    company,date,quantity,value,rel_error,source
    anthropic,2026-05-15,annualized_revenue,45,0.05,"§1A run-rate May 2026 (TechCrunch via 24aiglobal)"

``quantity`` is ``annualized_revenue`` ($B per year) or ``capacity_gw`` (GW in
service); ``rel_error`` is the measurement error as the standard deviation of
``log(value)`` (0.05 = about 5 %).  Every problem names the file, the line,
the column and what is allowed.
"""

from __future__ import annotations

import difflib
import csv
import datetime as dt
import io
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import InputError, InputErrors
from .common import embedded_path, read_input, reject_unknown
from .schema import Scenario

COLUMNS = ("company", "date", "quantity", "value", "rel_error", "source")
QUANTITIES = {"annualized_revenue": 0, "capacity_gw": 1}  # kernels.observe.OBS_*


@dataclass(frozen=True)
class Observation:
    """One reported number about one company."""

    company: str
    date: dt.date
    quantity: str
    value: float
    rel_error: float
    source: str
    line: int

    def to_dict(self) -> dict:
        """JSON-ready: what was reported, when, and its source."""
        return {"company": self.company, "date": self.date.isoformat(), "quantity": self.quantity,
                "value": self.value, "rel_error": self.rel_error, "source": self.source}


def load_observations(path: str | Path, scenario: Scenario) -> list[Observation]:
    """Read and validate an observations CSV against a scenario's companies.

    ``"default"`` is the file shipped with the package (``priors/observations.csv``).
    """
    if str(path) == "default":
        path = embedded_path("observations").with_suffix(".csv")
    path = Path(path)
    source = str(path)
    if not path.is_file():
        raise InputError("no such observations file", source=source, allowed="a CSV file such as priors/observations.csv")
    try:
        text = read_input(path, what="observations file").decode("utf-8")
    except UnicodeDecodeError as err:
        raise InputError(f"not UTF-8 text ({err.reason} at byte {err.start})", source=source,
                         allowed="a UTF-8 CSV file (save it as UTF-8 from the spreadsheet)") from None
    lines = [line for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    reader = csv.DictReader(io.StringIO("\n".join(lines)))
    missing = [c for c in COLUMNS if c not in (reader.fieldnames or [])]
    if missing:
        raise InputError(f"missing column(s) {', '.join(missing)}", source=source, line=1,
                         allowed="header: " + ",".join(COLUMNS))
    reject_unknown(reader.fieldnames, COLUMNS, key="", source=source, what="column")
    companies = [c.name for c in scenario.companies]
    observations, errors = [], []
    for number, row in enumerate(reader, start=2):
        try:
            observations.append(_row(row, number, source, companies))
        except InputError as err:
            errors.append(err)
    if errors:
        raise InputErrors(errors)
    if not observations:
        raise InputError("no observations", source=source, allowed="at least one data row")
    return observations


def _row(row, line, source, companies) -> Observation:
    def bad(column, problem, allowed):
        return InputError(problem, source=source, line=line, key=column, allowed=allowed)

    company = (row["company"] or "").strip()
    if company not in companies:
        close = difflib.get_close_matches(company, companies, n=1)
        raise bad("company", f"unknown company '{company}'" + (f"; did you mean '{close[0]}'?" if close else ""),
                  ", ".join(companies))
    try:
        date = dt.date.fromisoformat((row["date"] or "").strip())
    except ValueError:
        raise bad("date", f"'{row['date']}' is not a date", "YYYY-MM-DD") from None
    quantity = (row["quantity"] or "").strip()
    if quantity not in QUANTITIES:
        raise bad("quantity", f"unknown quantity '{quantity}'", ", ".join(QUANTITIES))
    numbers = {}
    for column in ("value", "rel_error"):
        try:
            numbers[column] = float(row[column])
        except (TypeError, ValueError):
            raise bad(column, f"'{row[column]}' is not a number", "a positive number") from None
        if not math.isfinite(numbers[column]) or numbers[column] <= 0:
            raise bad(column, f"{row[column]} is not a positive finite number", "a positive number")
    return Observation(company, date, quantity, numbers["value"], numbers["rel_error"],
                       (row.get("source") or "").strip(), line)


def as_of_date(scenario: Scenario) -> dt.date:
    """The scenario's ``as_of`` as a date: where its observations are placed in time."""
    try:
        return dt.date.fromisoformat(scenario.as_of)
    except ValueError:
        raise InputError(f"as_of {scenario.as_of!r} is not a date, so observations cannot be placed in time",
                         source=scenario.source, key="as_of", allowed='as_of = "YYYY-MM-DD"') from None


def split_at_as_of(observations: list[Observation], scenario: Scenario) -> tuple[list, list]:
    """``(later, known)``: the observations dated after the scenario's ``as_of``, and those on or before it.

    The known ones were there when the scenario's priors were set: as evidence
    (``risk calibrate``) or as a test (``risk backtest``) they would count twice.
    """
    as_of = as_of_date(scenario)
    return [o for o in observations if o.date > as_of], [o for o in observations if o.date <= as_of]


def observation_array(observations: list[Observation], scenario: Scenario) -> np.ndarray:
    """Rows for the kernels: company index, kind, tau (years after as-of), log value, sigma."""
    as_of = as_of_date(scenario)
    index = {c.name: i for i, c in enumerate(scenario.companies)}
    return np.array([[index[o.company], QUANTITIES[o.quantity], (o.date - as_of).days / 365.25, math.log(o.value),
                      o.rel_error] for o in observations], dtype=float)
