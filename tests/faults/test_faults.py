"""Faults: kills, failures between the renames, damaged or planted files, a full disk, a crashing report.

The promise each test checks: no partial file, no temporary left behind,
no history row without its files (nor files without their row), a clear
exit code, and the scheduler going on.
"""

import errno
import json
import os
import signal
import sqlite3
import subprocess
import time
from pathlib import Path

import pytest

import risk.outputs as outputs
from risk.errors import InputError
from risk.report import run_report

DAY = "2026-11-23"


def _rows(folder: Path):
    db = folder / "out" / "history.sqlite"
    if not db.exists():
        return []
    with sqlite3.connect(db) as connection:
        return connection.execute("SELECT day, draws, seed FROM runs").fetchall()


def _day():
    import datetime as dt

    return dt.date.fromisoformat(DAY)


# -- kills ------------------------------------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM])
def test_a_killed_simulate_out_leaves_nothing(faults, workdir, sig):
    proc = faults.start("simulate", "small.toml", "-n", "1e9", "--seed", "1", "--out", "result.json", cwd=workdir)
    time.sleep(4)  # inside the simulation
    proc.send_signal(sig)
    proc.communicate(timeout=60)
    assert proc.returncode == (-signal.SIGKILL if sig == signal.SIGKILL else 128 + signal.SIGTERM)
    assert sorted(p.name for p in workdir.iterdir()) == ["memo.toml", "small.toml"]


@pytest.mark.slow
@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM])
@pytest.mark.parametrize("after", [1.5, 5.0])
def test_a_killed_report_leaves_no_file_and_no_row_and_the_next_run_is_clean(faults, workdir, sig, after):
    memo = workdir / "memo.toml"
    memo.write_text(memo.read_text().replace("draws = 4000", "draws = 2_000_000_000"))
    proc = faults.start("report", memo, "--date", DAY, cwd=workdir)
    time.sleep(after)  # start-up, or inside the simulation
    proc.send_signal(sig)
    proc.communicate(timeout=60)
    out = workdir / "out"
    leftover = sorted(p.name for p in out.iterdir()) if out.exists() else []
    assert not [name for name in leftover if name.endswith((".pdf", ".json"))]
    assert _rows(workdir) == []
    if sig == signal.SIGTERM:  # unwound: not even a temporary
        assert not [name for name in leftover if name.endswith(".tmp")]
    # a planted temporary of a killed run (our own pattern) goes at the next run, under the lock
    out.mkdir(exist_ok=True)
    stale = out / f".memo-{DAY}.pdf.abcd1234.tmp"
    stale.write_bytes(b"%PDF half")
    foreign = out / ".notes.txt.abcd1234.tmp"  # not ours: kept
    foreign.write_text("x")
    memo.write_text(memo.read_text().replace("draws = 2_000_000_000", "draws = 4000"))
    done = faults.run("report", memo, "--date", DAY, cwd=workdir)
    assert done.returncode == 0, done.stderr
    names = sorted(p.name for p in out.iterdir())
    assert stale.name not in names and foreign.name in names
    assert f"memo-{DAY}.pdf" in names and f"memo-{DAY}.json" in names and len(_rows(workdir)) == 1


def test_sigterm_while_rendering_unwinds_without_temporaries(workdir, monkeypatch):
    # the SIGTERM handler raises SystemExit(143) in the main thread; here it arrives inside the renderer
    from risk.report import pdf

    real = pdf.render

    def interrupted(target, *args, **kwargs):
        real(target, *args, **kwargs)
        raise SystemExit(128 + signal.SIGTERM)

    monkeypatch.setattr(pdf, "render", interrupted)
    with pytest.raises(SystemExit):
        run_report(workdir / "memo.toml", day=_day(), log=None)
    out = workdir / "out"
    assert sorted(p.name for p in out.iterdir() if not p.name.startswith(".memo.lock")) in ([], ["history.sqlite"])
    assert _rows(workdir) == []


@pytest.mark.slow
def test_schedule_stops_on_sigterm_and_keeps_its_status(faults, workdir):
    proc = faults.start("schedule", workdir, cwd=workdir)
    status = workdir / ".risk-schedule-status.json"
    faults.wait_for(status.exists, timeout=120)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert "skipped" in err and "small.toml" in err and "scheduler stopped" in err
    shown = faults.run("schedule", workdir, "--status", "--json", cwd=workdir)
    assert shown.returncode == 0, shown.stderr
    jobs = json.loads(shown.stdout)["jobs"]
    assert [job["report"] for job in jobs] == ["memo"] and jobs[0]["failures_in_a_row"] == 0


