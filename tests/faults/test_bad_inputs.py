"""Every class of bad input: exit 2, one paragraph naming the file (or option) and key, nothing written.

Run through the real CLI.  Where a check must happen before the work, the
command asks for 10**9 draws (minutes of simulation) and must still fail
within the subprocess timeout: the check came first.
"""

import os
from pathlib import Path

import pytest


DAY = "2026-11-23"
BIG = "1e9"  # a run that would take minutes: a failure within seconds proves the check came first
UNREADABLE = "/proc/1/mem"  # a regular file that no user, root included, may read


def _scenario_with(text, workdir, name="bad.toml"):
    path = workdir / name
    path.write_text(text)
    return path


@pytest.mark.parametrize("case", ["unreadable", "folder", "too-large", "not-utf8", "deep-tables", "deep-arrays"])
def test_a_scenario_file_that_cannot_be_used(faults, workdir, case):
    path = workdir / "bad.toml"
    expected = {"unreadable": "cannot read the scenario", "folder": "no such scenario file",
                "too-large": "larger than 4 MiB", "not-utf8": "not UTF-8",
                "deep-tables": "nested more than 16 deep", "deep-arrays": "nested more than 16 deep"}[case]
    if case == "unreadable":
        path = Path(UNREADABLE)
    elif case == "folder":
        path.mkdir()
    elif case == "too-large":
        path.write_text("# padding\n" * (500_000))
    elif case == "not-utf8":
        path.write_bytes(b'name = "caf\xe9"\n')
    elif case == "deep-tables":
        path.write_text("[companies.x]\nrevenue0 = " + "{a = " * 400 + "1" + "}" * 400 + "\n")
    else:
        path.write_text("horizon = " + "[" * 3000 + "]" * 3000 + "\n")
    proc = faults.run("simulate", path, "-n", BIG, cwd=workdir, timeout=120)
    faults.clean_failure(proc, expected, str(path))


def test_an_unreadable_overlay(faults, workdir):
    faults.clean_failure(faults.run("simulate", "small.toml", "-n", BIG, "--stress", UNREADABLE, cwd=workdir, timeout=120),
                  "cannot read the stress overlay", UNREADABLE)


def test_an_empty_overlay_name_is_named(faults, workdir):
    faults.clean_failure(faults.run("simulate", "small.toml", "-n", "1000", "--stress", "", cwd=workdir),
                  "--stress ''", "no such stress overlay")


def test_observations_that_are_not_utf8(faults, workdir):
    csv = workdir / "obs.csv"
    csv.write_bytes(b"company,date,quantity,value,rel_error,source\nalpha,2026-06-30,annualized_revenue,11,0.1,"
                    b"caf\xe9\n")
    faults.clean_failure(faults.run("calibrate", "small.toml", "--observations", csv, "-n", BIG, cwd=workdir, timeout=120),
                  "not UTF-8", str(csv))


@pytest.mark.parametrize("address", ["not a url", "tcp://host", "tcp://:80"])
def test_a_malformed_scheduler_address(faults, workdir, address):
    faults.clean_failure(faults.run("simulate", "small.toml", "-n", "1000", "--scheduler", address, cwd=workdir),
                  "--scheduler", "is not a scheduler address")


@pytest.mark.parametrize("case", ["folder", "cannot-create", "symlink"])
def test_an_output_that_cannot_be_written_is_refused_before_the_run(faults, workdir, case):
    target = {"folder": workdir / "out.json", "cannot-create": Path("/proc/risk-no-such/out.json"),
              "symlink": workdir / "link.json"}[case]
    if case == "folder":
        target.mkdir()
    elif case == "symlink":
        target.symlink_to(workdir / "elsewhere.json")
    before = faults.files_under(workdir)
    proc = faults.run("simulate", "small.toml", "-n", BIG, "--out", target, cwd=workdir, timeout=120)
    faults.clean_failure(proc, "--out")
    assert faults.files_under(workdir) == before


def test_standard_output_on_a_full_device(faults, workdir):
    with open("/dev/full", "w") as full:
        proc = faults.run("simulate", "small.toml", "-n", "1000", "--seed", "1", "--json", cwd=workdir, stdout=full)
    faults.clean_failure(proc, "cannot write the output", "No space left on device")


def test_a_bad_override_names_the_override_not_the_file(faults, workdir):
    faults.clean_failure(faults.run("simulate", "small.toml", "-n", "1000", "--set", "horizon=0", cwd=workdir),
                  "--set horizon=0 (on small.toml)", "key 'horizon'")


def test_max_draws_below_draws(faults, workdir):
    faults.clean_failure(faults.run("simulate", "small.toml", "-n", "1000", "--target-mcse", "0.01", "--max-draws", "10",
                           cwd=workdir), "max_draws", "below draws")


@pytest.mark.parametrize("name", ['""', '"*"', '"a.b"', '"x\\u202ey"', '"two words"'])
def test_company_names_outside_the_pattern(faults, workdir, small_scenario_text, name):
    text = small_scenario_text.replace("[companies.alpha]", f"[companies.{name}]").replace(
        "[companies.alpha.", f"[companies.{name}.").replace('"companies.alpha.', '"companies.beta.')
    proc = faults.run("validate", _scenario_with(text, workdir), cwd=workdir)
    faults.clean_failure(proc, "is not a usable company name", "letters, digits")
    assert "\u202e" not in proc.stderr  # a direction override is shown escaped, never acted on


