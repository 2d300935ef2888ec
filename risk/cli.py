"""The ``risk`` command: a thin Typer layer over the library.

Exit codes: 0 ok, 2 bad input (nothing written), 1 internal error.
"""

from __future__ import annotations

import errno
import gc
import json
import math
import os
import re
import signal
import sys
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from . import api, checks, engine, numbers
from ._cache import kernels_cached
from .errors import InputError
from .export import check_format
from .outputs import check_output, write_atomic
from .result import Result

app = typer.Typer(add_completion=True, no_args_is_help=True, pretty_exceptions_show_locals=False,
                  help="Will the AI labs' projected earnings cover the compute they committed to?")


def _version(value: bool) -> None:
    if value:
        import numba
        import numpy

        from ._version import __version__

        print(f"risk {__version__} (numpy {numpy.__version__}, numba {numba.__version__}, "
              f"python {sys.version.split()[0]})")
        raise typer.Exit(0)


@app.callback()
def _main(version: bool = typer.Option(False, "--version", callback=_version, is_eager=True,
                                       help="Print the version (and numpy's, numba's, Python's) and exit.")) -> None:
    """Will the AI labs' projected earnings cover the compute they committed to?"""
priors_app = typer.Typer(no_args_is_help=True, help="Inspect the priors of a scenario.")
app.add_typer(priors_app, name="priors")
stress_app = typer.Typer(no_args_is_help=True, help="The shipped stress overlays.")
app.add_typer(stress_app, name="stress")

_SET_HELP = "Override a key: KEY=VALUE (e.g. companies.openai.revenue0.p50=30; '*' matches any name). Repeatable."
_SCALE_HELP = "Multiply a prior (as a random variable), number or list: KEY=FACTOR. Repeatable."
_SHIFT_HELP = "Add to a prior (as a random variable), number or list: KEY=DELTA. Repeatable."
_STRESS_HELP = "Apply a stress overlay (a name from `risk stress list`, or a file). Repeatable, in order."

# Options several commands share, declared once.
ThreadsOption = Annotated[Optional[int], typer.Option("--threads", help="Threads (results do not depend on it).")]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON only, on stdout.")]


def _checked_out(value: Optional[Path]) -> Optional[Path]:
    # at parse time, before any work: a folder, a link or an unwritable place is refused now, not after the run
    if value is None:
        return None
    try:
        return check_output(value)
    except InputError as err:
        _fail(err)


OutOption = Annotated[Optional[Path], typer.Option("--out", help="Also write the JSON to this file (atomically).",
                                                   callback=_checked_out)]
SetOption = Annotated[Optional[list[str]], typer.Option("--set", help=_SET_HELP)]
ScaleOption = Annotated[Optional[list[str]], typer.Option("--scale", help=_SCALE_HELP)]
ShiftOption = Annotated[Optional[list[str]], typer.Option("--shift", help=_SHIFT_HELP)]
StressOption = Annotated[Optional[list[str]], typer.Option("--stress", help=_STRESS_HELP)]
SeedOption = Annotated[Optional[int], typer.Option("--seed", help="Seed; default: a fresh one, reported.")]
ObservationsOption = Annotated[str, typer.Option(
    "--observations", help="A CSV of reported numbers ('default': the shipped one).")]
CalibrationsOption = Annotated[Optional[int], typer.Option(
    "--calibrations", help="Calibrations drawn from the scenario's [judgement] (default 64); draws are split among them.")]
NoJudgementOption = Annotated[bool, typer.Option(
    "--no-judgement", help="The scenario's central calibration only: no judgement band.")]
SchedulerOption = Annotated[Optional[str], typer.Option(
    "--scheduler", help="Run on this Dask scheduler, e.g. tcp://HOST:8786 (same numbers as here).")]
ClusterOption = Annotated[Optional[str], typer.Option(
    "--cluster", help="Run on a local Dask cluster: local:N worker processes (same numbers as here).")]
QuietOption = Annotated[bool, typer.Option("--quiet", "-q", help="No table, notes or progress: only errors "
                                                                   "(and --json, --format csv or --out).")]
AllowOutsideOption = Annotated[Optional[Path], typer.Option(
    "--allow-outside", help="A folder the definitions' output, history, scenario and overlay paths may also use "
                            "(by default they must stay inside the definition's folder).")]

_SUFFIX = {"": 1, "k": 10**3, "K": 10**3, "M": 10**6, "G": 10**9, "B": 10**9, "T": 10**12}
_DRAWS = re.compile(r"^\s*([0-9][0-9_]*(?:\.[0-9_]*)?(?:[eE][+]?[0-9]+)?)\s*([kKMGBT]?)\s*$")


def parse_draws(text: str) -> int:
    """Parse ``1e7``, ``10_000_000`` or ``10M`` into a positive whole number.

    Raises
    ------
    InputError
        When the text is not a positive whole number of draws.
    """
    match = _DRAWS.match(str(text))
    if match:
        number, suffix = match.groups()
        value = float(number.replace("_", "")) * _SUFFIX[suffix]
        if math.isfinite(value) and value >= 1 and value == int(value):
            return checks.check_draws(int(value), source="--draws")
    raise InputError(f"'{text}' is not a positive whole number of draws", source="--draws",
                     allowed="e.g. 1e7, 10_000_000 or 10M")


def _overrides(sets, scales, shifts) -> list:
    """Command-line overrides, in the order set, scale, shift (each in the order given)."""
    from .scenario.overrides import parse_assignment

    return ([parse_assignment(t, "set") for t in sets or ()]
            + [parse_assignment(t, "scale") for t in scales or ()]
            + [parse_assignment(t, "shift") for t in shifts or ()])


def _fail(err: InputError) -> None:
    # the message quotes files and keys ("[companies.<name>]", a key with "[/"): never read as markup
    Console(stderr=True).print(Text.assemble(("error:", "bold red"), " ", err.message), highlight=False)
    raise typer.Exit(2)


def _fmt(value, digits=3) -> str:
    if value is None:
        return "none"
    if isinstance(value, float) and not math.isfinite(value):
        return "∞" if value > 0 else "-∞"
    return f"{value:,.{digits}f}"


