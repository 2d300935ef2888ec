"""A Dask LocalCluster on loopback, started and stopped here: same numbers as a local run."""

import os
import signal
import time

import pytest

import risk
from risk import cluster as risk_cluster
from risk.errors import InputError
from risk.scenario.compile import compile_scenario

DRAWS, SEED, CHUNK = 300_000, 17, 1024


def _numbers(result):
    payload = result.to_dict()
    payload.pop("provenance")
    return payload


@pytest.fixture(scope="module")
def local_cluster():
    from distributed import Client, LocalCluster

    cluster = LocalCluster(n_workers=3, threads_per_worker=1, processes=True, host="127.0.0.1",
                           dashboard_address=None)
    client = Client(cluster)
    yield cluster, client
    client.close()
    cluster.close()


@pytest.fixture(scope="module")
def local_result(small_scenario_session_file):
    return risk.simulate(small_scenario_session_file, draws=DRAWS, seed=SEED, chunk_size=CHUNK)


def _workers(client, n):
    client.cluster.scale(n)
    deadline = time.monotonic() + 60
    while len(client.scheduler_info()["workers"]) != n:
        if time.monotonic() > deadline:
            raise TimeoutError(f"cluster did not reach {n} workers")
        time.sleep(0.1)


@pytest.mark.parametrize("workers", [1, 2, 3])
def test_bit_identical_to_local_for_any_number_of_workers(local_cluster, local_result,
                                                          small_scenario_session_file, workers):
    cluster, client = local_cluster
    _workers(client, workers)
    compiled = compile_scenario(risk.load_scenario(small_scenario_session_file))
    client.run(risk_cluster.warm_up, compiled)
    result = risk.simulate(small_scenario_session_file, draws=DRAWS, seed=SEED, chunk_size=CHUNK, client=client)
    assert _numbers(result) == _numbers(local_result)


def test_a_killed_worker_changes_nothing(local_cluster, local_result, small_scenario_session_file):
    cluster, client = local_cluster
    _workers(client, 3)
    pids = client.run(os.getpid)
    killed = []

    def kill_one(done, total):
        if not killed:  # as soon as the first block is back, one worker dies mid-run
            victim = sorted(pids.values())[0]
            os.kill(victim, signal.SIGKILL)
            killed.append(victim)

    result = risk.simulate(small_scenario_session_file, draws=DRAWS, seed=SEED, chunk_size=CHUNK, client=client,
                           progress=kill_one)
    assert killed
    assert _numbers(result) == _numbers(local_result)


def test_bad_input_fails_before_anything_is_submitted(local_cluster, small_scenario_session_file, tmp_path):
    cluster, client = local_cluster
    bad = tmp_path / "bad.toml"
    bad.write_text(small_scenario_session_file.read_text().replace("cash0 = 10\n", "cash0 = nan\n"))

    def transitions(dask_scheduler):
        return dask_scheduler.transition_counter

    def tasks(dask_scheduler):
        return len(dask_scheduler.tasks)

    # earlier tests' futures are released asynchronously (transitions of their own): start from a quiet scheduler
    deadline = time.monotonic() + 30
    while client.run_on_scheduler(tasks) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert client.run_on_scheduler(tasks) == 0
    before = client.run_on_scheduler(transitions)
    with pytest.raises(InputError, match="cash0"):
        risk.simulate(bad, draws=DRAWS, seed=1, client=client)
    with pytest.raises(InputError, match="replicates"):
        risk.simulate(small_scenario_session_file, draws=DRAWS, seed=1, client=client, sampler="rqmc",
                      replicates=2)
    assert client.run_on_scheduler(transitions) == before


def _observations(tmp_path):
    csv = tmp_path / "obs.csv"
    csv.write_text("company,date,quantity,value,rel_error,source\n"
                   "alpha,2026-06-30,annualized_revenue,11,0.1,test\n")
    return csv


