"""What every part of the scenario package shares: TOML reading, unknown-key checks, shipped files.

A leaf module (it imports nothing of the package), so that ``schema``,
``distributions``, ``overrides`` and ``observations`` can all import it at
module top without a cycle.
"""

from __future__ import annotations

import difflib
import re
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


def toml_document(data: bytes | str, *, source: str) -> dict:
    """Parse TOML bytes, turning syntax errors into an ``InputError`` with the line."""
    raw_bytes = data.encode() if isinstance(data, str) else data
    try:
        text = raw_bytes.decode("utf-8")
        return tomllib.loads(text)
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


def reject_unknown(names, allowed, *, key: str, source: str, what: str = "key") -> None:
    """Raise for the first name not in ``allowed``, with a did-you-mean."""
    for name in names:
        if name in allowed:
            continue
        close = difflib.get_close_matches(str(name), [str(a) for a in allowed], n=1, cutoff=0.6)
        hint = f"; did you mean '{close[0]}'?" if close else ""
        path = (f"{key}.{name}" if key else str(name)) if what == "key" else key
        raise InputError(f"unknown {what} '{name}'{hint}", source=source, key=path,
                         allowed=", ".join(str(a) for a in allowed))
