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

from ..errors import InputError
from ..scenario.common import read_input, reject_unknown, toml_document
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
    reject_unknown(doc, KEYS, key="", source=source)
    for key in ("title", "schedule"):
        if key not in doc:
            raise InputError(f"missing key '{key}'", source=source, key=key,
                             allowed="title = \"...\" and schedule = \"<cron>\"")
    title = _text(doc["title"], "title", source)
    schedule = _text(doc["schedule"], "schedule", source)
    cron_trigger(schedule, source=source)
    scenario = _text(doc.get("scenario", "default"), "scenario", source)
    stress = doc.get("stress", [])
    if not isinstance(stress, list) or not all(isinstance(s, str) for s in stress):
        raise InputError("expected a list of overlay names", source=source, key="stress",
                         allowed='e.g. ["bear", "ramp-slip"] (see `risk stress list`)')
    from ..scenario.overrides import embedded_overlays

    overlays = []
    for name in stress:
        if name in embedded_overlays():
            overlays.append(name)
        elif (path.parent / name).is_file():
            overlays.append(str(_inside(path.parent, name, "stress", source, allow_outside)))
        else:
            reject_unknown([name], embedded_overlays(), key="stress", source=source, what="overlay")
    draws = _positive_int(doc.get("draws", 1_000_000), "draws", source)
    seed = doc.get("seed", "keep")
    if seed not in ("date", "keep") and (isinstance(seed, bool) or not isinstance(seed, int)
                                         or not 0 <= seed < 2**63):
        raise InputError(f"{seed!r} is not a seed policy", source=source, key="seed",
                         allowed='"keep" (the first run\'s seed, kept), "date" (YYYYMMDD of the report date) or an '
                                 'integer in [0, 2**63)')
    observations = doc.get("observations")
    if observations is not None:
        _text(observations, "observations", source)
        if observations != "default":
            if not (path.parent / observations).is_file():
                raise InputError(f"no observations file {observations!r} next to the definition", source=source,
                                 key="observations", allowed='a CSV relative to the definition, or "default"')
            observations = str(_inside(path.parent, observations, "observations", source, allow_outside))
    sections = doc.get("sections", list(SECTIONS))
    if not isinstance(sections, list) or not sections:
        raise InputError("expected a non-empty list of sections", source=source, key="sections",
                         allowed=", ".join(SECTIONS))
    reject_unknown(sections, SECTIONS, key="sections", source=source, what="section")
    filename = _text(doc.get("filename", path.stem + "-{date}"), "filename", source)
    _check_filename(filename, source)
    output = _inside(path.parent, _text(doc.get("output", f"out/{path.stem}"), "output", source), "output", source,
                     allow_outside)
    history = _inside(output, _text(doc.get("history", "history.sqlite"), "history", source), "history", source,
                      allow_outside)
    drivers = doc.get("drivers", {})
    if not isinstance(drivers, dict):
        raise InputError("expected a table [drivers]", source=source, key="drivers", allowed="entities, draws")
    reject_unknown(drivers, DRIVER_KEYS, key="drivers", source=source)
    entities = drivers.get("entities")
    if entities is not None and (not isinstance(entities, list) or not all(isinstance(e, str) for e in entities)):
        raise InputError("expected a list of company names", source=source, key="drivers.entities",
                         allowed='e.g. ["anthropic", "sector"]')
    if (path.parent / scenario).is_file():
        scenario_value = str(_inside(path.parent, scenario, "scenario", source, allow_outside))
    elif scenario in EMBEDDED:
        scenario_value = scenario
    else:
        raise InputError(f"no scenario file {scenario!r} next to the definition, and no embedded scenario of "
                         f"that name", source=source, key="scenario",
                         allowed=f"a scenario file relative to {path.parent}, or one of {', '.join(EMBEDDED)}")
    return ReportDefinition(
        name=path.stem, title=title, scenario=scenario_value, stress=tuple(overlays), draws=draws, seed=seed,
        sections=tuple(sections), output=output, filename=filename, history=history, schedule=schedule,
        driver_entities=tuple(entities) if entities is not None else None,
        driver_draws=_positive_int(drivers.get("draws", 20_000), "drivers.draws", source), source=source,
        observations=observations)
