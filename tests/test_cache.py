"""The numba cache folders: keyed to the kernels, and two installed versions do not wipe each other's."""

import json
import os
import subprocess
import sys
import time

import pytest

from risk import _cache


def _folder(parent, name, days_ago, now):
    path = parent / name
    path.mkdir(parents=True)
    (path / "index.nbi").write_text("x")
    os.utime(path, (now - days_ago * 86400, now - days_ago * 86400))
    return path


def test_another_versions_cache_is_kept(tmp_path):
    now = time.time()
    ours = _folder(tmp_path, "0.3.0-aaaaaaaaaaaa", 0, now)
    theirs = _folder(tmp_path, "0.2.0-bbbbbbbbbbbb", 1, now)
    _cache._remove_stale(tmp_path, ours.name, now=now)
    assert ours.is_dir() and theirs.is_dir()


def test_old_or_surplus_caches_go_and_nothing_else(tmp_path):
    now = time.time()
    ours = _folder(tmp_path, "0.3.0-aaaaaaaaaaaa", 0, now)
    recent = [_folder(tmp_path, f"0.2.{i}-cccccccccccc", i + 1, now) for i in range(_cache.KEEP_KEYS + 1)]
    stale = _folder(tmp_path, "0.1.0-dddddddddddd", _cache.KEEP_DAYS + 1, now)
    foreign = _folder(tmp_path, "my-notes-folder", 400, now)  # not named like a key: never touched
    _cache._remove_stale(tmp_path, ours.name, now=now)
    assert ours.is_dir() and foreign.is_dir() and not stale.exists()
    kept = [p for p in recent if p.exists()]
    assert kept == recent[:_cache.KEEP_KEYS]  # the most recently used


def test_configure_touches_its_folder(tmp_path, monkeypatch):
    import numba

    # the session's numba cache folder is put back afterwards (configure points numba at tmp_path)
    monkeypatch.setattr(numba.config, "CACHE_DIR", numba.config.CACHE_DIR)
    monkeypatch.setenv("RISK_CACHE_DIR", str(tmp_path))
    monkeypatch.delenv("NUMBA_CACHE_DIR", raising=False)
    other = _folder(tmp_path / "numba", "0.0.1-eeeeeeeeeeee", 2, time.time())
    folder = _cache.configure_numba_cache()
    assert folder is not None and folder.name == _cache.kernel_key()
    assert time.time() - folder.stat().st_mtime < 60 and other.is_dir()


@pytest.mark.slow
def test_a_user_without_a_writable_home_still_runs(small_scenario_text, tmp_path):
    # a home under /proc cannot be created by anyone, root included (this suite may run as root, and
    # the interpreter may live where another user cannot read it): the cache root is not writable
    scenario = tmp_path / "small.toml"
    scenario.write_text(small_scenario_text)
    temporary = tmp_path / "tmp"
    temporary.mkdir()
    env = {key: value for key, value in os.environ.items()
           if key not in ("RISK_CACHE_DIR", "NUMBA_CACHE_DIR", "XDG_CACHE_HOME")}
    env.update(HOME="/proc/risk-no-home", TMPDIR=str(temporary))
    proc = subprocess.run([sys.executable, "-m", "risk", "simulate", str(scenario), "--draws", "1000", "--seed", "1",
                           "--json"], capture_output=True, text=True, env=env, cwd=tmp_path, timeout=900)
    assert proc.returncode == 0, proc.stderr
    assert "not writable" in proc.stderr  # the warning names the fallback
    assert json.loads(proc.stdout)["draws"] == 1000
    assert any((temporary / f"risk-{os.getuid()}" / "numba").iterdir())  # kernels cached there
