"""``risk schedule reports/``: run every report definition of a folder on its cron schedule.

For teams without cron.  Next fire times come from APScheduler's
``CronTrigger`` (UTC); the loop sleeps until the next one (or until stopped),
runs the due reports one after the other in this process, and stops cleanly
on SIGINT / SIGTERM (a report in progress finishes first; its lock and
atomic writes make an interrupted run harmless anyway).  A failing report
is logged and does not stop the others.  The clock and the runner can be
replaced, so the loop is testable without waiting.
"""

from __future__ import annotations

import datetime as dt
import signal
import sys
import threading
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import InputError, RiskError
from .definition import ReportDefinition, cron_trigger, load_definition


def _utc_now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


@dataclass
class Job:
    """One report definition and when it fires next."""

    definition: ReportDefinition
    trigger: object
    next_fire: dt.datetime | None = None
    runs: int = 0


@dataclass
class Scheduler:
    """Cron-driven runs of report definitions (see the module docstring)."""

    jobs: list
    runner: object = None  # runner(definition, day) -> anything; default: risk.report.run_report
    clock: object = _utc_now
    log: object = None  # a file; default: sys.stderr at the time of writing
    stop_event: threading.Event = field(default_factory=threading.Event)

    @classmethod
    def from_folder(cls, folder: str | Path, **kwargs) -> "Scheduler":
        """Every ``*.toml`` definition of ``folder`` (each validated; any problem stops before running)."""
        folder = Path(folder)
        files = sorted(folder.glob("*.toml")) if folder.is_dir() else [folder] if folder.is_file() else []
        if not files:
            raise InputError("no report definitions found", source=str(folder),
                             allowed="a folder of report TOML files such as reports/")
        jobs = []
        for path in files:
            definition = load_definition(path)
            jobs.append(Job(definition, cron_trigger(definition.schedule, source=str(path))))
        return cls(jobs, **kwargs)

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
        try:
            runner(job.definition, day)
            job.runs += 1
        except Exception as err:  # noqa: BLE001 - one failing report must not stop the others (a renderer
            # crash, a corrupted history database ...): logged with its type, and the service goes on
            kind = "" if isinstance(err, (RiskError, OSError)) else f"{type(err).__name__}: "
            print(f"{_utc_now().isoformat(timespec='seconds')} report {job.definition.name} FAILED: {kind}{err}",
                  file=self.log or sys.stderr)

    def serve(self) -> None:
        """Loop until SIGINT or SIGTERM: sleep until the next fire time, run what is due."""
        previous = {sig: signal.signal(sig, lambda *_: self.stop_event.set())
                    for sig in (signal.SIGINT, signal.SIGTERM)}
        try:
            self.start()
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
