"""What every part of the scenario package shares: TOML reading, unknown-key checks, shipped files.

A leaf module (it imports nothing of the package), so that ``schema``,
``distributions``, ``overrides`` and ``observations`` can all import it at
module top without a cycle.
"""

from __future__ import annotations

import difflib
import re
import sys
import tomllib
from importlib import resources
from pathlib import Path

from ..errors import InputError


def embedded_path(name: str) -> Path:
    """Path of an embedded scenario shipped inside the package (``default``, ...)."""
    try:
        return Path(str(resources.files("risk._priors").joinpath(f"{name}.toml")))
    except ModuleNotFoundError:
        # Running from a source checkout that was not installed: the repository's priors/.
        return Path(__file__).resolve().parents[2] / "priors" / f"{name}.toml"


# Bounds on what a file may hold: far above any real scenario (the default is 30 KB, nested 5 deep), far
# below what would take minutes or blow the stack
MAX_FILE_BYTES = 4 * 2**20
MAX_NESTING = 16


def read_input(path: str | Path, *, what: str) -> bytes:
    """The bytes of an input file, or an ``InputError`` naming it (unreadable, not a file, too large).

    ``what`` names the file's role in the message ("scenario", "overlay", ...).
    """
    path = Path(path)
    try:
        with open(path, "rb") as handle:
            data = handle.read(MAX_FILE_BYTES + 1)
    except IsADirectoryError:
        raise InputError(f"the {what} is a folder, not a file", source=str(path),
                         allowed=f"a {what} file") from None
    except OSError as err:
        raise InputError(f"cannot read the {what}: {err.strerror or err}", source=str(path),
                         allowed="a file this user can read (check its permissions)") from None
    return _bounded(data, what=what, source=str(path))


def _bounded(data: bytes, *, what: str, source: str) -> bytes:
    # read with one byte to spare: more than MAX_FILE_BYTES is too large, whatever the source
    if len(data) > MAX_FILE_BYTES:
        raise InputError(f"the {what} is larger than {MAX_FILE_BYTES // 2**20} MiB", source=source,
                         allowed=f"a {what} of at most {MAX_FILE_BYTES // 2**20} MiB")
    return data


def read_stdin(*, what: str) -> bytes:
    """Standard input's bytes, bounded like a file (``read_input``)."""
    data = _bounded(sys.stdin.buffer.read(MAX_FILE_BYTES + 1), what=what, source="<stdin>")
    if not data.strip():
        raise InputError(f"no {what} on standard input", source="<stdin>",
                         allowed=f"pipe a TOML {what} in: cat my.toml | risk simulate -")
    return data


def _nesting(value) -> int:
    """How deeply tables and arrays nest in a parsed document (iterative: no recursion to exhaust)."""
    deepest, stack = 0, [(value, 0)]
    while stack:
        node, depth = stack.pop()
        deepest = max(deepest, depth)
        if isinstance(node, dict):
            stack.extend((child, depth + 1) for child in node.values())
        elif isinstance(node, list):
            stack.extend((child, depth + 1) for child in node)
    return deepest


def toml_document(data: bytes | str, *, source: str) -> dict:
    """Parse TOML bytes, turning syntax errors into an ``InputError`` with the line."""
    raw_bytes = data.encode() if isinstance(data, str) else data
    too_deep = InputError(f"tables or arrays nested more than {MAX_NESTING} deep", source=source,
                          allowed="a scenario's own layout (companies.<name>.contracts.<name>.<prior> is 4 deep)")
    try:
        text = raw_bytes.decode("utf-8")
        document = tomllib.loads(text)
    except RecursionError:
        raise too_deep from None
    except UnicodeDecodeError as err:
        raise InputError(f"not UTF-8 text ({err.reason})", source=source, allowed="a UTF-8 TOML file") from None
    except tomllib.TOMLDecodeError as err:
        # Python 3.11's tomllib puts the position only in the message: "(at line 4, column 11)"
        text = str(err)
        found = re.search(r"\(at line (\d+), column (\d+)\)", text)
        line = int(found.group(1)) if found else getattr(err, "lineno", None)
        problem = re.sub(r"\s*\(at line \d+, column (\d+)\)", r" (column \1)", text)
        raise InputError(f"TOML syntax error: {problem}", source=source, line=line,
                         allowed="TOML 1.0 (https://toml.io)") from None
    if _nesting(document) > MAX_NESTING:
        raise too_deep
    return document


def unknown_keys(names, allowed, *, key: str, source: str, what: str = "key") -> list[InputError]:
    """An error, with a did-you-mean, for every name not in ``allowed`` (``validate`` lists them all)."""
    found = []
    for name in names:
        if name in allowed:
            continue
        close = difflib.get_close_matches(str(name), [str(a) for a in allowed], n=1, cutoff=0.6)
        hint = f"; did you mean '{close[0]}'?" if close else ""
        path = (f"{key}.{name}" if key else str(name)) if what == "key" else key
        found.append(InputError(f"unknown {what} '{name}'{hint}", source=source, key=path,
                                allowed=", ".join(str(a) for a in allowed)))
    return found


def reject_unknown(names, allowed, *, key: str, source: str, what: str = "key") -> None:
    """Raise for the first name not in ``allowed``, with a did-you-mean."""
    found = unknown_keys(names, allowed, key=key, source=source, what=what)
    if found:
        raise found[0]
