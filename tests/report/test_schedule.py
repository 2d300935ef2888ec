"""`risk schedule`: cron triggers fire under a clock the test controls; SIGTERM stops the loop."""

import datetime as dt
import os
import signal
import sqlite3

import pytest

from risk.errors import InputError, RiskError
from risk.report.schedule import Scheduler

UTC = dt.timezone.utc


@pytest.fixture
def folder(tmp_path):
    (tmp_path / "a.toml").write_text('title = "A"\nschedule = "0 7 * * MON"\n')
    (tmp_path / "b.toml").write_text('title = "B"\nschedule = "*/30 * * * *"\n')
    return tmp_path


def test_jobs_fire_on_their_cron_trigger(folder):
    fired = []
    scheduler = Scheduler.from_folder(folder, runner=lambda definition, day: fired.append((definition.name, day)))
    scheduler.start(now=dt.datetime(2026, 11, 23, 6, 50, tzinfo=UTC))  # a Monday
    assert scheduler.run_pending(dt.datetime(2026, 11, 23, 6, 59, 59, tzinfo=UTC)) == []
    scheduler.run_pending(dt.datetime(2026, 11, 23, 7, 0, tzinfo=UTC))
    assert fired == [("a", dt.date(2026, 11, 23)), ("b", dt.date(2026, 11, 23))]
    scheduler.run_pending(dt.datetime(2026, 11, 23, 7, 20, tzinfo=UTC))
    assert len(fired) == 2
    scheduler.run_pending(dt.datetime(2026, 11, 23, 7, 30, tzinfo=UTC))
    assert fired[-1] == ("b", dt.date(2026, 11, 23)) and len(fired) == 3
    a = next(job for job in scheduler.jobs if job.definition.name == "a")
    assert a.next_fire == dt.datetime(2026, 11, 30, 7, 0, tzinfo=UTC) and a.runs == 1


@pytest.mark.parametrize("failure, logged", [
    (RiskError("scenario vanished"), "report a FAILED: scenario vanished"),
    # not ours: a renderer's crash or a corrupted history database must not stop the service either
    (ValueError("paraparser: syntax error"), "report a FAILED: ValueError: paraparser: syntax error"),
    (sqlite3.DatabaseError("file is not a database"), "report a FAILED: DatabaseError: file is not a database"),
])
def test_a_failing_report_is_logged_and_the_others_run(folder, capsys, failure, logged):
    def runner(definition, day):
        if definition.name == "a":
            raise failure

    scheduler = Scheduler.from_folder(folder, runner=runner)
    scheduler.start(now=dt.datetime(2026, 11, 23, 6, 59, tzinfo=UTC))
    scheduler.run_pending(dt.datetime(2026, 11, 23, 7, 0, tzinfo=UTC))
    assert [job.runs for job in scheduler.jobs] == [0, 1]
    assert logged in capsys.readouterr().err


def test_serve_stops_cleanly_on_sigterm(folder):
    times = iter([dt.datetime(2026, 11, 23, 6, 59, tzinfo=UTC)] + [dt.datetime(2026, 11, 23, 7, 0, tzinfo=UTC)] * 50)
    fired = []

    def runner(definition, day):
        fired.append(definition.name)
        os.kill(os.getpid(), signal.SIGTERM)  # as if the service manager stopped us mid-run

    before = signal.getsignal(signal.SIGTERM)
    scheduler = Scheduler.from_folder(folder, runner=runner, clock=lambda: next(times))
    scheduler.serve()
    assert fired == ["a", "b"]  # the due runs finish, then the loop stops
    assert scheduler.stop_event.is_set()
    assert signal.getsignal(signal.SIGTERM) == before


def test_an_empty_folder_is_an_input_error(tmp_path):
    with pytest.raises(InputError, match="no report definitions"):
        Scheduler.from_folder(tmp_path)
