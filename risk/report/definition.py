"""Report definitions: ``reports/*.toml`` -> a validated ``ReportDefinition``.

Keys (all but ``title`` and ``schedule`` optional)::

    title     = "Weekly AI compute coverage memo"
    scenario  = "default"                 # a scenario file (relative to this file) or embedded name
    stress    = ["bear", "ramp-slip"]     # overlays for the stress table (paired comparisons)
    draws     = 1_000_000
    seed      = "keep"                    # "keep": the first run's seed, kept (identical inputs give identical
                                          # numbers, changed inputs are compared on common random numbers);
                                          # "date": YYYYMMDD of the report date; or a whole number
    observations = "default"              # a CSV of reported numbers (or "default", the shipped one): the memo
                                          # shows how they move the verdict (PSIS; risk calibrate)
    sections  = ["cover", "summary", "companies", "sector", "providers", "drivers", "stress",
                 "history", "priors", "methodology"]
    output    = "out/weekly"              # folder, relative to this file
    filename  = "ai-compute-memo-{date}"  # {date} = YYYY-MM-DD; ".pdf" and ".json" are added
    history   = "history.sqlite"          # relative to the output folder
    schedule  = "0 7 * * MON"             # cron: minute hour day month weekday (UTC)
    [drivers]
    entities = ["anthropic", "openai"]    # default: every company
    draws = 20_000                        # per tornado pin

Validated like scenario files: every problem names the file, the key and what
is allowed.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import InputError, InputErrors
from ..scenario.common import read_input, toml_document, unknown_keys
from ..scenario.schema import EMBEDDED

SECTIONS = ("cover", "summary", "companies", "sector", "providers", "drivers", "stress", "observations", "history",
            "priors", "methodology")
KEYS = ("title", "scenario", "stress", "draws", "seed", "sections", "output", "filename", "history", "schedule",
        "drivers", "observations")
DRIVER_KEYS = ("entities", "draws")


@dataclass(frozen=True)
class ReportDefinition:
    """A validated report definition (see the module docstring for the keys)."""

    name: str
    title: str
    scenario: str
    stress: tuple
    draws: int
    seed: int | str
    sections: tuple
    output: Path
    filename: str
    history: Path
    schedule: str
    driver_entities: tuple | None
    driver_draws: int
    source: str
    observations: str | None = None
    extra: dict = field(default_factory=dict)

    def seed_for(self, day: dt.date, previous: int | None = None) -> int:
        """The seed of the report of ``day``: fixed, the date as YYYYMMDD, or (``"keep"``) the ``previous`` run's."""
        if self.seed == "keep":
            return int(previous) if previous is not None else int(day.strftime("%Y%m%d"))
        return int(day.strftime("%Y%m%d")) if self.seed == "date" else int(self.seed)

    def paths_for(self, day: dt.date) -> tuple[Path, Path]:
        """The PDF and JSON paths of the report of ``day`` (deterministic)."""
        stem = self.filename.format(date=day.isoformat())
        return self.output / f"{stem}.pdf", self.output / f"{stem}.json"


def cron_trigger(expression: str, *, source: str, key: str = "schedule"):
    """An APScheduler ``CronTrigger`` (UTC) from a five-field cron expression, or an ``InputError``."""
    from apscheduler.triggers.cron import CronTrigger

    try:
        return CronTrigger.from_crontab(expression, timezone="UTC")
    except (ValueError, TypeError) as err:
        raise InputError(f"not a cron expression: {err}", source=source, key=key,
                         allowed='five fields "minute hour day month weekday", e.g. "0 7 * * MON"') from None


def _positive_int(value, key, source):
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise InputError(f"expected a positive whole number, got {value!r}", source=source, key=key,
                         allowed="an integer >= 1 (underscores allowed: 1_000_000)")
    return value


def _text(value, key, source):
    if not isinstance(value, str) or not value.strip():
        raise InputError(f"expected non-empty text, got {value!r}", source=source, key=key, allowed="a string")
    return value


