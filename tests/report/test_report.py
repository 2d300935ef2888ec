"""`risk report`: the PDF, its sidecar, history, atomicity and the lock."""

import datetime as dt
import json
import sqlite3
import subprocess
import sys

import pytest

from risk import numbers

from risk.errors import InputError
from risk.report import ReportLocked, load_definition, run_report

DAY = dt.date(2026, 11, 23)


@pytest.fixture
def definition_file(tmp_path, small_scenario_file):
    path = tmp_path / "memo.toml"
    path.write_text(f"""
title = "Test memo"
scenario = "{small_scenario_file}"
stress = ["bear", "ramp-slip"]
draws = 4000
seed = "date"
output = "out"
filename = "memo-{{date}}"
schedule = "0 7 * * MON"
[drivers]
entities = ["alpha"]
draws = 400
""")
    return path


def _rows(definition_file, table="runs"):
    db = definition_file.parent / "out" / "history.sqlite"
    if not db.exists():
        return []
    with sqlite3.connect(db) as connection:
        return connection.execute(f"SELECT * FROM {table}").fetchall()


def test_the_pdf_holds_the_sidecar_numbers_and_charts(definition_file):
    import pypdf

    run = run_report(definition_file, day=DAY, log=None)
    assert run.pdf.name == "memo-2026-11-23.pdf" and run.json.name == "memo-2026-11-23.json"
    sidecar = json.loads(run.json.read_text())
    reader = pypdf.PdfReader(str(run.pdf))
    text = "\n".join(page.extract_text() for page in reader.pages)
    assert len(reader.pages) >= 10  # cover, summary, alpha, beta, sector, break-even, drivers, stress, ..., method
    assert sum(len(page.images) for page in reader.pages) >= 5
    result = sidecar["result"]
    assert f"Bubble-risk grade {result['sector']['grade']}:" in " ".join(text.split())
    for name, stats in dict(result["companies"], sector=result["sector"]).items():
        # the sidecar's numbers, printed at their error's precision (risk.numbers)
        assert numbers.probability(stats["p_shortfall"], stats["p_shortfall_mcse"],
                                   interval=stats["p_shortfall_ci95"]) in text
        assert numbers.value(stats["funding_gap_mean"], stats["funding_gap_mean_mcse"]) in text
    assert "± 0.0000" not in text
    for sentence in sidecar["summary"][:1]:
        assert sentence.split(":")[0] in text
    for page_title in ("Executive summary", "Who holds the bag", "Drivers", "Stress overlays", "History",
                       "Appendix: every prior",
                       "Methodology and provenance"):
        assert page_title in text
    assert result["provenance"]["scenario_sha256"] in text.replace("\n", "")
    assert sidecar["seed"] == 20261123 and sidecar["draws"] == 4000


def test_history_one_row_per_run_and_per_day(definition_file):
    run_report(definition_file, day=DAY, log=None)
    assert len(_rows(definition_file)) == 1
    run_report(definition_file, day=DAY, log=None)  # same day: replaced, not duplicated
    assert len(_rows(definition_file)) == 1
    assert len(_rows(definition_file, "headline")) == 3
    second = run_report(definition_file, day=DAY + dt.timedelta(days=7), log=None)
    assert len(_rows(definition_file)) == 2
    changes = second.data["history"]["changes"]
    assert {c["entity"] for c in changes} == {"alpha", "beta", "sector"}
    alpha = next(c for c in changes if c["entity"] == "alpha" and c["metric"] == "p_shortfall")
    assert alpha["se"] > 0 and alpha["previous_day"] == "2026-11-23"  # independent runs: both errors count
    log = (definition_file.parent / "out" / "report.log").read_text().splitlines()
    assert len(log) == 3 and all(" ok " in line for line in log)


def test_a_failure_while_rendering_leaves_nothing(definition_file, monkeypatch):
    from risk.report import pdf

    def broken(path, *args, **kwargs):
        path.write(b"%PDF-1.4 half a file")
        raise RuntimeError("injected failure while rendering")

    monkeypatch.setattr(pdf, "render", broken)
    with pytest.raises(RuntimeError, match="injected"):
        run_report(definition_file, day=DAY, log=None)
    out = definition_file.parent / "out"
    assert [p.name for p in out.iterdir() if not p.name.startswith(".memo.lock")] in ([], ["history.sqlite"])
    assert _rows(definition_file) == []


