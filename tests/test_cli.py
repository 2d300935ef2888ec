"""The ``risk`` command end to end, in a subprocess (table, --json, --out, exit codes)."""

import io
import json
import os
import subprocess
import sys

import pytest

import risk
from risk import numbers
from risk.cli import _Progress, parse_draws
from risk.errors import InputError


def _risk(*args, cwd=None):
    env = dict(os.environ, COLUMNS="200")  # rich wraps at the terminal width
    return subprocess.run([sys.executable, "-m", "risk", *args], capture_output=True, text=True,
                          env=env, cwd=cwd, timeout=300)


@pytest.mark.parametrize("text, expected", [("1e7", 10**7), ("10_000_000", 10**7), ("10M", 10**7),
                                            ("2k", 2000), ("1", 1), ("1.5M", 1_500_000)])
def test_parse_draws_accepts_the_usual_spellings(text, expected):
    assert parse_draws(text) == expected


@pytest.mark.parametrize("text", ["0", "-5", "1.5", "1e-3", "ten", "1e7x", ""])
def test_parse_draws_rejects_non_whole_numbers(text):
    with pytest.raises(InputError, match="--draws"):
        parse_draws(text)


def test_simulate_json_on_stdout(small_scenario_file, tmp_path):
    out = tmp_path / "result.json"
    proc = _risk("simulate", str(small_scenario_file), "--draws", "20k", "--seed", "3", "--json",
                 "--out", str(out), cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    payload = json.loads(proc.stdout)
    assert payload["draws"] == 20_000 and payload["seed"] == 3
    assert 0.0 <= payload["sector"]["p_shortfall"] <= 1.0
    assert json.loads(out.read_text()) == payload


def test_simulate_table_on_default(tmp_path):
    proc = _risk("simulate", "--draws", "2e4", "--seed", "1", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    for text in ("anthropic", "openai", "sector", "P(shortfall)", "bubble-risk grade"):
        assert text in proc.stdout


def test_bad_input_exits_2_and_writes_nothing(small_scenario_text, tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text(small_scenario_text.replace("cash0 = 10\n", "cash0 = -inf\n"))
    out = tmp_path / "never.json"
    proc = _risk("simulate", str(bad), "--draws", "1000", "--out", str(out), cwd=tmp_path)
    assert proc.returncode == 2
    assert "companies.alpha.cash0" in proc.stderr and "finite" in proc.stderr
    assert not out.exists()
    proc = _risk("simulate", "--draws", "1e-3", "--out", str(out), cwd=tmp_path)
    assert proc.returncode == 2 and "--draws" in proc.stderr and not out.exists()


def test_validate_and_priors_show(small_scenario_file, tmp_path):
    proc = _risk("validate", str(small_scenario_file), cwd=tmp_path)
    assert proc.returncode == 0 and "2 companies" in proc.stdout
    proc = _risk("validate", str(tmp_path / "missing.toml"), cwd=tmp_path)
    assert proc.returncode == 2 and "no such scenario file" in proc.stderr
    proc = _risk("priors", "show", "default", cwd=tmp_path)
    assert proc.returncode == 0
    assert "companies.anthropic.revenue0" in proc.stdout and "lognormal" in proc.stdout


def test_overrides_and_stress_on_the_command_line(small_scenario_file, tmp_path):
    proc = _risk("simulate", str(small_scenario_file), "--draws", "5000", "--seed", "1", "--json",
                 "--set", "companies.alpha.revenue0.p50=11", "--scale", "companies.*.contracts.*.capex_per_gw=1.2",
                 "--stress", "rate-shock", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    changes = json.loads(proc.stdout)["changes"]
    assert changes == ["stress rate-shock", "set companies.alpha.revenue0.p50 = 11",
                       "scale companies.*.contracts.*.capex_per_gw x 1.2"]
    out = tmp_path / "never.json"
    proc = _risk("simulate", str(small_scenario_file), "--set", "companies.alpha.revnue0=3", "--out", str(out),
                 cwd=tmp_path)
    assert proc.returncode == 2 and "did you mean 'revenue0'" in proc.stderr and not out.exists()
    proc = _risk("validate", str(small_scenario_file), "--stress", "no-such-overlay", cwd=tmp_path)
    assert proc.returncode == 2 and "no such stress overlay" in proc.stderr
    proc = _risk("priors", "show", "default", "--set", "companies.openai.revenue0.p50=30", cwd=tmp_path)
    assert proc.returncode == 0 and "30" in proc.stdout


def test_stress_list_shows_every_overlay(tmp_path):
    proc = _risk("stress", "list", cwd=tmp_path)
    assert proc.returncode == 0
    for name in ("demand-plateau", "capex-overrun", "utilization-slump", "power-price-spike", "ramp-slip",
                 "price-war", "rate-shock", "bear", "upside-newer-chips", "upside-discounts", "upside-openai-plan"):
        assert name in proc.stdout


def test_compare_table_and_json(small_scenario_file, tmp_path):
    proc = _risk("compare", str(small_scenario_file), str(small_scenario_file), "--draws", "6400", "--seed", "2",
                 "--scale-b", "companies.alpha.contracts.tpu.lease_per_gw_year=1.3", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "B − A" in proc.stdout and "distinguishable" in proc.stdout
    out = tmp_path / "cmp.json"
    proc = _risk("compare", str(small_scenario_file), str(small_scenario_file), "--draws", "6400", "--seed", "2",
                 "--stress-b", "capex-overrun", "--json", "--out", str(out), cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    payload = json.loads(proc.stdout)
    assert payload == json.loads(out.read_text())
    gap = payload["differences"]["beta"]["funding_gap_mean"]
    assert gap["difference"] > 0 and gap["distinguishable"]


def test_sensitivity_command(small_scenario_file, tmp_path):
    proc = _risk("sensitivity", str(small_scenario_file), "-e", "alpha", "-n", "2000", "--sobol-draws", "500",
                 "--seed", "1", "--top", "3", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    for text in ("Tornado", "Sobol indices", "Drivers of shortfall"):
        assert text in proc.stdout
    proc = _risk("sensitivity", str(small_scenario_file), "-e", "alpha", "-n", "2000", "--sobol-draws", "500",
                 "--seed", "1", "--json", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    payload = json.loads(proc.stdout)
    assert payload["tornado"] and payload["sobol"] and payload["drivers"]
    proc = _risk("sensitivity", str(small_scenario_file), "-e", "nobody", cwd=tmp_path)
    assert proc.returncode == 2 and "no entity" in proc.stderr


def test_breakeven_command(small_scenario_file, tmp_path):
    proc = _risk("breakeven", str(small_scenario_file), "--prior", "companies.alpha.contracts.tpu.lease_per_gw_year",
                 "--target", "0.5", "-n", "4000", "--seed", "1", "--json", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    payload = json.loads(proc.stdout)
    assert payload["prior"].endswith("lease_per_gw_year") and payload["entity"] == "alpha"
    proc = _risk("breakeven", str(small_scenario_file), "--prior", "nope", "--target", "0.5", cwd=tmp_path)
    assert proc.returncode == 2 and "no such prior" in proc.stderr


def test_simulate_on_a_local_cluster_matches_local(small_scenario_file, tmp_path):
    common = ["simulate", str(small_scenario_file), "--draws", "50000", "--seed", "4", "--json"]
    on_cluster = _risk(*common, "--cluster", "local:2", cwd=tmp_path)
    assert on_cluster.returncode == 0, on_cluster.stderr
    here = _risk(*common, cwd=tmp_path)
    strip = lambda text: {k: v for k, v in json.loads(text).items() if k != "provenance"}  # noqa: E731
    assert strip(on_cluster.stdout) == strip(here.stdout)
    proc = _risk("simulate", str(small_scenario_file), "--cluster", "local:x", cwd=tmp_path)
    assert proc.returncode == 2 and "cluster spec" in proc.stderr


def test_calibrate_and_simulate_with_observations(tmp_path):
    # the late-2025 vintage updated with what 2026 reported
    proc = _risk("calibrate", "article-2025", "--draws", "20000", "--seed", "1", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "Pareto k-hat" in proc.stdout and "every prior: prior → posterior" in proc.stdout
    proc = _risk("simulate", "article-2025", "--draws", "20000", "--seed", "1", "--observations", "default",
                 "--json", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    posterior = json.loads(proc.stdout)["posterior"]
    assert posterior["ess"] > 0 and "anthropic" in posterior["shift"] and posterior["excluded"] == []
    # the mid-2026 vintage's priors rest on the shipped observations: nothing left to weigh, unless forced
    proc = _risk("calibrate", "--draws", "20000", "--seed", "1", cwd=tmp_path)
    assert proc.returncode == 2 and "counts them twice" in proc.stderr
    proc = _risk("calibrate", "--draws", "20000", "--seed", "1", "--include-before-as-of", "--json", cwd=tmp_path)
    assert proc.returncode == 0 and "count twice" in json.loads(proc.stdout)["posterior"]["warning"]
    proc = _risk("backtest", "article-2025", "--draws", "20000", "--seed", "1", "--json", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["summary"]["scored"] == 4
    proc = _risk("calibrate", "--observations", str(tmp_path / "none.csv"), cwd=tmp_path)
    assert proc.returncode == 2 and "no such observations file" in proc.stderr


def test_exposure_command_and_by_provider(small_scenario_file, tmp_path):
    proc = _risk("exposure", str(small_scenario_file), "-n", "5000", "--seed", "2", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "who holds the bag" in proc.stdout and "total" in proc.stdout
    proc = _risk("simulate", str(small_scenario_file), "-n", "5000", "--seed", "2", "--by", "provider", "--json",
                 cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    providers = json.loads(proc.stdout)["providers"]
    assert set(providers) >= {"total"} and "revenue_at_risk_mean" in providers["total"]
    proc = _risk("simulate", str(small_scenario_file), "--by", "company", cwd=tmp_path)
    assert proc.returncode == 2 and "--by" in proc.stderr


def test_progress_outside_a_terminal_writes_plain_lines():
    stream = io.StringIO()  # not a terminal: no live bar, plain lines
    bar = _Progress(True, stream=stream, threshold=0.0, interval=3600.0)
    for done in (1_000, 2_000, 3_000):
        bar(done, 3_000)
    bar.close()
    lines = stream.getvalue().splitlines()
    assert lines[0].startswith("simulating: 1,000/3,000 draws (33%)")
    assert lines[-1].startswith("simulating: 3,000/3,000 draws (100%)")
    assert len(lines) == 2  # the middle call falls inside the interval
    quiet = io.StringIO()
    off = _Progress(False, stream=quiet, threshold=0.0)
    off(3_000, 3_000)
    assert quiet.getvalue() == ""


def test_error_messages_print_square_brackets_as_text(tmp_path):
    empty = tmp_path / "empty.toml"
    empty.write_text('name = "x"\nhorizon = 3\ndiscount_rate = 0.1\n')
    proc = _risk("validate", str(empty), cwd=tmp_path)
    assert proc.returncode == 2 and "[companies.<name>]" in proc.stderr
    proc = _risk("simulate", "--set", "companies.[/b].revenue0=5", "--draws", "10", cwd=tmp_path)
    assert proc.returncode == 2 and "[/b]" in proc.stderr and "Traceback" not in proc.stderr


def test_version_completion_and_quiet(tmp_path, small_scenario_file):
    proc = _risk("--version", cwd=tmp_path)
    assert proc.returncode == 0 and proc.stdout.startswith(f"risk {risk.__version__} (numpy ")
    assert "--install-completion" in _risk("--help", cwd=tmp_path).stdout
    proc = _risk("simulate", str(small_scenario_file), "-n", "2000", "--seed", "1", "--quiet", cwd=tmp_path)
    assert proc.returncode == 0 and proc.stdout == "" and proc.stderr == ""


@pytest.mark.parametrize("command", [
    ["compare", "{small}", "{small}", "--scale-b", "companies.alpha.revenue0=1.1"],
    ["exposure", "{small}"],
    ["sensitivity", "{small}", "--sobol-draws", "300", "--top", "3"],
    ["breakeven", "{small}", "--prior", "companies.alpha.revenue0", "--target", "0.3"],
    ["calibrate", "article-2025", "--no-judgement", "--scale", "companies.*.revenue0=1.05"],
    ["backtest", "article-2025", "--no-judgement"],
], ids=lambda command: command[0])
def test_every_command_is_quiet_on_request_and_still_writes_its_json(tmp_path, small_scenario_file, command):
    args = [part.format(small=small_scenario_file) for part in command]
    out = tmp_path / "out.json"
    proc = _risk(*args, "-n", "4000", "--seed", "1", "--quiet", "--out", str(out), cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "" and proc.stderr == ""
    assert json.loads(out.read_text())  # the result, in full


def test_calibrate_takes_changes_on_the_command_line(tmp_path):
    args = ["calibrate", "article-2025", "--no-judgement", "-n", "2000", "--seed", "1", "--json"]
    plain = json.loads(_risk(*args, cwd=tmp_path).stdout)
    proc = _risk(*args, "--stress", "price-war", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    stressed = json.loads(proc.stdout)
    assert stressed["changes"][0] == "stress price-war" and plain["changes"] == []
    assert stressed["posterior"] != plain["posterior"]


def test_priors_init_copies_a_shipped_scenario_and_never_overwrites(tmp_path):
    proc = _risk("priors", "init", "mine", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    text = (tmp_path / "mine.toml").read_text()
    assert text.startswith("# Started from the shipped scenario 'default'")
    assert _risk("validate", "mine.toml", cwd=tmp_path).returncode == 0
    again = _risk("priors", "init", "mine.toml", cwd=tmp_path)
    assert again.returncode == 2 and "exists already" in again.stderr
    assert (tmp_path / "mine.toml").read_text() == text
    assert _risk("priors", "init", "x", "--from", "nope", cwd=tmp_path).returncode == 2


def test_a_scenario_from_standard_input_equals_the_file(tmp_path, small_scenario_file):
    args = ["-n", "2000", "--seed", "3", "--json"]
    from_file = json.loads(_risk("simulate", str(small_scenario_file), *args, cwd=tmp_path).stdout)
    piped = subprocess.run([sys.executable, "-m", "risk", "simulate", "-", *args], input=small_scenario_file.read_text(),
                           capture_output=True, text=True, cwd=tmp_path, timeout=300)
    assert piped.returncode == 0, piped.stderr
    from_stdin = json.loads(piped.stdout)
    for payload in (from_file, from_stdin):
        payload.pop("provenance")
    assert from_stdin == from_file
    empty = subprocess.run([sys.executable, "-m", "risk", "simulate", "-"], input="", capture_output=True, text=True,
                           cwd=tmp_path, timeout=300)
    assert empty.returncode == 2 and "no scenario on standard input" in empty.stderr


def test_priors_show_json(tmp_path, small_scenario_file):
    proc = _risk("priors", "show", str(small_scenario_file), "--json", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    found = json.loads(proc.stdout)
    revenue = next(p for p in found["priors"] if p["prior"] == "companies.alpha.revenue0")
    assert revenue["p5"] < revenue["p50"] < revenue["p95"] and revenue["family"]


def test_format_csv_and_export(tmp_path, small_scenario_file):
    import csv

    args = [str(small_scenario_file), "-n", "4000", "--seed", "1"]
    proc = _risk("simulate", *args, "--format", "csv", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    rows = list(csv.DictReader(io.StringIO(proc.stdout)))
    payload = json.loads(_risk("simulate", *args, "--json", cwd=tmp_path).stdout)
    assert [row["entity"] for row in rows] == ["alpha", "beta", "sector"]
    assert float(rows[2]["p_shortfall"]) == payload["sector"]["p_shortfall"]
    proc = _risk("simulate", *args, "--export", str(tmp_path / "tables"), "--keep", "50", "--quiet", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert sorted(p.name for p in (tmp_path / "tables").iterdir()) == ["draws.csv", "priors.csv", "summary.csv",
                                                                       "years.csv"]
    draws = list(csv.DictReader(io.StringIO((tmp_path / "tables" / "draws.csv").read_text())))
    assert len(draws) == 50 * 3 and {"coverage", "funding_gap", "breakeven_year"} <= set(draws[0])
    years = list(csv.DictReader(io.StringIO((tmp_path / "tables" / "years.csv").read_text())))
    assert {row["quantity"] for row in years} >= {"revenue", "earnings", "compute_cost"}
    bad = _risk("simulate", *args, "--format", "xml", cwd=tmp_path)
    assert bad.returncode == 2 and "--format" in bad.stderr


def test_compile_notice_when_the_kernels_are_not_cached(tmp_path, monkeypatch, capsys):
    from risk import _cache
    from risk import cli as risk_cli

    compiled = tmp_path / "kernels_abc" / "simulate.run_batch-323.py311.1.nbc"
    monkeypatch.setenv("NUMBA_CACHE_DIR", str(tmp_path))
    assert not _cache.kernels_cached()
    risk_cli._compile_notice(risk_cli._Progress(True))
    assert "compiling kernels (first run only" in capsys.readouterr().err
    compiled.parent.mkdir()
    compiled.write_bytes(b"")
    assert _cache.kernels_cached()
    risk_cli._compile_notice(risk_cli._Progress(True))
    assert capsys.readouterr().err == ""


def test_report_and_breakeven_show_progress_in_a_pipe(tmp_path, small_scenario_file):
    definition = tmp_path / "memo.toml"
    definition.write_text(f'title = "T"\nscenario = "{small_scenario_file}"\nstress = []\ndraws = 4000\nseed = 1\n'
                          'sections = ["cover", "methodology"]\noutput = "out"\nschedule = "0 7 * * MON"\n')
    proc = _risk("report", str(definition), "--progress", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "report: 2/2 steps (100%)" in proc.stderr
    proc = _risk("breakeven", str(small_scenario_file), "--prior", "companies.alpha.revenue0", "--target", "0.5",
                 "-n", "4000", "--seed", "1", "--progress", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "searching:" in proc.stderr and "evaluations" in proc.stderr


def test_a_target_error_starts_near_the_asked_draws(tmp_path, small_scenario_file):
    proc = _risk("simulate", str(small_scenario_file), "-n", "1e4", "--target-mcse", "0.05", "--seed", "1",
                 "--json", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    stopping = json.loads(proc.stdout)["stopping"]
    assert stopping["met"] and stopping["draws"] < 20_000  # not 16 x 65536


def test_at_80_columns_every_name_and_number_is_printed_whole(tmp_path, small_scenario_file):
    # each table in a pipe at 80 columns: the JSON's numbers, formatted as the table formats them, all appear
    def run(*args):
        env = dict(os.environ, COLUMNS="80")
        proc = subprocess.run([sys.executable, "-m", "risk", *args], capture_output=True, text=True, env=env,
                              cwd=tmp_path, timeout=300)
        assert proc.returncode == 0, proc.stderr
        assert "…" not in proc.stdout  # rich's ellipsis: something was cut
        return proc.stdout

    common = [str(small_scenario_file), "-n", "20000", "--seed", "1"]
    table = run("simulate", *common, "--no-judgement")
    payload = json.loads(run("simulate", *common, "--no-judgement", "--json"))
    for name, stats in dict(payload["companies"], sector=payload["sector"]).items():
        assert name in table
        assert numbers.probability(stats["p_shortfall"], stats["p_shortfall_mcse"],
                                   interval=stats["p_shortfall_ci95"]) in table
        assert numbers.value(stats["funding_gap_mean"], stats["funding_gap_mean_mcse"]) in table
    found = json.loads(run("sensitivity", *common, "--sobol-draws", "2000", "--json"))
    text = run("sensitivity", *common, "--sobol-draws", "2000")
    for bar in found["tornado"][:15]:
        assert bar["prior"] in text  # full prior names, not "companies…"
    exposure = run("exposure", *common)
    totals = json.loads(run("exposure", *common, "--json"))["providers"]
    for provider, stats in totals.items():
        assert provider in exposure and f"{stats['revenue_booked_mean']:,.1f}" in exposure
    verdicts = run("compare", str(small_scenario_file), str(small_scenario_file), "--scale-b",
                   "companies.*.revenue0=1.1", "-n", "20000", "--seed", "1")
    assert "distinguishable" in verdicts or "within MC noise" in verdicts


def test_sensitivity_says_which_tornado_rows_are_noise(tmp_path, small_scenario_file):
    args = ["sensitivity", str(small_scenario_file), "-n", "2000", "--sobol-draws", "200", "--seed", "1",
            "--top", "30"]
    found = json.loads(_risk(*args, "--json", cwd=tmp_path).stdout)
    noise = [b["prior"] for b in found["tornado"] if abs(b["p_shortfall_swing"]) <= 1.96 * b["p_shortfall_swing_se"]]
    text = " ".join(_risk(*args, cwd=tmp_path).stdout.split())
    if noise:
        assert f"{len(noise)} tornado row(s) swing by less than their 95 % error" in text
        assert all(prior in text for prior in noise)
    else:
        assert "not drivers" not in text
    assert noise  # 2,000 draws on the small scenario: some priors barely matter, so some rows are noise
