"""The fault-injection suite: the real CLI in subprocesses, fed what a careless or hostile colleague would."""

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest


class Faults:
    """The suite's helpers, handed to tests as the ``faults`` fixture (``--import-mode=importlib``)."""

    @staticmethod
    def run(*args, cwd, timeout=300, stdout=subprocess.PIPE, env=None):
        """Run ``risk ARGS`` to completion; returns the CompletedProcess (text)."""
        return subprocess.run([sys.executable, "-m", "risk", *map(str, args)], cwd=cwd, stdout=stdout,
                              stderr=subprocess.PIPE, text=True, timeout=timeout,
                              env=dict(os.environ, COLUMNS="200", **(env or {})))

    @staticmethod
    def start(*args, cwd):
        """Start ``risk ARGS`` without waiting (for kills)."""
        return subprocess.Popen([sys.executable, "-m", "risk", *map(str, args)], cwd=cwd, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True, env=dict(os.environ, COLUMNS="200"))

    @staticmethod
    def wait_for(predicate, timeout=120.0):
        deadline = time.monotonic() + timeout
        while not predicate():
            if time.monotonic() > deadline:
                raise TimeoutError("the condition was not reached")
            time.sleep(0.05)

    @staticmethod
    def clean_failure(proc, *fragments):
        """Exit 2, one clear error, no traceback, each fragment in the message."""
        assert proc.returncode == 2, (proc.returncode, proc.stderr[-2000:])
        assert "Traceback" not in proc.stderr and "╭─" not in proc.stderr, proc.stderr[-2000:]
        assert proc.stderr.lstrip().startswith("error:"), proc.stderr[-2000:]
        for fragment in fragments:
            assert fragment in " ".join(proc.stderr.split()), (fragment, proc.stderr)

    @staticmethod
    def files_under(folder: Path) -> list[str]:
        return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


@pytest.fixture
def faults():
    return Faults


@pytest.fixture
def workdir(tmp_path, small_scenario_text):
    """A folder with the small scenario and a report definition over it (quick draws)."""
    (tmp_path / "small.toml").write_text(small_scenario_text)
    (tmp_path / "memo.toml").write_text(
        'title = "Memo"\nscenario = "small.toml"\nstress = []\ndraws = 4000\nseed = 7\n'
        'sections = ["cover", "summary", "history", "methodology"]\noutput = "out"\nfilename = "memo-{date}"\n'
        'schedule = "0 7 * * MON"\n')
    return tmp_path