def test_a_second_concurrent_run_is_refused(definition_file):
    from filelock import FileLock

    out = definition_file.parent / "out"
    out.mkdir()
    with FileLock(str(out / ".memo.lock")):
        with pytest.raises(ReportLocked, match="already running"):
            run_report(definition_file, day=DAY, log=None)
        proc = subprocess.run([sys.executable, "-m", "risk", "report", str(definition_file), "--date", "2026-11-23"],
                              capture_output=True, text=True, timeout=300)
        assert proc.returncode == 3 and "already running" in proc.stderr
    assert not list(out.glob("*.pdf")) and _rows(definition_file) == []


def test_the_cli_writes_the_report(definition_file, tmp_path):
    proc = subprocess.run([sys.executable, "-m", "risk", "report", str(definition_file), "--out", str(tmp_path / "x"),
                           "--date", "2026-11-30", "-n", "4000"], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "x" / "memo-2026-11-30.pdf").is_file() and "report memo ok" in proc.stderr
    proc = subprocess.run([sys.executable, "-m", "risk", "report", str(definition_file), "--date", "30/11/2026"],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 2 and "YYYY-MM-DD" in proc.stderr


def test_the_shipped_weekly_definition_validates():
    from pathlib import Path

    weekly = load_definition(Path(__file__).resolve().parents[2] / "reports" / "weekly.toml")
    assert weekly.schedule == "0 7 * * MON" and "stress" in weekly.sections and weekly.stress


@pytest.mark.parametrize("line, message", [
    ('schedule = "every monday"', "cron"),
    ('sections = ["cover", "apendix"]', "unknown section"),
    ('seed = "random"', "seed policy"),
    ('titel = "x"', "did you mean 'title'"),
    ('filename = "memo-{day}"', "file-name pattern"),
    ('stress = ["bare"]', "did you mean 'bear'"),
    ('draws = 0', "positive whole number"),
    ('output = "/tmp/elsewhere"', "leads out of"),
    ('output = "../../elsewhere"', "leads out of"),
    ('history = "../../../h.sqlite"', "leads out of"),
    ('output = "out\\u0000x"', "is not a path"),
])
def test_bad_definitions_are_rejected(tmp_path, line, message):
    path = tmp_path / "bad.toml"
    key = line.split("=")[0].strip()
    base = {"title": 'title = "T"', "schedule": 'schedule = "0 7 * * MON"'}
    base[key] = line
    path.write_text("\n".join(base.values()) + "\n")
    with pytest.raises(InputError, match=message):
        load_definition(path)


def test_text_from_files_is_printed_not_interpreted(tmp_path, small_scenario_text):
    # a title with markup characters and a prior's source that tries to embed a local file
    import pypdf

    image = tmp_path / "secret.png"
    image.write_bytes(b"\x89PNG\r\n\x1a\n")  # the file an <img> tag would pull in
    scenario = tmp_path / "s.toml"
    scenario.write_text(small_scenario_text.replace(
        'cash0 = 10\n', f'cash0 = {{ dist = "fixed", value = 10, source = "<img src=\'{image}\'/> R&D <b>" }}\n', 1))
    definition = tmp_path / "memo.toml"
    definition.write_text(f'title = "R&D <weekly> memo"\nscenario = "{scenario}"\ndraws = 2000\nseed = 1\n'
                          'output = "out"\nschedule = "0 7 * * MON"\nsections = ["cover", "priors"]\n')
    run = run_report(definition, day=DAY, log=None)
    reader = pypdf.PdfReader(str(run.pdf))
    text = "\n".join(page.extract_text() for page in reader.pages)
    assert "R&D <weekly> memo" in text and "<img src=" in text
    assert sum(len(page.images) for page in reader.pages) == 1  # the cover's own chart, nothing else


def test_every_problem_of_a_definition_is_listed_at_once(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text('title = ""\nschedule = "every monday"\nscenario = "nope.toml"\nstress = ["bare"]\ndraws = 0\n'
                    'seed = "today"\nsections = ["cover", "sumary"]\nfilename = "memo-{day}"\noutput = "../x"\n'
                    'colour = "red"\n[drivers]\nentitys = ["a"]\n')
    with pytest.raises(InputError) as caught:
        load_definition(path)
    keys = sorted(err.key for err in caught.value.errors)
    assert keys == sorted(["colour", "draws", "drivers.entitys", "filename", "output", "scenario", "schedule",
                           "seed", "sections", "stress", "title"])
    proc = subprocess.run([sys.executable, "-m", "risk", "validate", str(path)], capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 2 and "11 problems" in proc.stderr
    good = tmp_path / "good.toml"
    good.write_text('title = "T"\nschedule = "0 7 * * MON"\n')
    proc = subprocess.run([sys.executable, "-m", "risk", "validate", str(good)], capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0 and "ok: report definition" in proc.stdout