# -- the PDF/JSON pair and the history row ---------------------------------------------------------------


def test_a_failure_between_the_renames_puts_the_earlier_report_back(workdir, monkeypatch):
    first = run_report(workdir / "memo.toml", day=_day(), log=None)
    before = (first.pdf.read_bytes(), first.json.read_bytes(), _rows(workdir))
    real = os.replace
    calls = []

    def failing(source, target):
        calls.append(target)
        if str(target).endswith(".json"):
            raise OSError(errno.EIO, "Input/output error")
        return real(source, target)

    monkeypatch.setattr(outputs.os, "replace", failing)
    with pytest.raises(InputError, match="nothing was changed"):
        run_report(workdir / "memo.toml", day=_day(), draws=8000, log=None)
    monkeypatch.setattr(outputs.os, "replace", real)
    assert any(str(t).endswith(".pdf") for t in calls)  # the PDF had been renamed before the failure
    assert (first.pdf.read_bytes(), first.json.read_bytes(), _rows(workdir)) == before
    assert not list((workdir / "out").glob("*.tmp"))


def test_a_failing_history_commit_undoes_the_renamed_files(workdir, monkeypatch):
    from risk.report import history

    def broken(path):
        class Connection:
            def execute(self, *args):
                return None

            def commit(self):
                raise sqlite3.OperationalError("disk I/O error")

        from contextlib import contextmanager

        @contextmanager
        def manager():
            yield Connection()

        return manager()

    monkeypatch.setattr(history, "transaction", broken)
    with pytest.raises(sqlite3.OperationalError):
        run_report(workdir / "memo.toml", day=_day(), log=None)
    out = workdir / "out"
    assert not list(out.glob("*.pdf")) and not list(out.glob("*.json")) and not list(out.glob("*.tmp"))