@pytest.mark.parametrize("options", [
    {"sampler": "rqmc", "draws": 40_000},
    {"sampler": "antithetic", "draws": 60_000},
    {"by_provider": True, "draws": 60_000},
    {"observations": True, "draws": 60_000},
    {"keep": 300, "draws": 60_000},
    {"target_mcse": 0.004, "draws": 20_000},
    {"judged": True, "draws": 16 * 3000, "calibrations": 16},
    {"judged": True, "observations": True, "draws": 16 * 3000, "calibrations": 16},
], ids=["rqmc", "antithetic", "exposure", "posterior", "keep", "target", "judgement", "judged-posterior"])
def test_every_pass_on_the_cluster_equals_the_local_run(local_cluster, small_scenario_session_file, tmp_path,
                                                        options):
    cluster, client = local_cluster
    _workers(client, 2)
    options = dict(options, seed=SEED, chunk_size=CHUNK)
    scenario = small_scenario_session_file
    text = small_scenario_session_file.read_text()
    if options.pop("judged", False):
        text += ('\n[judgement]\n"companies.*.contracts.*.lease_per_gw_year" = '
                 '{ op = "scale", dist = "lognormal", p5 = 0.8, p95 = 1.25, source = "test" }\n')
        scenario = tmp_path / "judged.toml"
        scenario.write_text(text)
    if options.get("observations"):
        options["observations"] = _observations(tmp_path)
        scenario = tmp_path / "dated.toml"
        scenario.write_text(text.replace('name = "small"', 'name = "small"\nas_of = "2025-12-31"'))
    local = risk.simulate(scenario, threads=1, **options)
    remote = risk.simulate(scenario, client=client, **options)
    assert _numbers(remote) == _numbers(local)
    if "keep" in options:
        for name in ("coverage", "funding_gap", "values", "paths"):
            assert (getattr(remote.kept, name) == getattr(local.kept, name)).all()
    executor = remote.provenance()["executor"]
    assert executor["executor"] == "dask" and executor["workers"] == 2
    assert executor["scheduler"].startswith("tcp://127.0.0.1:")


def test_an_unreachable_scheduler_is_a_clear_error_within_the_timeout():
    start = time.monotonic()
    with pytest.raises(InputError, match="cannot reach the Dask scheduler"):
        risk_cluster.connect(scheduler="tcp://127.0.0.1:9", timeout=2)
    assert time.monotonic() - start < 10


@pytest.mark.parametrize("spec", ["local", "local:0", "remote:2"])
def test_bad_cluster_specs(spec):
    with pytest.raises(InputError, match="cluster spec"):
        risk_cluster.connect(cluster=spec)


def test_compare_on_the_cluster_equals_the_local_run(local_cluster, small_scenario_session_file):
    cluster, client = local_cluster
    _workers(client, 2)
    options = dict(draws=20_000, seed=SEED, overrides_b={"companies.*.revenue0": risk.Scale(1.1)})
    local = risk.compare(small_scenario_session_file, small_scenario_session_file, threads=1, **options)
    remote = risk.compare(small_scenario_session_file, small_scenario_session_file, client=client, **options)
    assert [d.to_dict() for d in remote.differences] == [d.to_dict() for d in local.differences]


def _cli(*args, cwd):
    import subprocess
    import sys

    return subprocess.run([sys.executable, "-m", "risk", *args], capture_output=True, text=True, cwd=cwd,
                          env=dict(os.environ, COLUMNS="200"), timeout=600)


def _without_provenance(text):
    import json

    def strip(node):
        if isinstance(node, dict):
            return {key: strip(value) for key, value in node.items() if key != "provenance"}
        return [strip(value) for value in node] if isinstance(node, list) else node

    return strip(json.loads(text))


def test_the_cli_runs_exposure_calibrate_and_compare_on_a_scheduler_as_it_does_locally(
        local_cluster, small_scenario_session_file, tmp_path):
    cluster, client = local_cluster
    _workers(client, 2)
    dated = tmp_path / "dated.toml"
    dated.write_text(small_scenario_session_file.read_text().replace('name = "small"',
                                                                     'name = "small"\nas_of = "2025-12-31"'))
    scenario = str(dated)
    common = ["-n", "40000", "--seed", "5", "--json"]
    commands = [["exposure", scenario, *common],
                ["calibrate", scenario, "--observations", str(_observations(tmp_path)), *common],
                ["compare", scenario, scenario, "--scale-b", "companies.*.revenue0=1.1", *common]]
    for command in commands:
        here = _cli(*command, cwd=tmp_path)
        there = _cli(*command, "--scheduler", cluster.scheduler_address, cwd=tmp_path)
        assert here.returncode == 0 and there.returncode == 0, (command[0], here.stderr, there.stderr)
        assert _without_provenance(there.stdout) == _without_provenance(here.stdout), command[0]
