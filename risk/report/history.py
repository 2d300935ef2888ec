"""Run history in SQLite (stdlib ``sqlite3``): one row per report and day, headline numbers per entity.

Re-running a report on the same day replaces that day's rows.  Writes happen
in one transaction that the report commits only after its files are in place,
so a failed run leaves no row.
"""

from __future__ import annotations

import math
import sqlite3
from contextlib import contextmanager
from pathlib import Path

SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    report TEXT NOT NULL, day TEXT NOT NULL, timestamp TEXT NOT NULL, scenario TEXT NOT NULL,
    scenario_sha256 TEXT NOT NULL, seed INTEGER NOT NULL, draws INTEGER NOT NULL, version TEXT NOT NULL,
    pdf TEXT NOT NULL, PRIMARY KEY (report, day));
CREATE TABLE IF NOT EXISTS headline (
    report TEXT NOT NULL, day TEXT NOT NULL, entity TEXT NOT NULL,
    p_shortfall REAL NOT NULL, p_shortfall_mcse REAL NOT NULL, p_distress REAL NOT NULL,
    p_distress_mcse REAL NOT NULL, funding_gap_mean REAL NOT NULL, funding_gap_mean_mcse REAL NOT NULL,
    coverage_median REAL, grade TEXT NOT NULL, PRIMARY KEY (report, day, entity));
"""
METRICS = ("p_shortfall", "p_distress", "funding_gap_mean")


@contextmanager
def transaction(path: Path):
    """A connection in one transaction: committed when the block ends cleanly, rolled back otherwise."""
    path.parent.mkdir(parents=True, exist_ok=True)
    connection = sqlite3.connect(path, timeout=30)
    try:
        connection.executescript(SCHEMA)
        connection.execute("BEGIN")
        yield connection
        connection.commit()
    except BaseException:
        connection.rollback()
        raise
    finally:
        connection.close()


def previous_runs(path: Path, report: str, before: str) -> list[dict]:
    """Earlier runs of ``report`` (days before ``before``), oldest first, with their headline rows."""
    if not path.is_file():
        return []
    connection = sqlite3.connect(path, timeout=30)
    try:
        connection.executescript(SCHEMA)
        connection.row_factory = sqlite3.Row
        runs = [dict(r) for r in connection.execute(
            "SELECT * FROM runs WHERE report = ? AND day < ? ORDER BY day", (report, before))]
        for run in runs:
            run["entities"] = {r["entity"]: dict(r) for r in connection.execute(
                "SELECT * FROM headline WHERE report = ? AND day = ?", (report, run["day"]))}
        return runs
    finally:
        connection.close()


def replace_run(connection, *, report: str, day: str, result: dict, pdf: str) -> None:
    """Write (or replace) the day's run and its headline rows, inside ``transaction``."""
    provenance = result["provenance"]
    connection.execute("DELETE FROM headline WHERE report = ? AND day = ?", (report, day))
    connection.execute("INSERT OR REPLACE INTO runs VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                       (report, day, provenance["timestamp"], result["scenario"], provenance["scenario_sha256"],
                        result["seed"], result["draws"], result["version"], pdf))
    entities = dict(result["companies"], sector=result["sector"])
    for name, stats in entities.items():
        median = stats["coverage_quantiles"]["50"]
        connection.execute("INSERT INTO headline VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                           (report, day, name, stats["p_shortfall"], stats["p_shortfall_mcse"],
                            stats["p_distress"], stats["p_distress_mcse"], stats["funding_gap_mean"],
                            stats["funding_gap_mean_mcse"], median if median is not None and math.isfinite(median)
                            else None, stats["grade"]))


def changes_since(last: dict | None, result: dict, z: float = 1.959963984540054) -> list[dict]:
    """What changed since the last run: each headline number, its change, and whether it beats the noise.

    The two runs are independent (different seeds, or a changed scenario), so
    the error of a change is ``sqrt(se_now**2 + se_then**2)``; a change is
    larger than its Monte Carlo error when it exceeds 1.96 of those.
    """
    if not last:
        return []
    rows = []
    entities = dict(result["companies"], sector=result["sector"])
    for name, stats in entities.items():
        then = last["entities"].get(name)
        if then is None:
            continue
        for metric in METRICS:
            now, before = stats[metric], then[metric]
            se = math.hypot(stats[f"{metric}_mcse"], then[f"{metric}_mcse"])
            difference = now - before
            rows.append({"entity": name, "metric": metric, "previous": before, "current": now,
                         "difference": difference, "se": se, "larger_than_noise": abs(difference) > z * se,
                         "previous_day": last["day"]})
        if then["grade"] != stats["grade"]:
            rows.append({"entity": name, "metric": "grade", "previous": then["grade"], "current": stats["grade"],
                         "difference": None, "se": None, "larger_than_noise": None, "previous_day": last["day"]})
    return rows
