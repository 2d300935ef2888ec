"""Run history in SQLite (stdlib ``sqlite3``): one row per report and day, headline numbers per entity.

Re-running a report on the same day replaces that day's rows.  Writes happen
in one transaction that the report commits only after its files are in place,
so a failed run leaves no row.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import sqlite3
from contextlib import contextmanager
from pathlib import Path
from statistics import NormalDist

from ..outputs import OutputError

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
FAMILY_ALPHA = 0.05  # "what changed": family-wise error rate over all the changes a report tests (Holm)


def check(path: Path, *, source: str) -> list[str]:
    """Before any work: the history database can be read and written; returns warnings for the log.

    A damaged database (not SQLite, failing ``PRAGMA quick_check``, or zero
    bytes where a database should be) is moved aside to
    ``<name>.corrupt-<UTC timestamp>`` and a fresh one is started: the memo
    still goes out, its trend restarts, and the warning names the file kept
    for recovery.  A database that cannot be written (read-only file or
    folder) is an ``OutputError``: the fix is the user's.
    """
    if not path.exists():
        return []
    problem = None
    if path.stat().st_size == 0:
        problem = "it was empty (0 bytes)"
    else:
        try:
            connection = sqlite3.connect(path, timeout=30)
            try:
                verdict = connection.execute("PRAGMA quick_check").fetchone()[0]
                if verdict != "ok":
                    raise sqlite3.DatabaseError(verdict)
                connection.executescript(SCHEMA)
                connection.execute("BEGIN IMMEDIATE")  # takes the write lock: fails on a read-only database
                connection.rollback()
            finally:
                connection.close()
        except sqlite3.OperationalError as err:
            if "readonly" in str(err) or "read-only" in str(err) or "unable to open" in str(err):
                raise OutputError(f"the history database cannot be written: {err}", source=source, key=str(path),
                                  allowed="a history file and folder this user can write") from None
            problem = f"it is not a readable SQLite database ({err})"
        except sqlite3.DatabaseError as err:
            problem = f"it is not a readable SQLite database ({err})"
    if problem is None:
        return []
    stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    aside = path.with_name(f"{path.name}.corrupt-{stamp}")
    path.rename(aside)
    return [f"history {path} moved aside to {aside.name}: {problem}; a fresh history was started "
            f"(the trend restarts; the old file is kept for recovery)"]


@contextmanager
def transaction(path: Path):
    """A connection in one transaction: committed when the block ends cleanly, rolled back otherwise."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        connection = sqlite3.connect(path, timeout=30)
    except sqlite3.Error as err:
        raise _unwritable(path, err) from None
    try:
        _create(connection)
        connection.execute("BEGIN")
        yield connection
        connection.commit()
    except BaseException as err:
        connection.rollback()
        if isinstance(err, sqlite3.OperationalError):  # a full disk, an I/O error, a lock held too long
            raise _unwritable(path, err) from None
        raise
    finally:
        connection.close()


def _create(connection) -> None:
    """The tables, and the ``inputs`` column that histories written before it lack (added empty)."""
    connection.executescript(SCHEMA)
    columns = [row[1] for row in connection.execute("PRAGMA table_info(runs)")]
    if "inputs" not in columns:
        connection.execute("ALTER TABLE runs ADD COLUMN inputs TEXT NOT NULL DEFAULT '{}'")
        connection.commit()


def _unwritable(path: Path, err: Exception) -> OutputError:
    return OutputError(f"the history database could not be written: {err}; nothing was changed", source=str(path),
                       allowed="a history folder this user can write, on a disk with space")


