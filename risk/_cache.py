"""Where ``risk`` keeps its caches: numba's machine code and compiled scenarios.

numba's ``cache=True`` does not notice a change in a module that a kernel
imports, so a stale cache can run old machine code.  The cache folder is
therefore keyed to the package version *and* a hash of the kernel sources:
any edit to ``risk/kernels`` or any upgrade gets a fresh folder.  Folders
of other keys are kept (two installed versions, say two venvs, must not
wipe each other's compiled kernels on every import) unless they have not
been used for ``KEEP_DAYS`` days or more than ``KEEP_KEYS`` other keys are
newer.  This module must be imported before numba (``risk/__init__.py``
does so first).
"""

from __future__ import annotations

import atexit
import hashlib
import os
import shutil
import sys
import tempfile
import time
import warnings
from pathlib import Path

from ._version import __version__

_KERNEL_DIR = Path(__file__).with_name("kernels")
KEEP_DAYS = 30  # a cache folder not used for this long is removed
KEEP_KEYS = 3  # at most this many other keys' folders are kept (the most recently used)


def cache_root() -> Path:
    """Return the root folder of the caches (``RISK_CACHE_DIR`` or the XDG cache)."""
    if os.environ.get("RISK_CACHE_DIR"):
        return Path(os.environ["RISK_CACHE_DIR"])
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "risk"


def kernel_key() -> str:
    """Return the version plus a short hash of every kernel source file."""
    digest = hashlib.sha256()
    for path in sorted(_KERNEL_DIR.glob("*.py")):
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return f"{__version__}-{digest.hexdigest()[:12]}"


def _writable(folder: Path) -> bool:
    try:
        folder.mkdir(parents=True, exist_ok=True)
        probe = folder / ".write-probe"
        probe.touch()
        probe.unlink()
        return True
    except OSError:
        return False


def _remove_stale(parent: Path, keep: str, *, now: float | None = None) -> None:
    """Remove other keys' folders unused for ``KEEP_DAYS`` days or beyond the ``KEEP_KEYS`` most recent.

    A folder's modification time is its last use (``configure_numba_cache``
    touches the folder it uses).  Only folders named like our keys are
    considered: never anything else a user put there.
    """
    now = time.time() if now is None else now
    others = []
    for child in parent.iterdir() if parent.is_dir() else ():
        if child.is_dir() and child.name != keep and child.name.count("-") == 1 \
                and child.name.split("-")[0][:1].isdigit():
            try:
                others.append((child.stat().st_mtime, child))
            except OSError:
                continue
    others.sort(reverse=True)  # most recently used first
    for rank, (used, child) in enumerate(others):
        if rank >= KEEP_KEYS or now - used > KEEP_DAYS * 86400:
            shutil.rmtree(child, ignore_errors=True)


def configure_numba_cache() -> Path | None:
    """Point numba's cache at a folder keyed to the kernels; return it.

    A user-set ``NUMBA_CACHE_DIR`` is respected.  When the cache root is not
    writable (a read-only home, say), the kernels are cached in this user's
    folder of the temporary directory instead, with a warning; when that
    fails too, in a fresh temporary folder removed at exit (every run then
    compiles, but runs).  numba itself would otherwise refuse to import the
    kernels ("no locator available").
    """
    if os.environ.get("NUMBA_CACHE_DIR"):
        return Path(os.environ["NUMBA_CACHE_DIR"])
    key = kernel_key()
    parent = cache_root() / "numba"
    folder = parent / key
    if not _writable(folder):
        fallback = Path(tempfile.gettempdir()) / f"risk-{_user()}" / "numba"
        warnings.warn(f"risk: the cache folder {parent} is not writable; compiled kernels go to "
                      f"{fallback} (set RISK_CACHE_DIR to choose another)", RuntimeWarning, stacklevel=2)
        parent, folder = fallback, fallback / key
        if not _writable(folder):
            folder = Path(tempfile.mkdtemp(prefix="risk-numba-"))
            atexit.register(shutil.rmtree, folder, ignore_errors=True)
            _point_numba_at(folder)
            return folder
    os.utime(folder)  # its last use: what keeps it from being removed by another version
    _remove_stale(parent, key)
    _point_numba_at(folder)
    return folder


def _point_numba_at(folder: Path) -> None:
    os.environ["NUMBA_CACHE_DIR"] = str(folder)
    if "numba" in sys.modules:  # numba may already be imported by the user's session
        sys.modules["numba"].config.CACHE_DIR = str(folder)


def _user() -> str:
    try:
        return str(os.getuid())
    except AttributeError:  # not POSIX
        return os.environ.get("USERNAME", "user")


def scenario_cache_dir() -> Path | None:
    """Return a writable folder for compiled scenarios (the temporary directory's as a fallback), or None."""
    for root in (cache_root(), Path(tempfile.gettempdir()) / f"risk-{_user()}"):
        folder = root / "scenarios" / __version__
        if _writable(folder):
            return folder
    return None


def kernels_cached() -> bool:
    """Whether this install's main kernel is already compiled in the cache (no first-run compile ahead)."""
    folder = os.environ.get("NUMBA_CACHE_DIR")
    if not folder:
        return False
    return any(Path(folder).glob("*/simulate.run_batch-*.nbc"))
