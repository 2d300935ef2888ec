"""Local threads versus a Dask LocalCluster: draws/s, parallel efficiency, per-task overhead.

    python benchmarks/bench_cluster.py [--draws 2e7]

Prints, on the default scenario: draws/s with local threads (1 and all), with
a LocalCluster of 1 and 2 single-threaded worker processes, the parallel
efficiency of the cluster runs, the worker warm-up (numba cache load), and
the overhead per task measured with tiny blocks.  Every cluster result is
checked to be bit-identical to the local one.
"""

from __future__ import annotations

import argparse
import time


def _timed(fn):
    start = time.perf_counter()
    value = fn()
    return value, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--draws", default="2e7")
    args = parser.parse_args()
    draws = int(float(args.draws))

    import numba
    from distributed import Client, LocalCluster

    import risk
    from risk import cluster as risk_cluster
    from risk.scenario.compile import compile_scenario

    compiled = compile_scenario(risk.load_scenario("default"))
    risk.simulate(draws=1000, seed=1)  # compile or load the kernels here first
    local, local_seconds = _timed(lambda: risk.simulate(draws=draws, seed=1))
    one, one_seconds = _timed(lambda: risk.simulate(draws=draws, seed=1, threads=1))
    cores = numba.config.NUMBA_NUM_THREADS
    print(f"default scenario, {draws:,} draws")
    print(f"  local, 1 thread:            {one_seconds:7.2f} s  {draws / one_seconds:12,.0f} draws/s")
    print(f"  local, {cores} threads:          {local_seconds:7.2f} s  {draws / local_seconds:12,.0f} draws/s"
          f"  efficiency {one_seconds / local_seconds / cores:.0%}")
    expected = {k: v for k, v in local.to_dict().items() if k != "provenance"}
    for workers in (1, 2):
        cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, host="127.0.0.1",
                               dashboard_address=None)
        client = Client(cluster)
        try:
            _, warm = _timed(lambda: client.run(risk_cluster.warm_up, compiled))
            result, seconds = _timed(lambda: risk.simulate(draws=draws, seed=1, client=client))
            same = {k: v for k, v in result.to_dict().items() if k != "provenance"} == expected
            print(f"  LocalCluster, {workers} worker(s): {seconds:7.2f} s  {draws / seconds:12,.0f} draws/s"
                  f"  efficiency {one_seconds / seconds / workers:.0%}  warm-up {warm:.2f} s"
                  f"  bit-identical: {same}")
            if workers == 2:
                tiny = 400 * 16 * 16  # 400 tasks of 16 chunks of 16 draws
                _, with_cluster = _timed(lambda: risk.simulate(draws=tiny, seed=1, chunk_size=16, client=client))
                _, alone = _timed(lambda: risk.simulate(draws=tiny, seed=1, chunk_size=16, threads=1))
                overhead = (with_cluster - alone / workers) / 400 * workers
                print(f"  overhead per task (400 tasks of 256 draws): {overhead * 1e3:.1f} ms per task and worker;"
                      f" a default task (16 x 65,536 draws) computes for"
                      f" {one_seconds / draws * 16 * 65536:.2f} s")
        finally:
            client.close()
            cluster.close()


if __name__ == "__main__":
    main()