def _inside(folder: Path, relative: str, key: str, source: str, allow_outside: str | Path | None = None) -> Path:
    """``folder / relative``, refused unless it stays inside ``folder`` (or under ``allow_outside``).

    A shared folder of definitions must not let one colleague's file write or
    read elsewhere: no absolute path, ``..`` or symlink that leads out, no NUL.
    """
    allowed = [folder.resolve()] + ([Path(allow_outside).resolve()] if allow_outside is not None else [])
    if "\0" in relative or not relative.strip():
        raise InputError(f"{relative!r} is not a path", source=source, key=key,
                         allowed="a path relative to the definition's folder (output, scenario, stress) or to the "
                                 "output (history)")
    target = folder / relative
    if not any(target.resolve().is_relative_to(root) for root in allowed):
        raise InputError(f"{relative!r} leads out of {folder}", source=source, key=key,
                         allowed="a path that stays inside it (no absolute path elsewhere, no '..' out, no symlink "
                                 "out), or --allow-outside DIR for a folder it may use")
    return target


def _check_filename(filename: str, source: str) -> None:
    """A file-name pattern: at most ``{date}``, no folder, no NUL, formattable."""
    fields = set(re.findall(r"{([^}]*)}", filename))
    problem = None
    if fields - {"date"}:
        problem = f"uses {sorted(fields - {'date'})}"
    elif "/" in filename or "\\" in filename or "\0" in filename or filename.strip(". ") == "":
        problem = "holds a folder separator, a NUL byte or no name"
    else:
        try:
            filename.format(date="2026-01-05")
        except (ValueError, IndexError, KeyError) as err:
            problem = f"cannot be filled in ({err})"
    if problem:
        raise InputError(f"file-name pattern {filename!r} {problem}", source=source, key="filename",
                         allowed="a name with at most {date} in it, e.g. \"memo-{date}\" (no folders)")


def load_definition(path: str | Path, *, allow_outside: str | Path | None = None) -> ReportDefinition:
    """Read and validate a report definition file.

    Parameters
    ----------
    path : str or pathlib.Path
    allow_outside : path, optional
        A folder under which the definition's files (``output``, ``history``,
        a ``scenario`` or overlay file) may also lie; by default they must
        stay inside the definition's own folder.
    """
    path = Path(path)
    source = str(path)
    if not path.is_file():
        raise InputError("no such report definition", source=source, allowed="a TOML file such as reports/weekly.toml")
    doc = toml_document(read_input(path, what="report definition"), source=source)
    folder = path.parent
    errors = unknown_keys(doc, KEYS, key="", source=source)
    found = {}

    def check(key, fn, *args):
        # every key is checked even when an earlier one failed: `risk validate` lists every problem at once
        try:
            found[key] = fn(*args)
        except InputErrors as err:
            errors.extend(err.errors)
        except InputError as err:
            errors.append(err)

    for key in ("title", "schedule"):
        if key not in doc:
            errors.append(InputError(f"missing key '{key}'", source=source, key=key,
                                     allowed="title = \"...\" and schedule = \"<cron>\""))
        else:
            check(key, _text, doc[key], key, source)
    if "schedule" in found:
        check("cron", lambda: cron_trigger(found["schedule"], source=source))
    check("scenario", _scenario, doc.get("scenario", "default"), folder, source, allow_outside)
    check("stress", _overlays, doc.get("stress", []), folder, source, allow_outside)
    check("draws", _positive_int, doc.get("draws", 1_000_000), "draws", source)
    check("seed", _seed, doc.get("seed", "keep"), source)
    check("observations", _observations, doc.get("observations"), folder, source, allow_outside)
    check("sections", _sections, doc.get("sections", list(SECTIONS)), source)
    check("filename", _filename, doc.get("filename", path.stem + "-{date}"), source)
    check("output", _path, doc.get("output", f"out/{path.stem}"), folder, "output", source, allow_outside)
    if "output" in found:
        check("history", _path, doc.get("history", "history.sqlite"), found["output"], "history", source,
              allow_outside)
    check("drivers", _drivers, doc.get("drivers", {}), source)
    if errors:
        raise InputErrors(errors) if len(errors) > 1 else errors[0]
    entities, driver_draws = found["drivers"]
    return ReportDefinition(
        name=path.stem, title=found["title"], scenario=found["scenario"], stress=found["stress"],
        draws=found["draws"], seed=found["seed"], sections=found["sections"], output=found["output"],
        filename=found["filename"], history=found["history"], schedule=found["schedule"],
        driver_entities=entities, driver_draws=driver_draws, source=source, observations=found["observations"])


