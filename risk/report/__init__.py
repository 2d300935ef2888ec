"""Scheduled PDF reports: ``risk report`` and ``risk schedule``.

One run of a report definition (``reports/*.toml``, see ``definition``):

1. takes a lock beside the output (a second run of the same report exits
   with a clear message instead of overlapping);
2. computes the numbers (``content``): simulation, paired stress table,
   drivers, history comparison;
3. renders the PDF and its JSON sidecar in memory, stages both beside their
   targets (synced), renames them into place and commits the day's history
   row last; a failure at any step puts back what was there
   (``outputs.commit``);
4. logs one line (stderr and ``<output>/report.log``).

The scenario, overlays, driver entities and every output path are checked
before any folder is made or any draw is run; outputs, log, lock and history
are never written through a symbolic link; temporaries of killed runs are
removed by the next run (under the lock).  Any failure leaves no new file
and no history row, and exits non-zero (2 for bad input or an unwritable
output, 3 when the report is already running).
File names are deterministic (``filename`` with the date), so re-running the
same day replaces that day's report and history row.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
import json
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from .. import outputs
from ..errors import RiskError
from ..outputs import OutputError
from ..result import json_ready
from . import content, history
from .definition import ReportDefinition, load_definition


class ReportLocked(RiskError):
    """Another run of the same report holds its lock."""


@dataclass
class ReportRun:
    """What a run wrote."""

    pdf: Path
    json: Path
    data: dict
    seconds: float


def run_report(definition: str | Path | ReportDefinition, *, out: str | Path | None = None,
               day: dt.date | None = None, draws: int | None = None, driver_draws: int | None = None,
               log=sys.stderr, progress=None) -> ReportRun:
    """Run one report: PDF + JSON sidecar + history row, atomically, under a lock.

    Parameters
    ----------
    definition : path or ReportDefinition
    out : path, optional
        Output folder (default: the definition's ``output``); the history
        database moves with it unless the definition names another.
    day : datetime.date, optional
        The report date (default: today, UTC): names the files and, with
        ``seed = "date"``, the seed.
    draws, driver_draws : int, optional
        Override the definition's draw counts (quick runs, tests).
    log : file, optional
        Where the one-line log goes (also appended to ``<output>/report.log``).
    progress : callable, optional
        Called as ``progress(done, total)`` after each stage (simulation, each
        stress overlay, each driver entity, rendering).

    Raises
    ------
    ReportLocked
        When another run of this report is in progress.
    risk.errors.InputError
        For a bad definition or scenario, before anything is written.
    """
    from filelock import FileLock, Timeout

    if not isinstance(definition, ReportDefinition):
        definition = load_definition(definition)
    if out is not None:
        out = Path(out)
        history_path = out / definition.history.name
        definition = dataclasses.replace(definition, output=out, history=history_path)
    day = day or dt.datetime.now(dt.timezone.utc).date()
    content.check(definition)  # the scenario, overlays and driver entities: before any folder is made
    pdf_path, json_path = definition.paths_for(day)
    _check_paths(definition, pdf_path, json_path)
    lock_path = definition.output / f".{definition.name}.lock"
    if lock_path.is_symlink():
        raise OutputError("the report's lock file is a symbolic link, which this writer does not follow",
                          source=definition.source, key=str(lock_path), allowed="remove the link")
    lock = FileLock(str(lock_path))
    start = time.perf_counter()
    try:
        lock.acquire(timeout=0)
    except Timeout:
        raise ReportLocked(f"report '{definition.name}' is already running (lock {lock.lock_file}); "
                           f"this run stops without writing anything") from None
    try:
        # the lock's holder is this run: temporaries of this report that are left are from killed runs
        outputs.remove_stale(definition.output, [pdf_path.name, json_path.name], older_than=0)
        warnings = history.check(definition.history, source=definition.source)
        data, result, sensitivities = content.compute(definition, day=day, draws=draws, driver_draws=driver_draws,
                                                      progress=progress)
        from . import pdf

        document = io.BytesIO()
        pdf.render(document, data, result, sensitivities, definition)
        if progress is not None:
            progress(data["stages"], data["stages"])
        sidecar = json.dumps(json_ready(data), indent=2, allow_nan=False) + "\n"
        with history.transaction(definition.history) as connection:
            history.replace_run(connection, report=definition.name, day=day.isoformat(),
                                result=json_ready(data["result"]), pdf=pdf_path.name, inputs=data["inputs"])
            # the files and the history row land together: a failed rename or commit undoes the others
            outputs.commit({pdf_path: document.getvalue(), json_path: sidecar}, source=definition.source,
                           then=connection.commit)
    finally:
        lock.release()
    seconds = time.perf_counter() - start
    sector = data["result"]["sector"]
    line = (f"{dt.datetime.now(dt.timezone.utc).isoformat(timespec='seconds')} report {definition.name} ok "
            f"{pdf_path} sector P(shortfall) {sector['p_shortfall']:.4f} ± {sector['p_shortfall_mcse']:.4f} "
            f"grade {sector['grade']} seed {data['seed']} draws {data['draws']} {seconds:.1f} s")
    for warning in warnings:
        _log(definition, f"warning: {warning}", log)
    _log(definition, line, log)
    return ReportRun(pdf=pdf_path, json=json_path, data=data, seconds=seconds)


def _log(definition: ReportDefinition, line: str, log) -> None:
    """One line to ``log`` and to ``<output>/report.log`` (never through a symlink)."""
    if log is not None:
        print(line, file=log)
    with outputs.open_append(definition.output / "report.log") as handle:
        handle.write(line + "\n")


def _check_paths(definition: ReportDefinition, *paths: Path) -> None:
    """The output folder, the day's files and the history can be written: checked before any work."""
    for path in (*paths, definition.history, definition.output / "report.log"):
        if path.is_symlink():
            raise OutputError(f"{path.name} is a symbolic link, which this writer does not follow",
                              source=definition.source, key=str(path),
                              allowed="remove the link (outputs, log and history are plain files)")
        if path.is_dir():
            raise OutputError(f"{path.name} is a folder", source=definition.source, key=str(path),
                              allowed="move the folder away: the report writes a file there")
    outputs.check_output(paths[0], source=definition.source)


__all__ = ["ReportLocked", "ReportRun", "load_definition", "run_report"]
