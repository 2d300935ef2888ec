"""``risk schedule reports/``: run every report definition of a folder on its cron schedule.

For teams without cron.  Next fire times come from APScheduler's
``CronTrigger`` (UTC); the loop sleeps until the next one (or until stopped),
runs the due reports one after the other in this process, and stops cleanly
on SIGINT / SIGTERM (a report in progress finishes first; its lock and
atomic writes make an interrupted run harmless anyway).  A failing report
is logged, whatever it raised, and does not stop the others; a report that
failed ``ALERT_AFTER`` times in a row is flagged in the log and in
``risk schedule --status``, which reads the status file the service keeps
in the folder (``STATUS_FILE``: each job's next fire, last run, last error
and failures in a row, rewritten atomically after every run).

Which files are definitions: every ``*.toml`` of the folder with a top-level
``schedule`` key.  Scenario files (a ``[companies]`` table) and overlays kept
beside them are skipped and listed at start-up, so a typo'd ``schedule`` is
seen rather than silently ignored.  The clock and the runner can be
replaced, so the loop is testable without waiting.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import sys
import threading
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import InputError, RiskError
from ..outputs import write_atomic
from ..scenario.common import read_input
from .definition import ReportDefinition, cron_trigger, load_definition


def _utc_now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


ALERT_AFTER = 3  # failures in a row that make a report "failing" in the log and the status
STATUS_FILE = ".risk-schedule-status.json"


@dataclass
class Job:
    """One report definition and when it fires next."""

    definition: ReportDefinition
    trigger: object
    next_fire: dt.datetime | None = None
    runs: int = 0
    failures: int = 0  # in a row; reset by a successful run
    last_run: str = ""
    last_error: str = ""

    def status(self) -> dict:
        """What ``risk schedule --status`` shows of this job."""
        return {"report": self.definition.name, "source": self.definition.source,
                "schedule": self.definition.schedule,
                "next_fire": self.next_fire.isoformat() if self.next_fire else None,
                "runs": self.runs, "last_run": self.last_run, "failures_in_a_row": self.failures,
                "failing": self.failures >= ALERT_AFTER, "last_error": self.last_error}


def is_definition(path: Path) -> tuple[bool, str]:
    """Whether ``path`` is a report definition (a top-level ``schedule`` key), and if not, why."""
    try:
        document = tomllib.loads(read_input(path, what="file").decode("utf-8"))
    except (InputError, UnicodeDecodeError, tomllib.TOMLDecodeError, RecursionError):
        return True, ""  # let load_definition report the problem with its file and line
    if "schedule" in document:
        return True, ""
    if isinstance(document.get("companies"), dict):
        return False, "a scenario (it has [companies])"
    return False, "no top-level schedule key, so not a report definition"


@dataclass
class Scheduler:
    """Cron-driven runs of report definitions (see the module docstring)."""

    jobs: list
    runner: object = None  # runner(definition, day) -> anything; default: risk.report.run_report
    clock: object = _utc_now
    log: object = None  # a file; default: sys.stderr at the time of writing
    stop_event: threading.Event = field(default_factory=threading.Event)

    status_path: Path | None = None  # where the status is kept (``STATUS_FILE`` in the folder)
    skipped: list = field(default_factory=list)  # (path, why) of the TOML files that are not definitions

    @classmethod
    def from_folder(cls, folder: str | Path, *, allow_outside: str | Path | None = None, **kwargs) -> "Scheduler":
        """Every definition of ``folder`` (``is_definition``; each validated: any problem stops before running)."""
        folder = Path(folder)
        files = sorted(folder.glob("*.toml")) if folder.is_dir() else [folder] if folder.is_file() else []
        chosen, skipped = [], []
        for path in files:
            wanted, why = is_definition(path) if folder.is_dir() else (True, "")
            (chosen.append(path) if wanted else skipped.append((path, why)))
        if not chosen:
            raise InputError("no report definitions found" + (f" ({len(skipped)} TOML file(s) without a "
                                                              f"schedule key)" if skipped else ""),
                             source=str(folder), allowed="a folder of report TOML files such as reports/")
        jobs = []
        for path in chosen:
            definition = load_definition(path, allow_outside=allow_outside)
            jobs.append(Job(definition, cron_trigger(definition.schedule, source=str(path))))
        status = (folder if folder.is_dir() else folder.parent) / STATUS_FILE
        return cls(jobs, status_path=status, skipped=skipped, **kwargs)

    def start(self, now: dt.datetime | None = None) -> None:
        """Compute every job's first fire time after ``now``."""
        now = now or self.clock()
        for job in self.jobs:
            job.next_fire = job.trigger.get_next_fire_time(None, now)

    def run_pending(self, now: dt.datetime | None = None) -> list[Job]:
        """Run the jobs due at ``now`` (once each, however late), then schedule their next fire."""
        now = now or self.clock()
        fired = []
        for job in self.jobs:
            if job.next_fire is not None and job.next_fire <= now:
                self._run(job, job.next_fire.date())
                job.next_fire = job.trigger.get_next_fire_time(job.next_fire, now)
                fired.append(job)
        return fired

    def _run(self, job: Job, day: dt.date) -> None:
        runner = self.runner
        if runner is None:
            from . import run_report

            def runner(definition, day):
                return run_report(definition, day=day, log=self.log or sys.stderr)
        job.last_run = _utc_now().isoformat(timespec="seconds")
        try:
            runner(job.definition, day)
            job.runs += 1
            job.failures, job.last_error = 0, ""
        except Exception as err:  # noqa: BLE001 - one failing report must not stop the others (a renderer
            # crash, a corrupted history database ...): logged with its type, and the service goes on
            kind = "" if isinstance(err, (RiskError, OSError)) else f"{type(err).__name__}: "
            job.failures += 1
            job.last_error = f"{kind}{err}"
            alarm = f" ({job.failures} failures in a row)" if job.failures >= ALERT_AFTER else ""
            print(f"{_utc_now().isoformat(timespec='seconds')} report {job.definition.name} FAILED{alarm}: "
                  f"{job.last_error}", file=self.log or sys.stderr)
        self.write_status()

    def write_status(self) -> None:
        """Rewrite the status file (atomically); a failure to write it is logged, never fatal."""
        if self.status_path is None:
            return
        payload = {"schema": "risk.schedule-status/1", "updated": _utc_now().isoformat(timespec="seconds"),
                   "pid": os.getpid(), "jobs": [job.status() for job in self.jobs]}
        try:
            write_atomic(self.status_path, json.dumps(payload, indent=2) + "\n", source=str(self.status_path))
        except (RiskError, OSError) as err:
            print(f"{_utc_now().isoformat(timespec='seconds')} status not written: {err}", file=self.log or sys.stderr)

    def serve(self) -> None:
        """Loop until SIGINT or SIGTERM: sleep until the next fire time, run what is due."""
        previous = {sig: signal.signal(sig, lambda *_: self.stop_event.set())
                    for sig in (signal.SIGINT, signal.SIGTERM)}
        try:
            self.start()
            for path, why in self.skipped:
                print(f"skipped {path}: {why}", file=self.log or sys.stderr)
            self.write_status()
            for job in self.jobs:
                print(f"{job.definition.name}: '{job.definition.schedule}' (UTC), next {job.next_fire}", file=self.log or sys.stderr)
            while not self.stop_event.is_set():
                upcoming = [j.next_fire for j in self.jobs if j.next_fire is not None]
                if not upcoming:
                    break
                wait = (min(upcoming) - self.clock()).total_seconds()
                if wait > 0 and self.stop_event.wait(min(wait, 60.0)):
                    break
                self.run_pending()
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
        print("scheduler stopped", file=self.log or sys.stderr)


def read_status(folder: str | Path) -> dict:
    """The status file of the service running over ``folder`` (``risk schedule --status``).

    Raises
    ------
    InputError
        When there is none (no service has run over the folder) or it is unreadable.
    """
    folder = Path(folder)
    path = (folder if folder.is_dir() else folder.parent) / STATUS_FILE
    if not path.is_file():
        raise InputError("no schedule status here: `risk schedule` has not run over this folder", source=str(path),
                         allowed="a folder that `risk schedule FOLDER` serves")
    try:
        return json.loads(read_input(path, what="status file").decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise InputError(f"the status file is damaged ({err})", source=str(path),
                         allowed="let `risk schedule` rewrite it (after its next run)") from None