def _results_table(result: Result) -> Table:
    """The headline table: short labels that fit 80 columns; numbers at their error's precision (``numbers``)."""
    changed = f" + {', '.join(result.scenario.changes)}" if result.scenario.changes else ""
    sampler = "" if result.sampler == "mc" else f" ({result.sampler})"
    table = Table(title=f"{result.scenario.name}{changed}: {result.draws:,} draws{sampler}, seed {result.seed}, "
                        f"years {result.scenario.years[0]}–{result.scenario.years[-1]}", box=box.SIMPLE_HEAD,
                  pad_edge=False)
    table.add_column("", no_wrap=True)
    for name in result.entities:
        table.add_column(name, justify="right", overflow="fold")

    def row(label, fn):
        table.add_row(label, *[fn(s) for s in result.entities.values()])

    def band(key):
        return lambda s: "{:.2f}–{:.2f}".format(getattr(s, key)["5"], getattr(s, key)["95"])

    def probability(key):
        return lambda s: numbers.probability(getattr(s, key)["p"], getattr(s, key)["mcse"],
                                             interval=getattr(s, key)["ci95"])

    years = result.scenario.years
    middle = years[(len(years) - 1) // 2]
    if result.judgement is not None:
        for label, key, judged in (("P(shortfall)", "p_shortfall", "p_shortfall_judgement"),
                                   ("P(default)", "p_default", "p_default_judgement")):
            row(label, lambda s, key=key: numbers.point(getattr(s, key)["p"], getattr(s, key)["mcse"]))
            row("  judgement 5–95 %", band(judged))
            row("  Monte Carlo ±", lambda s, key=key: numbers.point(getattr(s, key)["mcse"], getattr(s, key)["mcse"]))
            if key == "p_shortfall":
                row("  judgement share", lambda s: f"{s.judgement_share:.0%}")
    else:
        row("P(shortfall)", probability("p_shortfall"))
        row("  95 % interval", lambda s: numbers.interval(*s.p_shortfall["ci95"], s.p_shortfall["mcse"]))
        row("P(default)", probability("p_default"))
    row("P(short), SBC in", probability("p_shortfall_economic"))
    row("P(new money)", probability("p_distress"))
    row("new money, $B", lambda s: numbers.value(s.new_money_mean, s.new_money_mean_mcse))
    row("coverage 50 %", lambda s: _fmt(s.coverage_quantiles["50"], 2))
    row("  5–95 %", lambda s: f"{_fmt(s.coverage_quantiles['5'], 2)}–{_fmt(s.coverage_quantiles['95'], 2)}")
    if any(s.coverage_pooled_quantiles is not None for s in result.entities.values()):
        row("  pooled (netted)", lambda s: _fmt(s.coverage_pooled_quantiles["50"], 2)
            if s.coverage_pooled_quantiles is not None else "")
    row("gap mean, $B", lambda s: numbers.value(s.funding_gap_mean, s.funding_gap_mean_mcse))
    row("  VaR95, $B", lambda s: f"{s.funding_gap_var95:,.1f}")
    row("  CVaR95, $B", lambda s: f"{s.funding_gap_cvar95:,.1f}")
    row("PV commitments, $B", lambda s: f"{s.pv_commitments_mean:,.1f}")
    row("gap / commitments", lambda s: f"{s.gap_share:.1%}")
    # break-even as its distribution: a median of a split distribution (40 % in year 1, 43 % never) misleads
    row(f"even in {years[0]}", lambda s: f"{s.breakeven[str(years[0])]:.0%}")
    row(f"  by {middle}", lambda s: f"{sum(s.breakeven[str(y)] for y in years if y <= middle):.0%}")
    row(f"  never (to {years[-1]})", lambda s: f"{s.breakeven['none']:.0%}")
    row("bubble-risk grade", lambda s: s.grade if s.grade_range[0] == s.grade_range[1]
        else f"{s.grade} ({s.grade_range[0]}–{s.grade_range[1]})")
    return table


def _print_rows(console: Console, title: str, header: list[str], rows: list[list[str]], *,
                caption: str | None = None) -> None:
    """A table when the terminal is wide enough for every full name and number, else one block per row.

    Nothing is ever cut: at 80 columns (or in a pipe) each row prints its
    name on a line of its own, then ``column value`` pairs packed into
    lines, a value never split.  Cells are plain text (never markup).
    """
    widths = [max(len(str(row[i])) for row in [header] + rows) for i in range(len(header))]
    if sum(widths) + 3 * len(widths) + 1 <= console.width:
        table = Table(title=title, box=box.SIMPLE_HEAD, caption=caption)
        for i, column in enumerate(header):
            table.add_column(Text(column), justify="left" if i == 0 else "right", no_wrap=True)
        for row in rows:
            table.add_row(*[Text(str(cell)) for cell in row])
        console.print(table)
        return
    console.print(Text(title, style="bold"))
    room = max(20, console.width - 6)
    for row in rows:
        console.print(Text(f"  {row[0]}", style="bold"), soft_wrap=True)
        line = ""
        for column, cell in zip(header[1:], row[1:]):
            if str(cell) == "":
                continue  # nothing to say (no error yet, no pooled value): no dangling label
            piece = f"{column.strip()} {cell}" if column.strip() else str(cell)
            if line and len(line) + 3 + len(piece) > room:
                console.print(Text(f"    {line}"), soft_wrap=True)
                line = ""
            line = f"{line} · {piece}" if line else piece
        if line:
            console.print(Text(f"    {line}"), soft_wrap=True)
    if caption:
        console.print(Text(caption, style="dim"))


class _Progress:
    """Progress on stderr once a run has taken about a second.

    On a terminal: a rich bar, erased when the run ends.  Elsewhere (``--progress``
    into a log or a pipe, where a live bar cannot redraw): one plain line at most
    every ``interval`` seconds, and a last one at the end.
    """

    def __init__(self, enabled: bool, unit: str = "draws", *, stream=None, threshold: float = 1.0,
                 interval: float = 5.0, description: str = "simulating"):
        self.enabled = enabled
        self.unit = unit
        self.description = description
        self.stream = sys.stderr if stream is None else stream
        self.live = self.stream.isatty()
        self.threshold = threshold
        self.interval = interval
        self.started = time.perf_counter()
        self.last_line = None  # when the last plain line was written
        self.bar = None
        self.task = None

    def __call__(self, done: int, total: int) -> None:
        if not self.enabled:
            return
        now = time.perf_counter()
        if self.bar is None and self.last_line is None and now - self.started < self.threshold and done < total:
            return
        if not self.live:
            if self.last_line is None or now - self.last_line >= self.interval or done >= total:
                self.last_line = now
                print(f"{self.description}: {done:,}/{total:,} {self.unit} ({done / total:.0%}), "
                      f"{now - self.started:.1f} s", file=self.stream, flush=True)
            return
        if self.bar is None:
            from rich.progress import BarColumn, Progress, TimeElapsedColumn, TimeRemainingColumn

            self.bar = Progress("[progress.description]{task.description}", BarColumn(),
                                "{task.completed:,}/{task.total:,} " + self.unit, TimeElapsedColumn(),
                                TimeRemainingColumn(), console=Console(file=self.stream), transient=True)
            self.bar.start()
            self.task = self.bar.add_task(self.description, total=total)
        self.bar.update(self.task, completed=done, total=total)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.stop()


@app.command()
def simulate(
    scenario: Optional[str] = typer.Argument(None, help="Scenario file or embedded name (default: the embedded default)."),
    draws: str = typer.Option("1e6", "--draws", "-n", help="Number of draws: 1e7, 10_000_000 or 10M."),
    seed: Optional[int] = typer.Option(None, "--seed", help="Seed in [0, 2**63); default: a fresh one, reported."),
    threads: ThreadsOption = None,
    as_json: JsonOption = False,
    out: OutOption = None,
    progress: bool = typer.Option(False, "--progress", help="Show a progress bar even when stderr is not a terminal."),
    sets: SetOption = None,
    scales: ScaleOption = None,
    shifts: ShiftOption = None,
    stress: StressOption = None,
    sampler: str = typer.Option("mc", "--sampler", help="mc, antithetic or rqmc (scrambled Sobol, errors from replicates)."),
    replicates: int = typer.Option(16, "--replicates", help="Independent randomisations for --sampler rqmc."),
    target_mcse: Optional[float] = typer.Option(None, "--target-mcse", help="Run in rounds until every probability's standard error is at most this (absolute)."),
    target_rel_err: Optional[float] = typer.Option(None, "--target-rel-err", help="... and at most this share of the probability."),
    max_draws: Optional[str] = typer.Option(None, "--max-draws", help="Cap for --target-* rounds (default 1000 x --draws)."),
    by: Optional[str] = typer.Option(None, "--by", help="'provider': also settle payments per provider and investor."),
    observations: Optional[str] = typer.Option(None, "--observations", help="A CSV of reported numbers ('default': the shipped one): also report the PSIS posterior."),
    scheduler: SchedulerOption = None,
    cluster: ClusterOption = None,
    calibrations: CalibrationsOption = None,
    no_judgement: NoJudgementOption = False,
    output_format: str = typer.Option("table", "--format", help="What stdout shows: table, json (as --json) or "
                                                                "csv (the summary, one row per entity)."),
    export: Optional[Path] = typer.Option(None, "--export", help="Also write summary, per-year bands and kept "
                                                                 "draws (with --keep) as files into this folder."),
    export_format: str = typer.Option("csv", "--export-format", help="csv or parquet (needs pyarrow)."),
    keep: Optional[int] = typer.Option(None, "--keep", help="Keep this many draws, spread evenly over the run "
                                                            "(for --export)."),
    quiet: QuietOption = False,
) -> None:
    """Simulate a scenario: P(shortfall), funding gap, break-even and the bubble-risk grade."""
    if output_format not in ("table", "json", "csv"):
        _fail(InputError(f"unknown format {output_format!r}", source="--format", allowed="table, json or csv"))
    as_json = as_json or output_format == "json"
    bar = _Progress(not quiet and (progress or sys.stderr.isatty()))
    try:
        n = parse_draws(draws)
        cap = parse_draws(max_draws) if max_draws is not None else None
        _check_run_options(seed, threads)
        options = dict(overrides=_overrides(sets, scales, shifts), stress=stress, sampler=sampler,
                       replicates=replicates, target_mcse=target_mcse, target_rel_err=target_rel_err,
                       max_draws=cap, observations=observations, by_provider=_by_provider(by),
                       judgement=not no_judgement, calibrations=calibrations, keep=keep)
        loaded = checks.resolve_scenario(scenario, overrides=options["overrides"], stress=stress)
        if export is not None:
            check_format(export_format)
            check_output(Path(export) / "summary.csv", source="--export")
        _compile_notice(bar)
        with _on_cluster(scheduler, cluster, [loaded]) as client:
            # the loaded scenario carries the overrides and overlays already
            result = api.simulate(loaded, draws=n, seed=seed, threads=threads, progress=bar, client=client,
                                  **dict(options, overrides=None, stress=None))
        if export is not None:
            result.export(export, format=export_format)
    except InputError as err:
        bar.close()
        _fail(err)
    bar.close()
    if _emit_json(result.to_dict(), out=out, as_json=as_json):
        return
    if output_format == "csv":
        _write_stdout(result.summary().to_csv())
        return
    if quiet:
        return
    console = Console()
    console.print(_results_table(result))
    how = {"mc": "", "antithetic": " (antithetic pairs; errors from 32 batches)",
           "rqmc": " (randomised QMC; errors from the replicates)"}[result.sampler]
    console.print(f"[dim]P(shortfall) = P(discounted cash earnings < the discounted compute cost management "
                  f"keeps); P(default) = cash below zero after raising what the funding market allows; the "
                  f"sector is short or in default when any lab is (gaps add up, not netted). "
                  f"± is one Monte Carlo standard error{how}. {result.wall_seconds:.2f} s on "
                  f"{result.threads} thread(s).[/]")
    if result.judgement is not None:
        _print_judgement(console, result)
    if result.providers is not None:
        _print_providers(console, result)
    if result.posterior is not None:
        console.print(_posterior_table(result))
    if result.stopping:
        stop = result.stopping
        block = engine.BATCH_CHUNKS * result.chunk_size
        if stop["met"]:
            console.print(f"[dim]target met after {stop['rounds']} round(s): {stop['draws']:,} draws (rounds "
                          f"extend whole blocks of {block:,} draws, so that they resume the same draws).[/]")
        else:
            console.print(f"[bold yellow]target not met[/]: stopped at --max-draws {stop['max_draws']:,}; "
                          f"limiting: {stop['limiting']}", highlight=False)


@contextmanager
def _on_cluster(scheduler, cluster, scenarios):
    """The Dask client of ``--scheduler``/``--cluster`` (None without), closed on the way out."""
    handle = _connect(scheduler, cluster, scenarios)
    try:
        yield handle.client if handle is not None else None
    finally:
        if handle is not None:
            handle.close()


def _connect(scheduler, cluster, scenarios):
    """A Dask client for ``--scheduler``/``--cluster`` (None without), workers warmed on ``scenarios``.

    Called after the inputs are validated: nothing is submitted for a bad input.
    """
    if not scheduler and not cluster:
        return None
    from . import cluster as dask_cluster
    from .scenario.compile import compile_scenario

    compiled = [compile_scenario(s) for s in scenarios]
    handle = dask_cluster.connect(scheduler=scheduler, cluster=cluster)
    try:
        for one in compiled[:1]:  # the kernels are the same for every scenario
            handle.client.run(dask_cluster.warm_up, one)
    except BaseException:
        handle.close()
        raise
    return handle


def _print_judgement(console: Console, result) -> None:
    """Each entity's headline with its judgement band, and the judgements that move it most."""
    plan = result.judgement
    console.print(f"judgement: {plan['calibrations']} calibrations drawn from the scenario's [judgement] x "
                  f"{plan['draws_per_calibration']:,} draws each (common random numbers); the band is the 5–95 % "
                  f"range of P(shortfall) over calibrations, MC ± counts both levels.", highlight=False,
                  markup=False)
    for name, stats in result.entities.items():
        band = stats.p_shortfall_judgement
        movers = [row for row in plan["entities"][name]["drivers"] if row["clear"]][:3]
        moved = "; moved most by " + ", ".join(f"{row['entry']} (rho {row['rank_correlation']:+.2f})"
                                               for row in movers) if movers else ""
        console.print(f"  {name}: P(shortfall) {stats.p_shortfall['p']:.2f}  (judgement {band['5']:.2f}-"
                      f"{band['95']:.2f}; MC ±{stats.p_shortfall['mcse']:.3f}){moved}", highlight=False,
                      markup=False, soft_wrap=False)


def _check_run_options(seed, threads) -> None:
    if seed is not None and not 0 <= seed < 2**63:
        raise InputError(f"{seed} is out of range", source="--seed", allowed="an integer in [0, 2**63)")
    if threads is not None and threads < 1:
        raise InputError(f"{threads} is not a positive number of threads", source="--threads",
                         allowed="an integer >= 1")


def _write_stdout(text: str) -> None:
    sys.stdout.write(text)
    sys.stdout.flush()


def _compile_notice(bar) -> None:
    """One line on stderr when this run compiles the kernels (first run after an install or a kernel change)."""
    if bar.enabled and not kernels_cached():
        sys.stderr.write("compiling kernels (first run only, ~15-40 s; later runs start in about a second)\n")
        sys.stderr.flush()


def _emit_json(data: dict, *, out, as_json: bool) -> bool:
    """Write ``data`` as JSON to ``out`` (atomically) and, with ``--json``, to stdout; True when printed."""
    payload = json.dumps(data, indent=2, allow_nan=False, default=_json_default) + "\n"
    try:
        if out is not None:
            write_atomic(out, payload)
        if as_json:
            sys.stdout.write(payload)
            sys.stdout.flush()
    except InputError as err:
        _fail(err)
    return as_json


def _json_default(value):
    raise TypeError(f"not JSON-serialisable: {value!r}")


@app.command()
def compare(
    a: str = typer.Argument(..., help="Scenario A: a file or embedded name (the baseline)."),
    b: str = typer.Argument(..., help="Scenario B: a file or embedded name (the change)."),
    draws: str = typer.Option("1e6", "--draws", "-n", help="Paired draws per scenario: 1e6, 1_000_000 or 1M."),
    seed: Optional[int] = typer.Option(None, "--seed", help="Shared seed; default: a fresh one, reported."),
    threads: ThreadsOption = None,
    as_json: JsonOption = False,
    out: OutOption = None,
    progress: bool = typer.Option(False, "--progress", help="Show a progress bar even when stderr is not a terminal."),
    stress_a: Optional[list[str]] = typer.Option(None, "--stress-a", help="Stress overlay on A. Repeatable."),
    stress_b: Optional[list[str]] = typer.Option(None, "--stress-b", help="Stress overlay on B. Repeatable."),
    set_a: Optional[list[str]] = typer.Option(None, "--set-a", help="Override on A: KEY=VALUE. Repeatable."),
    set_b: Optional[list[str]] = typer.Option(None, "--set-b", help="Override on B: KEY=VALUE. Repeatable."),
    scale_a: Optional[list[str]] = typer.Option(None, "--scale-a", help="Scale on A: KEY=FACTOR. Repeatable."),
    scale_b: Optional[list[str]] = typer.Option(None, "--scale-b", help="Scale on B: KEY=FACTOR. Repeatable."),
    shift_a: Optional[list[str]] = typer.Option(None, "--shift-a", help="Shift on A: KEY=DELTA. Repeatable."),
    shift_b: Optional[list[str]] = typer.Option(None, "--shift-b", help="Shift on B: KEY=DELTA. Repeatable."),
    scheduler: SchedulerOption = None,
    cluster: ClusterOption = None,
    quiet: QuietOption = False,
) -> None:
    """Compare B with A on common random numbers: differences with paired errors."""
    from .paired import compare as run_compare

    bar = _Progress(not quiet and (progress or sys.stderr.isatty()))
    try:
        n = parse_draws(draws)
        _check_run_options(seed, threads)
        sides = {"overrides_a": _overrides(set_a, scale_a, shift_a), "overrides_b": _overrides(set_b, scale_b, shift_b),
                 "stress_a": stress_a, "stress_b": stress_b}
        loaded = [checks.resolve_scenario(a, overrides=sides["overrides_a"], stress=stress_a),
                  checks.resolve_scenario(b, overrides=sides["overrides_b"], stress=stress_b)]
        with _on_cluster(scheduler, cluster, loaded) as client:
            # the loaded scenarios carry their overrides and overlays: each file is read once
            comparison = run_compare(*loaded, draws=n, seed=seed, threads=threads, progress=bar, client=client)
    except InputError as err:
        bar.close()
        _fail(err)
    bar.close()
    if _emit_json(comparison.to_dict(), out=out, as_json=as_json) or quiet:
        return
    console = Console()
    _print_comparison(console, comparison)
    console.print(f"[dim]B − A on {comparison.a.draws:,} paired draws (seed {comparison.a.seed}); "
                  f"± is the paired Monte Carlo standard error from {comparison.groups} batch means; "
                  f"'pairing ×k' is the variance reduction against two independent runs.[/]")


def _by_provider(by) -> bool:
    if by is None:
        return False
    if by != "provider":
        raise InputError(f"cannot break results down by '{by}'", source="--by", allowed="provider")
    return True


def _print_providers(console: Console, result) -> None:
    rows = []
    for name, s in result.providers.items():
        p = s["p_revenue_at_risk"]
        rows.append([name, f"{s['revenue_booked_mean']:,.1f}", f"{s['revenue_paid_mean']:,.1f}",
                     f"{s['revenue_cancelled_mean']:,.1f}",
                     numbers.value(s["revenue_at_risk_mean"], s["revenue_at_risk_mean_mcse"]),
                     numbers.probability(p["p"], p["mcse"], interval=p.get("ci95")),
                     f"{s['revenue_at_risk_var95']:,.1f} / {s['revenue_at_risk_cvar95']:,.1f}",
                     f"{s['invested_mean']:,.1f}",
                     numbers.probability(s["round_trip_share_mean"], s["round_trip_share_mcse"], percent=True),
                     numbers.value(s["investment_loss_mean"], s["investment_loss_mean_mcse"])])
    _print_rows(console, f"who holds the bag: {result.scenario.name}, {result.draws:,} draws, seed {result.seed} "
                         f"(present values, $B)",
                ["provider", "booked", "paid", "cancelled", "at risk ± se", "P(at risk)", "VaR95 / CVaR95",
                 "invested", "round-trip share", "investment loss ± se"], rows,
                caption="at risk = payments owed but not made; cancelled = non-binding tranches dropped after "
                        "notice; round trip = the provider's own investment coming back, pro rata to its funding "
                        "share")


@app.command()
def exposure(
    scenario: Optional[str] = typer.Argument(None, help="Scenario file or embedded name (default: the embedded default)."),
    draws: str = typer.Option("1e6", "--draws", "-n", help="Number of draws."),
    seed: SeedOption = None,
    threads: ThreadsOption = None,
    as_json: JsonOption = False,
    out: OutOption = None,
    sets: SetOption = None,
    scales: ScaleOption = None,
    shifts: ShiftOption = None,
    stress: StressOption = None,
    scheduler: SchedulerOption = None,
    cluster: ClusterOption = None,
    quiet: QuietOption = False,
) -> None:
    """Who holds the bag: revenue at risk, round-trip money and investment losses per provider."""
    try:
        n = parse_draws(draws)
        _check_run_options(seed, threads)
        overrides = _overrides(sets, scales, shifts)
        loaded = checks.resolve_scenario(scenario, overrides=overrides, stress=stress)
        with _on_cluster(scheduler, cluster, [loaded]) as client:
            result = api.simulate(loaded, draws=n, seed=seed, threads=threads, by_provider=True, client=client)
    except InputError as err:
        _fail(err)
    if _emit_json(result.to_dict(), out=out, as_json=as_json) or quiet:
        return
    _print_providers(Console(), result)


def _posterior_table(result) -> Table:
    post = result.posterior
    table = Table(title=f"posterior given {len(post.observations)} observation(s): ESS {post.ess:,.0f} of "
                        f"{post.draws:,} draws, Pareto k-hat {post.khat:.2f}")
    for column in ("", "P(shortfall) prior", "posterior ± se", "shift ± se", "grade prior → posterior"):
        table.add_column(column, justify="left" if not column else "right")
    for name, shift in post.shift.items():
        p = post.entities[name]["p_shortfall"]
        table.add_row(name, f"{shift['p_shortfall_prior']:.4f}", f"{p['p']:.4f} ± {p['mcse']:.4f}",
                      f"{shift['difference']:+.4f} ± {shift['se']:.4f}",
                      f"{shift['grade_prior']} → {shift['grade_posterior']}")
    if post.warning:
        table.caption = f"[bold yellow]warning:[/] {post.warning}"
    return table


@app.command()
def backtest(
    scenario: Optional[str] = typer.Argument(None, help="The vintage: a scenario file or embedded name (default: the embedded default)."),
    observations: ObservationsOption = "default",
    draws: str = typer.Option("2e5", "--draws", "-n", help="Draws of the prior predictive."),
    seed: SeedOption = None,
    threads: ThreadsOption = None,
    as_json: JsonOption = False,
    out: OutOption = None,
    calibrations: CalibrationsOption = None,
    no_judgement: NoJudgementOption = False,
    scheduler: SchedulerOption = None,
    cluster: ClusterOption = None,
    quiet: QuietOption = False,
) -> None:
    """Score a vintage against what was reported after its as_of date: PIT, log score, tails."""
    from .backtest import backtest as run_backtest

    try:
        n = parse_draws(draws)
        _check_run_options(seed, threads)
        loaded = checks.resolve_scenario(scenario)
        with _on_cluster(scheduler, cluster, [loaded]) as client:
            found = run_backtest(loaded, observations=observations, draws=n, seed=seed, threads=threads,
                                 judgement=not no_judgement, calibrations=calibrations, client=client)
    except InputError as err:
        _fail(err)
    if _emit_json(found.to_dict(), out=out, as_json=as_json) or quiet:
        return
    line = found.summary()
    table = Table(title=f"backtest of {line['vintage']} (as of {line['as_of']}): {found.draws:,} draws, "
                        f"seed {found.seed}" + (f", {found.calibrations} calibrations" if found.calibrations else ""))
    for column in ("company", "date", "quantity", "reported", "PIT ± MC", "90 % band", "log score"):
        table.add_column(column, justify="left" if column in ("company", "date", "quantity") else "right")
    for row in found.scored:
        flag = "beyond 0.5 %" if row["tail"] else ("in" if row["in_band_90"] else "out")
        table.add_row(row["company"], row["date"], row["quantity"], f"{row['value']:g}",
                      f"{row['pit']:.4f} ± {row['pit_mcse']:.4f}", flag,
                      _fmt(row["log_score"], 2) if row["log_score"] is not None else "-inf")
    console = Console()
    console.print(table)
    verdict = {"overconfident": "OVERCONFIDENT: an observation lies beyond the predictive's 0.5 % or 99.5 % point",
               "consistent": "consistent: every observation lies within the predictive's 0.5-99.5 % range",
               "nothing to score": "nothing to score: no observation is dated after the vintage's as_of"}
    console.print(f"{line['vintage']}: {line['scored']} scored, {line['in_band_90']} inside the 90 % band; "
                  f"{verdict[line['verdict']]}.", markup=False, highlight=False)
    if found.excluded:
        console.print(f"excluded {len(found.excluded)} observation(s) dated on or before {line['as_of']} "
                      f"(known when the vintage was made).", markup=False, highlight=False)
    console.print("PIT = the predictive's probability of a value at or below the reported one (measurement "
                  "error included); uniform if the vintage is calibrated.", style="dim", markup=False)


@app.command()
def calibrate(
    scenario: Optional[str] = typer.Argument(None, help="Scenario file or embedded name (default: the embedded default)."),
    observations: ObservationsOption = "default",
    draws: str = typer.Option("1e6", "--draws", "-n", help="Draws (each is weighted by its likelihood)."),
    seed: SeedOption = None,
    threads: ThreadsOption = None,
    as_json: JsonOption = False,
    out: OutOption = None,
    scheduler: SchedulerOption = None,
    cluster: ClusterOption = None,
    include_before_as_of: bool = typer.Option(False, "--include-before-as-of", help="Also weigh by observations dated on or before the scenario's as_of (they may count twice)."),
    calibrations: CalibrationsOption = None,
    no_judgement: NoJudgementOption = False,
    sets: SetOption = None,
    scales: ScaleOption = None,
    shifts: ShiftOption = None,
    stress: StressOption = None,
    quiet: QuietOption = False,
) -> None:
    """Update the priors with what was reported: PSIS-weighted posterior, every prior, the verdict's shift."""
    try:
        n = parse_draws(draws)
        _check_run_options(seed, threads)
        loaded = checks.resolve_scenario(scenario, overrides=_overrides(sets, scales, shifts), stress=stress)
        with _on_cluster(scheduler, cluster, [loaded]) as client:
            result = api.simulate(loaded, draws=n, seed=seed, threads=threads, observations=observations,
                                  client=client, include_before_as_of=include_before_as_of,
                                  judgement=not no_judgement, calibrations=calibrations)
    except InputError as err:
        _fail(err)
    if _emit_json(result.to_dict(), out=out, as_json=as_json) or quiet:
        return
    console = Console()
    console.print(_posterior_table(result))
    post = result.posterior
    if post.excluded:
        console.print(f"excluded {len(post.excluded)} observation(s) dated on or before the scenario's as_of "
                      f"({result.scenario.as_of}): its priors rest on them already (--include-before-as-of "
                      f"forces them).", markup=False, highlight=False)
    table = Table(title="every prior: prior → posterior")
    for column in ("prior", "mean", "5 %", "95 %"):
        table.add_column(column, justify="left" if column == "prior" else "right")
    for path, row in post.priors.items():
        if row["prior_p5"] == row["prior_p95"]:
            continue  # fixed
        table.add_row(path, f"{row['prior_mean']:.4g} → {row['posterior_mean']:.4g}",
                      f"{row['prior_p5']:.4g} → {row['posterior_p5']:.4g}",
                      f"{row['prior_p95']:.4g} → {row['posterior_p95']:.4g}")
    console.print(table)
    console.print(f"[dim]Importance weights = likelihood of the observations given each draw's own path "
                  f"(lognormal errors), Pareto-smoothed (ArviZ psislw); seed {result.seed}.[/]")


_METRIC_LABELS = {"p_shortfall": ("P(shortfall)", 4), "p_distress": ("P(distress)", 4),
                  "funding_gap_mean": ("funding gap mean, $B", 1), "coverage_median": ("coverage median", 3)}


def _print_comparison(console: Console, comparison) -> None:
    from .paired import _label

    rows = []
    for d in comparison.differences:
        label, digits = _METRIC_LABELS[d.metric]
        rows.append([f"{d.entity}: {label}", _fmt(d.a, digits), _fmt(d.b, digits),
                     numbers.difference(d.difference, d.se),
                     f"{d.ci95[0]:+,.{digits}f} to {d.ci95[1]:+,.{digits}f}",
                     f"×{d.variance_reduction:,.1f}" if math.isfinite(d.variance_reduction) else "exact",
                     "distinguishable" if d.distinguishable else "within MC noise"])
    _print_rows(console, f"A = {_label(comparison.a)}\nB = {_label(comparison.b)}",
                ["", "A", "B", "B − A ± se", "95 % interval", "pairing", "verdict"], rows)


@app.command()
def sensitivity(
    scenario: Optional[str] = typer.Argument(None, help="Scenario file or embedded name (default: the embedded default)."),
    entity: str = typer.Option("sector", "--entity", "-e", help="A company name or 'sector'."),
    draws: str = typer.Option("1e5", "--draws", "-n", help="Draws per tornado run and for the drivers."),
    sobol_draws: str = typer.Option("2e4", "--sobol-draws", help="Base sample N of the Sobol design ((2 + inputs) x N draws)."),
    seed: SeedOption = None,
    threads: ThreadsOption = None,
    top: int = typer.Option(15, "--top", help="Rows shown per table (the JSON has all)."),
    as_json: JsonOption = False,
    out: OutOption = None,
    progress: bool = typer.Option(False, "--progress", help="Show a progress bar even when stderr is not a terminal."),
    sets: SetOption = None,
    scales: ScaleOption = None,
    shifts: ShiftOption = None,
    stress: StressOption = None,
    quiet: QuietOption = False,
) -> None:
    """What drives the verdict: tornado, Sobol indices of coverage, and the drivers of shortfall."""
    from .sensitivity import sensitivity as run_sensitivity

    bar = _Progress(not quiet and (progress or sys.stderr.isatty()), unit="runs")
    try:
        n = parse_draws(draws)
        n_sobol = parse_draws(sobol_draws)
        _check_run_options(seed, threads)
        found = run_sensitivity(scenario, entity=entity, draws=n, sobol_draws=n_sobol, seed=seed,
                                threads=threads, overrides=_overrides(sets, scales, shifts), stress=stress,
                                progress=bar)
    except InputError as err:
        bar.close()
        _fail(err)
    bar.close()
    if _emit_json(found.to_dict(), out=out, as_json=as_json) or quiet:
        return
    console = Console()
    title = f"{found.scenario.name} / {found.entity}: P(shortfall) {found.p_shortfall:.4f}, seed {found.seed}"
    _print_rows(console, f"Tornado ({found.draws:,} paired draws per pin): {title}",
                ["prior pinned at p10 → p90", "values", "P(shortfall)", "swing ± se", "median coverage",
                 "swing ± se"],
                [[b.prior, f"{b.low_value:.4g} → {b.high_value:.4g}",
                  f"{b.p_shortfall_low:.4f} → {b.p_shortfall_high:.4f}",
                  numbers.difference(b.p_shortfall_swing, b.p_shortfall_swing_se),
                  f"{b.coverage_median_low:.3f} → {b.coverage_median_high:.3f}",
                  numbers.difference(b.coverage_median_swing, b.coverage_median_swing_se)]
                 for b in found.tornado[:top]])
    _print_rows(console, f"Sobol indices of coverage (N = {found.sobol_draws:,}; 95 % bootstrap intervals)",
                ["input", "first order", "95 %", "total", "95 % "],
                [[index.input, f"{index.first:.3f}", "{:.3f}–{:.3f}".format(*index.first_ci95),
                  f"{index.total:.3f}", "{:.3f}–{:.3f}".format(*index.total_ci95)] for index in found.sobol[:top]])
    _print_rows(console, "Drivers of shortfall: each prior in shortfall vs covered draws",
                ["prior", "median | shortfall", "median | covered", "P(X_short > X_cov) ± se"],
                [[d.prior, f"{d.median_shortfall:.4g}", f"{d.median_covered:.4g}",
                  numbers.probability(d.auc, d.auc_se)] for d in found.drivers[:top]])
    noise = [b.prior for b in found.tornado[:top] if abs(b.p_shortfall_swing) <= 1.96 * b.p_shortfall_swing_se]
    console.print(Text(f"Swings are paired (every other input keeps its random numbers). 0.5 in the last table "
                       f"means no influence. {found.wall_seconds:.1f} s.", style="dim"))
    if noise:
        console.print(Text(f"{len(noise)} tornado row(s) swing by less than their 95 % error ({', '.join(noise)}): "
                           f"noise at {found.draws:,} draws, not drivers; their order can change with the seed.",
                           style="yellow"))


@app.command()
def breakeven(
    scenario: Optional[str] = typer.Argument(None, help="Scenario file or embedded name (default: the embedded default)."),
    prior: str = typer.Option(..., "--prior", help="The prior that moves, e.g. companies.anthropic.growth_initial."),
    target: float = typer.Option(..., "--target", help="The P(shortfall) to reach, e.g. 0.2."),
    entity: Optional[str] = typer.Option(None, "--entity", "-e", help="Whose P(shortfall) (default: the prior's company)."),
    percentile: int = typer.Option(50, "--percentile", help="The percentile of the prior that moves (spread kept)."),
    draws: str = typer.Option("2e5", "--draws", "-n", help="Draws per evaluation (all on the same seed)."),
    seed: SeedOption = None,
    threads: ThreadsOption = None,
    as_json: JsonOption = False,
    out: OutOption = None,
    sets: SetOption = None,
    scales: ScaleOption = None,
    shifts: ShiftOption = None,
    stress: StressOption = None,
    progress: bool = typer.Option(False, "--progress", help="Show progress even when stderr is not a terminal."),
    quiet: QuietOption = False,
) -> None:
    """Reverse stress: how far one prior must move for P(shortfall) to reach a target."""
    from .reverse import breakeven as run_breakeven

    bar = _Progress(not quiet and (progress or sys.stderr.isatty()), unit="evaluations", description="searching",
                    threshold=0.0)
    try:
        n = parse_draws(draws)
        _check_run_options(seed, threads)
        _compile_notice(bar)
        found = run_breakeven(scenario, prior=prior, target=target, entity=entity, percentile=percentile,
                              draws=n, seed=seed, threads=threads, overrides=_overrides(sets, scales, shifts),
                              stress=stress, progress=bar)
    except InputError as err:
        bar.close()
        _fail(err)
    bar.close()
    if _emit_json(found.to_dict(), out=out, as_json=as_json) or quiet:
        return
    console = Console()
    console.print(f"{found.prior}, p{found.percentile}: now {found.current_value:.4g}, "
                  f"P(shortfall of {found.entity}) = {found.current_p_shortfall:.4f}", highlight=False)
    if not found.reachable:
        console.print(f"[bold]target {found.target} not reachable[/]: {found.message}", highlight=False)
        raise typer.Exit(0)
    console.print(f"[bold]P(shortfall) = {found.target} at p{found.percentile} = {found.value:.4g} "
                  f"± {found.value_se:.2g}[/] (95 % [{found.value_ci95[0]:.4g}, {found.value_ci95[1]:.4g}]; "
                  f"shift {found.shift:+.4g}, {found.shift / found.current_value:+.1%})"
                  if found.current_value else f"[bold]{found.value:.4g}[/]", highlight=False)
    console.print(f"[dim]{len(found.evaluations)} evaluations of {found.draws:,} paired draws (seed {found.seed}); "
                  f"± from the binomial error at the target over the slope {found.slope:.3g} per unit.[/]")


@app.command()
def report(
    definition: Path = typer.Argument(..., help="A report definition, e.g. reports/weekly.toml."),
    out: Optional[Path] = typer.Option(None, "--out", help="Output folder (default: the definition's)."),
    date: Optional[str] = typer.Option(None, "--date", help="Report date YYYY-MM-DD (default: today, UTC)."),
    draws: Optional[str] = typer.Option(None, "--draws", "-n", help="Override the definition's draws."),
    allow_outside: AllowOutsideOption = None,
    progress: bool = typer.Option(False, "--progress", help="Show progress even when stderr is not a terminal."),
    quiet: QuietOption = False,
) -> None:
    """Write the PDF memo of a report definition, its JSON sidecar and a history row (atomically)."""
    import datetime as dt

    from .report import ReportLocked, load_definition, run_report

    try:
        day = None
        if date is not None:
            try:
                day = dt.date.fromisoformat(date)
            except ValueError:
                raise InputError(f"'{date}' is not a date", source="--date", allowed="YYYY-MM-DD") from None
        n = parse_draws(draws) if draws is not None else None
        bar = _Progress(not quiet and (progress or sys.stderr.isatty()), unit="steps", description="report",
                        threshold=0.0)
        _compile_notice(bar)
        try:
            run_report(load_definition(definition, allow_outside=allow_outside), out=out, day=day, draws=n,
                       progress=bar, log=None if quiet else sys.stderr)
        finally:
            bar.close()
    except InputError as err:
        _fail(err)
    except ReportLocked as err:
        Console(stderr=True).print(Text.assemble(("error:", "bold red"), " ", str(err)), highlight=False)
        raise typer.Exit(3)


@app.command()
def schedule(
    folder: Path = typer.Argument(Path("reports"), help="A folder of report definitions (or one file)."),
    status: bool = typer.Option(False, "--status", help="Show the running service's status of each report "
                                                        "(last run, failures in a row, next fire) and exit."),
    allow_outside: AllowOutsideOption = None,
    as_json: JsonOption = False,
) -> None:
    """Run every report of a folder on its cron schedule until SIGINT / SIGTERM."""
    from .report.schedule import Scheduler, read_status

    try:
        if status:
            _print_status(read_status(folder), as_json=as_json)
            return
        scheduler = Scheduler.from_folder(folder, allow_outside=allow_outside)
    except InputError as err:
        _fail(err)
    scheduler.serve()


def _print_status(found: dict, *, as_json: bool) -> None:
    if as_json:
        _write_stdout(json.dumps(found, indent=2) + "\n")
        return
    rows = [[job["report"] + ("  FAILING" if job["failing"] else ""), job["next_fire"] or "-", str(job["runs"]),
             job["last_run"] or "-", str(job["failures_in_a_row"]), job["last_error"] or ""]
            for job in found["jobs"]]
    _print_rows(Console(), f"risk schedule status (updated {found['updated']}, pid {found['pid']})",
                ["report", "next fire (UTC)", "runs", "last run", "failures in a row", "last error"], rows)


@stress_app.command("list")
def stress_list() -> None:
    """List the shipped stress overlays and what each one changes."""
    from .scenario.overrides import embedded_overlays, load_overlay

    table = Table(title="stress overlays (use: risk simulate --stress NAME)")
    for column in ("name", "narrative", "changes"):
        table.add_column(column, overflow="fold")
    for name in embedded_overlays():
        overlay = load_overlay(name)
        changes = "\n".join(f"{o.op} {o.describe()}" for o in overlay.overrides)
        table.add_row(name, " ".join(overlay.description.split()), changes)
    Console().print(table)


@app.command()
def validate(
    scenario: str = typer.Argument(..., help="Scenario file or embedded name."),
    sets: SetOption = None,
    scales: ScaleOption = None,
    shifts: ShiftOption = None,
    stress: StressOption = None,
) -> None:
    """Check a scenario file (with any overrides and overlays) or a report definition; exit 2 with every problem."""
    from .scenario import load_scenario

    path = Path(scenario)
    if path.suffix == ".toml" and path.is_file() and not (sets or scales or shifts or stress):
        from .report.schedule import is_definition

        if is_definition(path)[0]:
            _validate_definition(path)
            return
    try:
        loaded = load_scenario(scenario, overrides=_overrides(sets, scales, shifts), stress=stress)
    except InputError as err:
        _fail(err)
    contracts = sum(len(c.contracts) for c in loaded.companies)
    priors = sum(1 for _ in loaded.priors())
    Console().print(f"ok: {loaded.source}: {len(loaded.companies)} companies, {contracts} contracts, "
                    f"{priors} priors, years {loaded.years[0]}–{loaded.years[-1]}", soft_wrap=True)


def _validate_definition(path: Path) -> None:
    """A report definition: every key, then what its run would need (scenario, overlays, driver entities)."""
    from .report import content, load_definition

    try:
        definition = load_definition(path)
        content.check(definition)
    except InputError as err:
        _fail(err)
    Console().print(Text(f"ok: report definition {path}: scenario {definition.scenario}, {len(definition.stress)} "
                         f"overlay(s), {definition.draws:,} draws, seed {definition.seed}, schedule "
                         f"'{definition.schedule}' (UTC), output {definition.output}"), soft_wrap=True)


@priors_app.command("init")
def priors_init(
    name: Path = typer.Argument(..., help="The new scenario file, e.g. my-view.toml."),
    base: str = typer.Option("default", "--from", help="The shipped scenario to start from (default, article-2025)."),
) -> None:
    """Start a scenario of your own from a shipped one: a copy to edit, validated, never over an existing file."""
    from .scenario.common import read_input
    from .scenario.schema import EMBEDDED, resolve

    try:
        if base not in EMBEDDED:
            raise InputError(f"no shipped scenario {base!r}", source="--from", allowed=", ".join(EMBEDDED))
        target = Path(str(name) if str(name).endswith(".toml") else f"{name}.toml")
        if target.exists() or target.is_symlink():
            raise InputError("the file exists already", source=str(target),
                             allowed="a new file name (this command never overwrites)")
        check_output(target, source=str(target))
        text = read_input(resolve(base), what="scenario").decode("utf-8")
        header = (f"# Started from the shipped scenario '{base}' (risk priors init). Edit the priors; keep each\n"
                  f"# one's source. `risk validate {target}` checks it, `risk simulate {target}` runs it.\n")
        write_atomic(target, header + text, source=str(target))
    except InputError as err:
        _fail(err)
    Console().print(Text(f"wrote {target} (from {base}); next: risk validate {target}"), soft_wrap=True)


@priors_app.command("show")
def priors_show(
    scenario: Optional[str] = typer.Argument(None, help="Scenario file or embedded name."),
    sets: SetOption = None,
    scales: ScaleOption = None,
    shifts: ShiftOption = None,
    stress: StressOption = None,
    as_json: JsonOption = False,
) -> None:
    """List every prior with its family, 5 / 50 / 95 % values and source (after overrides)."""
    from .scenario import load_scenario
    from .scenario.schema import referenced_sources

    try:
        loaded = load_scenario(scenario, overrides=_overrides(sets, scales, shifts), stress=stress)
    except InputError as err:
        _fail(err)
    if as_json:
        rows = []
        for path, prior in loaded.priors():
            p05, p50, p95 = (float(v) for v in prior.ppf([0.05, 0.5, 0.95]))
            rows.append({"prior": path, "family": prior.family, "params": prior.params, "p5": p05, "p50": p50,
                         "p95": p95, "source": prior.source})
        _write_stdout(json.dumps({"scenario": loaded.name, "source": loaded.source, "changes": list(loaded.changes),
                                  "priors": rows, "sources": referenced_sources(loaded)}, indent=2,
                                 default=_json_default) + "\n")
        return
    changed = f" + {', '.join(loaded.changes)}" if loaded.changes else ""
    table = Table(title=f"priors of {loaded.name}{changed} ({loaded.source})")
    for column in ("prior", "family", "5 %", "50 %", "95 %", "source"):
        table.add_column(column, justify="right" if "%" in column else "left", overflow="fold")
    for path, prior in loaded.priors():
        p05, p50, p95 = prior.ppf([0.05, 0.5, 0.95])
        table.add_row(Text(path), prior.family, f"{p05:.4g}", f"{p50:.4g}", f"{p95:.4g}", Text(prior.source))
    console = Console()
    console.print(table)
    cited = referenced_sources(loaded)
    if cited:
        console.print(Text("Sources cited (the file's [sources] table):", style="bold"))
        for label, text in cited.items():
            console.print(Text(f"  {label}: {text}"), soft_wrap=False)


def main() -> None:
    """Console-script entry point."""
    # A CLI process is short-lived and most of its heap is numba's typing
    # registries, which live until exit.  Freezing moves them out of the
    # collector's reach: the cyclic GC then stops rescanning them while
    # numba loads its registries, and the interpreter's final collections
    # skip them.  Measured: `risk simulate --draws 1` 0.86 s -> 0.6 s.
    gc.freeze()
    # SIGTERM unwinds like Ctrl-C: the writers' cleanup runs, so no temporary file is left behind
    signal.signal(signal.SIGTERM, _terminate)
    try:
        app()
    except SystemExit as done:
        _flush_stdout()
        raise done
    except OSError as err:
        _output_failed(err)
    finally:
        gc.freeze()


def _terminate(signum, frame) -> None:
    raise SystemExit(128 + signum)


def _flush_stdout() -> None:
    try:
        sys.stdout.flush()
    except OSError as err:
        _output_failed(err)


def _output_failed(err: OSError) -> None:
    """Standard output (or another stream) could not be written: one line, exit 2, no traceback."""
    try:
        sys.stdout = open(os.devnull, "w")  # the interpreter's own last flush must not fail again
    except OSError:
        pass
    if err.errno == errno.EPIPE:  # the reader went away (`risk ... | head`): not an error of ours
        os._exit(0)
    Console(stderr=True).print(Text.assemble(("error:", "bold red"), " ",
                                             f"cannot write the output: {err.strerror or err} (allowed: "
                                             f"standard output to a file or terminal with space)"), highlight=False)
    os._exit(2)