@pytest.mark.parametrize("damage", ["garbage", "zero-bytes", "truncated"])
def test_a_damaged_history_is_moved_aside_and_the_report_goes_out(faults, workdir, damage):
    ok = faults.run("report", workdir / "memo.toml", "--date", "2026-11-16", cwd=workdir)
    assert ok.returncode == 0, ok.stderr
    db = workdir / "out" / "history.sqlite"
    data = db.read_bytes()
    db.write_bytes({"garbage": b"this is not a database" * 100, "zero-bytes": b"",
                    "truncated": data[: len(data) // 3]}[damage])
    proc = faults.run("report", workdir / "memo.toml", "--date", DAY, cwd=workdir)
    assert proc.returncode == 0, proc.stderr
    assert "moved aside" in proc.stderr and "Traceback" not in proc.stderr
    aside = list((workdir / "out").glob("history.sqlite.corrupt-*"))
    assert len(aside) == 1
    assert _rows(workdir) == [(DAY, 4000, 7)]  # a fresh history with today's row
    assert "moved aside" in (workdir / "out" / "report.log").read_text()


def test_a_read_only_history_is_refused_before_the_work(workdir, monkeypatch):
    # as root, file modes do not stop writes; sqlite's own refusal is injected at its first write
    from risk.report import history

    ok = run_report(workdir / "memo.toml", day=_day(), log=None)
    real_connect = sqlite3.connect

    class ReadOnly:
        def __init__(self, *args, **kwargs):
            self.connection = real_connect(*args, **kwargs)

        def execute(self, sql, *args):
            if sql.startswith("BEGIN"):
                raise sqlite3.OperationalError("attempt to write a readonly database")
            return self.connection.execute(sql, *args)

        def __getattr__(self, name):
            return getattr(self.connection, name)

    monkeypatch.setattr(history.sqlite3, "connect", ReadOnly)
    with pytest.raises(InputError, match="cannot be written"):
        run_report(workdir / "memo.toml", day=_day(), draws=10**9, log=None)  # refused before 1e9 draws
    assert ok.pdf.is_file()


@pytest.mark.parametrize("planted", ["report.log", "history.sqlite", ".memo.lock", f"memo-{DAY}.pdf"])
def test_a_planted_symlink_is_refused_and_its_target_untouched(faults, workdir, tmp_path_factory, planted):
    victim = tmp_path_factory.mktemp("victim") / "precious.txt"
    victim.write_text("precious\n")
    out = workdir / "out"
    out.mkdir()
    (out / planted).symlink_to(victim)
    proc = faults.run("report", workdir / "memo.toml", "--date", DAY, cwd=workdir)
    # the history's path is checked when the definition is read (a link out of the folder), the rest before work
    faults.clean_failure(proc, *(["leads out of", "symlink out"] if planted == "history.sqlite" else ["symbolic link"]))
    assert victim.read_text() == "precious\n"  # not appended to, not turned into a database
    assert not list(out.glob("*.json"))
    assert [p.name for p in out.glob("*.pdf")] == ([planted] if planted.endswith(".pdf") else [])  # only the link
    if planted != "history.sqlite":
        assert _rows(workdir) == []


# -- a full disk -----------------------------------------------------------------------------------------


def test_a_full_disk_while_writing_leaves_the_old_file(workdir, monkeypatch):
    # the patched writer: the disk fills while the temporary is written
    target = workdir / "result.json"
    target.write_text("old\n")
    real = os.fsync

    def full(fd):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(outputs.os, "fsync", full)
    with pytest.raises(InputError, match="No space left on device"):
        outputs.write_atomic(target, "new\n" * 1000)
    monkeypatch.setattr(outputs.os, "fsync", real)
    assert target.read_text() == "old\n" and not list(workdir.glob("*.tmp"))


@pytest.fixture
def small_disk(tmp_path):
    """A 256 KiB tmpfs, where the machine lets the tests mount one (else the test is skipped)."""
    mount = tmp_path / "disk"
    mount.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(mount)], capture_output=True)
    if done.returncode != 0:
        pytest.skip("cannot mount a tmpfs here: the patched-writer test covers a full disk")
    yield mount
    subprocess.run(["umount", str(mount)], capture_output=True)


def test_a_full_tmpfs_refuses_out_and_report_cleanly(faults, workdir, small_disk):
    (small_disk / "filler").write_bytes(b"\0" * (256 * 1024 - 4096))  # almost full: the probe file still fits
    proc = faults.run("simulate", "small.toml", "-n", "20000", "--seed", "1", "--out", small_disk / "r.json",
                      "--by", "provider", cwd=workdir)
    faults.clean_failure(proc, "No space left on device", "nothing was changed")
    assert sorted(p.name for p in small_disk.iterdir()) == ["filler"]
    proc = faults.run("report", workdir / "memo.toml", "--date", DAY, "--out", small_disk / "memo", cwd=workdir)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr, proc.stderr
    out = small_disk / "memo"
    assert not list(out.glob("*.pdf")) and not list(out.glob("*.json")) and not list(out.glob("*.tmp"))


# -- the scheduler goes on --------------------------------------------------------------------------------


def test_the_scheduler_survives_a_report_that_raises_anything_and_flags_repeated_failures(workdir, capsys):
    import datetime as dt

    from risk.report.schedule import ALERT_AFTER, Scheduler

    (workdir / "other.toml").write_text('title = "Other"\nscenario = "small.toml"\nschedule = "* * * * *"\n')
    memo = workdir / "memo.toml"
    memo.write_text(memo.read_text().replace('schedule = "0 7 * * MON"', 'schedule = "* * * * *"'))
    ran = []

    def runner(definition, day):
        if definition.name == "memo":
            raise MemoryError("injected")
        ran.append(definition.name)

    scheduler = Scheduler.from_folder(workdir, runner=runner)
    start = dt.datetime(2026, 11, 23, 7, 0, tzinfo=dt.timezone.utc)
    scheduler.start(now=start - dt.timedelta(seconds=1))
    for minute in range(ALERT_AFTER):
        scheduler.run_pending(start + dt.timedelta(minutes=minute))
    assert ran == ["other"] * ALERT_AFTER
    err = capsys.readouterr().err
    assert f"report memo FAILED ({ALERT_AFTER} failures in a row): MemoryError: injected" in err
    status = json.loads((workdir / ".risk-schedule-status.json").read_text())
    memo_status = next(job for job in status["jobs"] if job["report"] == "memo")
    assert memo_status["failing"] and memo_status["failures_in_a_row"] == ALERT_AFTER


def test_a_read_only_disk_refuses_out_and_report_before_the_work(faults, workdir, small_disk):
    if subprocess.run(["mount", "-o", "remount,ro", str(small_disk)], capture_output=True).returncode != 0:
        pytest.skip("cannot remount the tmpfs read-only here")
    proc = faults.run("simulate", "small.toml", "-n", "1e9", "--out", small_disk / "r.json", cwd=workdir, timeout=120)
    faults.clean_failure(proc, "--out", "Read-only file system")
    memo = workdir / "memo.toml"
    memo.write_text(memo.read_text().replace("draws = 4000", "draws = 2_000_000_000"))
    proc = faults.run("report", memo, "--date", DAY, "--out", small_disk / "memo", cwd=workdir, timeout=120)
    faults.clean_failure(proc, "Read-only file system")
    assert list(small_disk.iterdir()) == []
