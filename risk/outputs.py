"""Writing what a run produced: checked before any work, atomic, never through a symlink.

* :func:`check_output` refuses an output path that cannot be written (a
  folder, a NUL byte, a symlink, a folder it cannot create or write in)
  before any simulation runs;
* :func:`write_atomic` writes one file through a temporary file in the same
  folder, ``fsync``\\ s it, renames it into place and ``fsync``\\ s the folder;
* :func:`commit` does the same for several files that must appear together
  (a memo's PDF and JSON): every file is staged first, then renamed; a
  failed rename puts back what was there before;
* :func:`remove_stale` removes the temporary files of runs that were killed.

Files follow the umask (``0o666 & ~umask``) like any file the user writes.
Failures raise :class:`OutputError` (an ``InputError``: exit 2 at the
command line) naming the path, with nothing left behind.
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import tempfile
import time
from pathlib import Path

from .errors import InputError

TEMPORARY = re.compile(r"^\..+\.[A-Za-z0-9_]{8}\.tmp$")  # ``.NAME.XXXXXXXX.tmp``: ours, from mkstemp
STALE_SECONDS = 3600.0  # a temporary file older than this belongs to a run that died


class OutputError(InputError):
    """An output that cannot be written: the path, the reason and the fix."""


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def check_output(path: str | Path, *, source: str = "--out") -> Path:
    """An output file path that can be written, or an :class:`OutputError` now, before any work.

    The folder is created if missing; a probe file proves it writable (and
    that the disk takes a file), and is removed.
    """
    text = str(path)
    if "\0" in text or not text.strip():
        raise OutputError(f"{text!r} is not a file name", source=source, allowed="a path such as results.json")
    target = Path(text)
    if target.is_symlink():
        raise OutputError("the output is a symbolic link, which this writer does not follow", source=source,
                          key=text, allowed="a plain file path (remove the link or write elsewhere)")
    if target.is_dir():
        raise OutputError("the output is a folder", source=source, key=text,
                          allowed="a file path inside it, e.g. " + str(target / "result.json"))
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        handle, probe = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
        os.close(handle)
        os.unlink(probe)
    except OSError as err:
        raise OutputError(f"cannot write in {target.parent}: {err.strerror or err}", source=source, key=text,
                          allowed="a folder this user can write in, on a disk with space") from None
    return target


def _stage(target: Path, data: bytes) -> Path:
    """``data`` in a new temporary file beside ``target``, flushed to disk."""
    handle, name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(name, 0o666 & ~_umask())
    except BaseException:
        Path(name).unlink(missing_ok=True)
        raise
    return Path(name)


def _sync_folder(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return  # a platform without folder handles: the rename is as durable as it gets
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def commit(files: dict, *, source: str = "output", then=None) -> None:
    """Write ``{path: bytes or str}`` so that all the files appear together, or none changes.

    Each file is staged beside its target and synced; then each is renamed
    into place, and ``then()`` is called (a database commit that must land
    with the files).  If a rename or ``then`` fails, the targets already
    replaced get their earlier content back (kept aside as a hard link
    during the commit) or are removed, and the staged files are deleted.

    Raises
    ------
    OutputError
        Naming the file that could not be written and why.
    """
    targets = {Path(path): data.encode("utf-8") if isinstance(data, str) else data for path, data in files.items()}
    staged, saved, done = {}, {}, []
    current = None
    try:
        for target, data in targets.items():
            current = target
            if target.is_symlink():
                raise OutputError("the output is a symbolic link, which this writer does not follow",
                                  source=source, key=str(target), allowed="remove the link")
            if target.is_dir():
                raise OutputError("the output is a folder", source=source, key=str(target),
                                  allowed="move the folder away")
            target.parent.mkdir(parents=True, exist_ok=True)
            staged[target] = _stage(target, data)
        for target, tmp in staged.items():
            current = target
            if target.exists():
                saved[target] = _keep(target)
            os.replace(tmp, target)
            done.append(target)
        if then is not None:
            then()
        for folder in {target.parent for target in targets}:
            _sync_folder(folder)
    except BaseException as err:
        for target in reversed(done):
            if target in saved:
                os.replace(saved.pop(target), target)
            else:
                target.unlink(missing_ok=True)
        for path in list(staged.values()) + list(saved.values()):
            path.unlink(missing_ok=True)
        if isinstance(err, OSError):
            raise OutputError(f"cannot write {current}: {err.strerror or err}; nothing was changed",
                              source=source, key=str(current),
                              allowed="a writable folder with space, and no folder or link at the file's path") from None
        raise
    for keep in saved.values():
        keep.unlink(missing_ok=True)


def _keep(target: Path) -> Path:
    """A second name for ``target``'s current content (a hard link, else a copy), to put back on failure."""
    keep = target.parent / f".{target.name}.{secrets.token_hex(4)}.tmp"
    try:
        os.link(target, keep)
    except OSError:
        shutil.copy2(target, keep)
    return keep


def write_atomic(path: str | Path, text: str | bytes, *, source: str = "--out") -> None:
    """Write ``text`` to ``path`` through a synced temporary file and a rename (see :func:`commit`)."""
    commit({Path(path): text}, source=source)


def remove_stale(folder: Path, names, *, older_than: float = STALE_SECONDS) -> list[Path]:
    """Remove the temporary files of killed runs: ``.NAME.XXXXXXXX.tmp`` for ``NAME`` in ``names``.

    Only files matching our own pattern for one of ``names``, and older than
    ``older_than`` seconds (a live run's are younger), are removed.
    """
    removed = []
    now = time.time()
    wanted = {f".{name}." for name in names}
    for path in folder.glob(".*.tmp") if folder.is_dir() else ():
        prefix = path.name[: path.name.rfind(".", 0, len(path.name) - 4) + 1]
        if not TEMPORARY.match(path.name) or prefix not in wanted or path.is_symlink():
            continue
        try:
            if now - path.stat().st_mtime > older_than:
                path.unlink()
                removed.append(path)
        except OSError:
            continue
    return removed


def open_append(path: Path):
    """Open ``path`` for appending without following a symlink (a planted ``report.log`` link is refused)."""
    flags = os.O_WRONLY | os.O_APPEND | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0)
    try:
        fd = os.open(path, flags, 0o666)
    except OSError as err:
        hint = " (it is a symbolic link)" if path.is_symlink() else ""
        raise OutputError(f"cannot append to {path}{hint}: {err.strerror or err}", source=str(path),
                          allowed="a plain file this user can write (remove the link)") from None
    return os.fdopen(fd, "a", encoding="utf-8")