def _path(value, folder: Path, key: str, source: str, allow_outside) -> Path:
    return _inside(folder, _text(value, key, source), key, source, allow_outside)


def _scenario(scenario, folder: Path, source: str, allow_outside) -> str:
    scenario = _text(scenario, "scenario", source)
    if (folder / scenario).is_file():
        return str(_inside(folder, scenario, "scenario", source, allow_outside))
    if scenario in EMBEDDED:
        return scenario
    raise InputError(f"no scenario file {scenario!r} next to the definition, and no embedded scenario of "
                     f"that name", source=source, key="scenario",
                     allowed=f"a scenario file relative to {folder}, or one of {', '.join(EMBEDDED)}")


def _overlays(stress, folder: Path, source: str, allow_outside) -> tuple:
    from ..scenario.overrides import embedded_overlays

    if not isinstance(stress, list) or not all(isinstance(s, str) for s in stress):
        raise InputError("expected a list of overlay names", source=source, key="stress",
                         allowed='e.g. ["bear", "ramp-slip"] (see `risk stress list`)')
    overlays, errors = [], []
    for name in stress:
        if name in embedded_overlays():
            overlays.append(name)
        elif (folder / name).is_file():
            overlays.append(str(_inside(folder, name, "stress", source, allow_outside)))
        else:
            errors.extend(unknown_keys([name], embedded_overlays(), key="stress", source=source, what="overlay"))
    if errors:
        raise InputErrors(errors)
    return tuple(overlays)


def _seed(seed, source: str):
    if seed not in ("date", "keep") and (isinstance(seed, bool) or not isinstance(seed, int)
                                         or not 0 <= seed < 2**63):
        raise InputError(f"{seed!r} is not a seed policy", source=source, key="seed",
                         allowed='"keep" (the first run\'s seed, kept), "date" (YYYYMMDD of the report date) or an '
                                 'integer in [0, 2**63)')
    return seed


def _observations(observations, folder: Path, source: str, allow_outside):
    if observations is None:
        return None
    _text(observations, "observations", source)
    if observations == "default":
        return observations
    if not (folder / observations).is_file():
        raise InputError(f"no observations file {observations!r} next to the definition", source=source,
                         key="observations", allowed='a CSV relative to the definition, or "default"')
    return str(_inside(folder, observations, "observations", source, allow_outside))


def _sections(sections, source: str) -> tuple:
    if not isinstance(sections, list) or not sections:
        raise InputError("expected a non-empty list of sections", source=source, key="sections",
                         allowed=", ".join(SECTIONS))
    errors = unknown_keys(sections, SECTIONS, key="sections", source=source, what="section")
    if errors:
        raise InputErrors(errors)
    return tuple(sections)


def _filename(filename, source: str) -> str:
    filename = _text(filename, "filename", source)
    _check_filename(filename, source)
    return filename


def _drivers(drivers, source: str) -> tuple:
    if not isinstance(drivers, dict):
        raise InputError("expected a table [drivers]", source=source, key="drivers", allowed="entities, draws")
    errors = unknown_keys(drivers, DRIVER_KEYS, key="drivers", source=source)
    entities = drivers.get("entities")
    if entities is not None and (not isinstance(entities, list) or not all(isinstance(e, str) for e in entities)):
        errors.append(InputError("expected a list of company names", source=source, key="drivers.entities",
                                 allowed='e.g. ["anthropic", "sector"]'))
    try:
        draws = _positive_int(drivers.get("draws", 20_000), "drivers.draws", source)
    except InputError as err:
        errors.append(err)
    if errors:
        raise InputErrors(errors)
    return (tuple(entities) if entities is not None else None), draws
