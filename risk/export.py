"""A result as tables for spreadsheets and data frames: the summary, the per-year bands, the kept draws.

``tables(result)`` returns pandas DataFrames; ``export(result, folder)``
writes them as CSV (or Parquet, with ``pyarrow`` installed) into one folder,
all files together or none (``outputs.commit``):

``summary``
    one row per company and the sector: ``Result.summary()``;
``years``
    one row per entity, year and quantity (revenue, earnings, compute cost,
    earnings / cost): its 5, 25, 50, 75 and 95 % points;
``draws``
    with kept draws (``keep=``): one row per kept draw and entity: coverage,
    funding gap, shortfall, distress, default, new money, break-even year;
``priors``
    with kept draws: one row per kept draw, one column per scalar prior.
"""

from __future__ import annotations

import importlib.util
import io
from pathlib import Path

from . import outputs
from .errors import InputError

FORMATS = ("csv", "parquet")
QUANTITIES = ("revenue", "earnings", "compute_cost", "earnings_to_cost")
PER_DRAW = ("coverage", "funding_gap", "shortfall", "distress", "default", "new_money_total", "breakeven_year")


def tables(result) -> dict:
    """The result's tables as pandas DataFrames (``draws`` and ``priors`` only with kept draws)."""
    import pandas as pd

    found = {"summary": result.summary().reset_index()}
    rows = []
    for name, stats in result.entities.items():
        for year, values in stats.years.items():
            for quantity in QUANTITIES:
                quantiles = values.get(f"{quantity}_quantiles")
                if quantiles is not None:
                    rows.append({"entity": name, "year": int(year), "quantity": quantity,
                                 **{f"p{q}": quantiles[q] for q in ("5", "25", "50", "75", "95")}})
    found["years"] = pd.DataFrame(rows)
    if result.kept is not None:
        dataset = result.to_xarray()
        found["draws"] = dataset[list(PER_DRAW)].to_dataframe().reset_index()
        scalars = [name for name, variable in dataset.data_vars.items() if variable.dims == ("draw",)]
        found["priors"] = dataset[scalars].to_dataframe().reset_index() if scalars else pd.DataFrame()
    return found


def check_format(format: str) -> None:
    """Refuse an unknown format, or Parquet without ``pyarrow``, before any work."""
    if format not in FORMATS:
        raise InputError(f"unknown export format {format!r}", source="format", allowed=", ".join(FORMATS))
    if format == "parquet" and importlib.util.find_spec("pyarrow") is None:
        raise InputError("Parquet export needs pyarrow", source="format",
                         allowed="pip install 'risk[parquet]' (pyarrow), or format csv")


def export(result, folder: str | Path, *, format: str = "csv") -> list[Path]:
    """Write the result's tables into ``folder`` (``summary.csv``, ``years.csv``, ...); returns the paths.

    Raises
    ------
    InputError
        For an unknown format, Parquet without ``pyarrow``, or a folder that cannot be written.
    """
    check_format(format)
    folder = Path(folder)
    files = {}
    for name, frame in tables(result).items():
        if format == "csv":
            files[folder / f"{name}.csv"] = frame.to_csv(index=False)
        else:
            buffer = io.BytesIO()
            frame.to_parquet(buffer, index=False)
            files[folder / f"{name}.parquet"] = buffer.getvalue()
    outputs.commit(files, source=str(folder))
    return list(files)