def test_a_scenario_too_large_to_take(faults, workdir, small_scenario_text):
    extra = "".join(f"\n[companies.c{i}]\nrevenue0 = 1\n" for i in range(70))
    faults.clean_failure(faults.run("validate", _scenario_with(small_scenario_text + extra, workdir), cwd=workdir),
                  "72 companies", "at most 64")


# -- report definitions ------------------------------------------------------------------------------------


def _definition(workdir, **changes):
    lines = {"title": '"Memo"', "scenario": '"small.toml"', "draws": BIG.replace("1e9", "1_000_000_000"),
             "seed": "7", "sections": '["cover", "summary", "drivers"]', "output": '"out"',
             "filename": '"memo-{date}"', "schedule": '"0 7 * * MON"'}
    lines.update(changes)
    text = "\n".join(f"{key} = {value}" for key, value in lines.items() if value is not None)
    path = workdir / "bad-memo.toml"
    path.write_text(text + "\n")
    return path


@pytest.mark.parametrize("changes, expected", [
    ({"filename": '"memo-{date}-{"'}, "cannot be filled in"),
    ({"filename": '"memo\\u0000{date}"'}, "NUL"),
    ({"output": '"out\\u0000x"'}, "is not a path"),
    ({"output": '"../elsewhere"'}, "leads out of"),
    ({"output": '"/tmp/risk-elsewhere"'}, "leads out of"),
    ({"scenario": '"missing.toml"'}, "no scenario file"),
    ({"scenario": '"/etc/hostname"'}, "leads out of"),
])
def test_a_bad_definition_is_refused_before_anything_is_made(faults, workdir, changes, expected):
    path = _definition(workdir, **changes)
    before = faults.files_under(workdir)
    proc = faults.run("report", path, "--date", DAY, cwd=workdir, timeout=120)
    faults.clean_failure(proc, expected, str(path))
    assert faults.files_under(workdir) == before  # no output folder, no lock


def test_bad_driver_entities_are_found_before_the_simulation(faults, workdir):
    path = _definition(workdir)
    path.write_text(path.read_text() + '[drivers]\nentities = ["alpah"]\n')
    before = faults.files_under(workdir)
    proc = faults.run("report", path, "--date", DAY, cwd=workdir, timeout=120)
    faults.clean_failure(proc, str(path), "drivers.entities", "alpah", "did you mean 'alpha'")
    assert faults.files_under(workdir) == before


def test_a_definition_whose_output_is_a_symlink_out_is_refused(faults, workdir, tmp_path_factory):
    outside = tmp_path_factory.mktemp("outside")
    (workdir / "linked").symlink_to(outside, target_is_directory=True)
    proc = faults.run("report", _definition(workdir, output='"linked"'), "--date", DAY, cwd=workdir, timeout=120)
    faults.clean_failure(proc, "leads out of")
    assert list(outside.iterdir()) == []


def test_allow_outside_admits_a_named_folder(faults, workdir, tmp_path_factory, small_scenario_text):
    shared = tmp_path_factory.mktemp("shared")
    (shared / "small.toml").write_text(small_scenario_text)
    path = _definition(workdir, scenario=f'"{shared / "small.toml"}"', draws="4000", sections='["cover"]')
    faults.clean_failure(faults.run("report", path, "--date", DAY, cwd=workdir), "leads out of")
    proc = faults.run("report", path, "--date", DAY, "--allow-outside", shared, cwd=workdir)
    assert proc.returncode == 0, proc.stderr
    assert (workdir / "out" / f"memo-{DAY}.pdf").is_file()


def test_the_scheduler_takes_definitions_not_scenarios(faults, workdir):
    # a scenario kept in the scheduled folder must not stop the service from starting
    from risk.report.schedule import Scheduler

    scheduler = Scheduler.from_folder(workdir)
    assert [job.definition.name for job in scheduler.jobs] == ["memo"]
    assert [(path.name, why.split(" (")[0]) for path, why in scheduler.skipped] == [("small.toml", "a scenario")]


def test_schedule_status_without_a_service(faults, workdir):
    faults.clean_failure(faults.run("schedule", workdir, "--status", cwd=workdir), "no schedule status here")


def test_a_folder_given_as_report_definition(faults, workdir):
    (workdir / "dir.toml").mkdir()
    faults.clean_failure(faults.run("report", workdir / "dir.toml", cwd=workdir), "no such report definition")


def test_every_bad_input_left_the_folder_without_temporaries(faults, workdir):
    # the cases above check their own folders; here one more: a refused --out leaves no probe behind
    proc = faults.run("simulate", "small.toml", "-n", "1000", "--out", workdir / "x" / "y.json", "--seed", "1",
                    cwd=workdir)
    assert proc.returncode == 0, proc.stderr
    assert [p.name for p in (workdir / "x").iterdir()] == ["y.json"]
    assert oct((workdir / "x" / "y.json").stat().st_mode & 0o777) == oct(0o666 & ~_umask())


def _umask():
    mask = os.umask(0)
    os.umask(mask)
    return mask