def previous_runs(path: Path, report: str, before: str) -> list[dict]:
    """Earlier runs of ``report`` (days before ``before``), oldest first, with their headline rows."""
    if not path.is_file():
        return []
    connection = sqlite3.connect(path, timeout=30)
    try:
        _create(connection)
        connection.row_factory = sqlite3.Row
        runs = [dict(r) for r in connection.execute(
            "SELECT * FROM runs WHERE report = ? AND day < ? ORDER BY day", (report, before))]
        for run in runs:
            run["inputs"] = json.loads(run.get("inputs") or "{}")
            run["entities"] = {r["entity"]: dict(r) for r in connection.execute(
                "SELECT * FROM headline WHERE report = ? AND day = ?", (report, run["day"]))}
        return runs
    finally:
        connection.close()


def replace_run(connection, *, report: str, day: str, result: dict, pdf: str, inputs: dict | None = None) -> None:
    """Write (or replace) the day's run, its inputs (``content.inputs_of``) and headline rows, inside ``transaction``."""
    provenance = result["provenance"]
    connection.execute("DELETE FROM headline WHERE report = ? AND day = ?", (report, day))
    connection.execute("INSERT OR REPLACE INTO runs (report, day, timestamp, scenario, scenario_sha256, seed, draws, "
                       "version, pdf, inputs) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                       (report, day, provenance["timestamp"], result["scenario"], provenance["scenario_sha256"],
                        result["seed"], result["draws"], result["version"], pdf, json.dumps(inputs or {},
                                                                                        sort_keys=True)))
    entities = dict(result["companies"], sector=result["sector"])
    for name, stats in entities.items():
        median = stats["coverage_quantiles"]["50"]
        connection.execute("INSERT INTO headline VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                           (report, day, name, stats["p_shortfall"], stats["p_shortfall_mcse"],
                            stats["p_distress"], stats["p_distress_mcse"], stats["funding_gap_mean"],
                            stats["funding_gap_mean_mcse"], median if median is not None and math.isfinite(median)
                            else None, stats["grade"]))


def inputs_changed(before: dict, now: dict) -> list[str]:
    """What differs between two runs' inputs, one phrase each (empty: the same inputs)."""
    if not before:
        return ["the earlier run did not record its inputs"]
    found = []
    for key in sorted(set(before) | set(now)):
        if before.get(key) != now.get(key):
            found.append(f"{key}: {_short(before.get(key))} -> {_short(now.get(key))}")
    return found


def _short(value) -> str:
    text = json.dumps(value, sort_keys=True) if not isinstance(value, str) else value
    return text if len(text) <= 24 else text[:12] + "…"


def changes_since(last: dict | None, result: dict, *, alpha: float = FAMILY_ALPHA) -> list[dict]:
    """What changed since the last run: each headline number, its change, and whether it beats the noise.

    The error of a change is ``sqrt(se_now**2 + se_then**2)``: exact for
    independent runs, conservative when the runs share their random numbers
    (a kept seed), whose errors are positively correlated.  A report tests
    every entity's ``METRICS`` at once, so a change counts as beyond noise
    only under Holm's step-down correction at a family-wise error rate of
    ``alpha``: with nine changes tested, the first needs ``|z| > 2.77``, not
    1.96 (which would raise a false alarm about one week in three).
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
            z = abs(difference) / se if se > 0 else (math.inf if difference else 0.0)
            rows.append({"entity": name, "metric": metric, "previous": before, "current": now,
                         "difference": difference, "se": se, "z": z,
                         "p_value": 2 * (1 - NormalDist().cdf(z)) if math.isfinite(z) else 0.0,
                         "larger_than_noise": False, "previous_day": last["day"]})
    tested = sorted(rows, key=lambda row: row["p_value"])
    for rank, row in enumerate(tested):
        threshold = alpha / (len(tested) - rank)
        row["holm_threshold"] = threshold
        if row["p_value"] > threshold:
            break  # Holm: stop at the first that is not significant at its step
        row["larger_than_noise"] = True
    for name, stats in entities.items():
        then = last["entities"].get(name)
        if then is not None and then["grade"] != stats["grade"]:
            rows.append({"entity": name, "metric": "grade", "previous": then["grade"], "current": stats["grade"],
                         "difference": None, "se": None, "larger_than_noise": None, "previous_day": last["day"]})
    return rows
