"""Scheduled PDF reports: ``risk report`` and ``risk schedule``.

One run of a report definition (``reports/*.toml``, see ``definition``):

1. takes a lock beside the output (a second run of the same report exits
   with a clear message instead of overlapping);
2. computes the numbers (``content``): simulation, paired stress table,
   drivers, history comparison;
3. renders the PDF and its JSON sidecar to temporary files in the output
   folder, then writes the day's history row in a transaction that is
   committed only after both files are renamed into place;
4. logs one line (stderr and ``<output>/report.log``).

Any failure leaves no new file and no history row, and exits non-zero.
File names are deterministic (``filename`` with the date), so re-running the
same day replaces that day's report and history row.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import os
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from ..errors import RiskError
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
               log=sys.stderr) -> ReportRun:
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
    definition.output.mkdir(parents=True, exist_ok=True)
    lock = FileLock(str(definition.output / f".{definition.name}.lock"))
    start = time.perf_counter()
    try:
        lock.acquire(timeout=0)
    except Timeout:
        raise ReportLocked(f"report '{definition.name}' is already running (lock {lock.lock_file}); "
                           f"this run stops without writing anything") from None
    try:
        data, result, sensitivities = content.compute(definition, day=day, draws=draws, driver_draws=driver_draws)
        pdf_path, json_path = definition.paths_for(day)
        pdf_tmp = _temporary(pdf_path)
        json_tmp = _temporary(json_path)
        try:
            from . import pdf

            pdf.render(pdf_tmp, data, result, sensitivities, definition)
            json_tmp.write_text(json.dumps(json_ready(data), indent=2, allow_nan=False) + "\n", encoding="utf-8")
            with history.transaction(definition.history) as connection:
                history.replace_run(connection, report=definition.name, day=day.isoformat(),
                                    result=json_ready(data["result"]), pdf=pdf_path.name)
                os.replace(pdf_tmp, pdf_path)
                os.replace(json_tmp, json_path)
        finally:
            pdf_tmp.unlink(missing_ok=True)
            json_tmp.unlink(missing_ok=True)
    finally:
        lock.release()
    seconds = time.perf_counter() - start
    sector = data["result"]["sector"]
    line = (f"{dt.datetime.now(dt.timezone.utc).isoformat(timespec='seconds')} report {definition.name} ok "
            f"{pdf_path} sector P(shortfall) {sector['p_shortfall']:.4f} ± {sector['p_shortfall_mcse']:.4f} "
            f"grade {sector['grade']} seed {data['seed']} draws {data['draws']} {seconds:.1f} s")
    if log is not None:
        print(line, file=log)
    with open(definition.output / "report.log", "a", encoding="utf-8") as handle:
        handle.write(line + "\n")
    return ReportRun(pdf=pdf_path, json=json_path, data=data, seconds=seconds)


def _temporary(target: Path) -> Path:
    handle, name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    os.close(handle)
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(name, 0o666 & ~umask)  # a memo in a shared folder is readable like any file written there
    return Path(name)


__all__ = ["ReportLocked", "ReportRun", "load_definition", "run_report"]
