"""The first run of every feature, in one run: what each compiles, and whether a kernel compiles twice.

A fresh cache folder; then, in one process, the features in the order an analyst
meets them (simulate, the other samplers, kept draws, sensitivity, exposure,
calibrate, backtest, breakeven), each with few draws so that the time is the
compile.  Prints each feature's wall time and every kernel numba compiled more
than one specialization of, with the argument types that differ (a literal
constant where the other callers pass an int64 costs a whole second compile of
the model's stages).

    python benchmarks/bench_compile.py [--isa avx2]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile

from bench_simulate import avx2_environment, cpu_name

CHILD = r"""
import time
import numba
import risk
from risk.kernels import exposure, histogram, model, observe, rng, sampling, simulate

features = [
    ("simulate (judged)", lambda: risk.simulate(draws=4000, seed=1)),
    ("simulate --no-judgement", lambda: risk.simulate(draws=4000, seed=1, judgement=False)),
    ("antithetic", lambda: risk.simulate(draws=4096, seed=1, judgement=False, sampler="antithetic")),
    ("rqmc", lambda: risk.simulate(draws=4096, seed=1, judgement=False, sampler="rqmc")),
    ("kept draws", lambda: risk.simulate(draws=4000, seed=1, keep=100)),
    ("sensitivity", lambda: risk.sensitivity(draws=2000, sobol_draws=300, seed=1)),
    ("exposure", lambda: risk.exposure(draws=4000, seed=1)),
    ("calibrate", lambda: risk.calibrate("article-2025", draws=4000, seed=1)),
    ("backtest", lambda: risk.backtest("article-2025", draws=4000, seed=1)),
    ("breakeven", lambda: risk.breakeven(prior="companies.openai.revenue0", target=0.9, draws=2000, seed=1)),
]
total = 0.0
for name, run in features:
    start = time.perf_counter()
    run()
    took = time.perf_counter() - start
    total += took
    print(f"  {name:<26} {took:6.1f} s")
print(f"  {'all, in turn':<26} {total:6.1f} s")
seen, twice = set(), []
for module in (simulate, model, exposure, observe, histogram, rng, sampling):
    for name in dir(module):
        kernel = getattr(module, name)
        if isinstance(kernel, numba.core.registry.CPUDispatcher) and id(kernel) not in seen:
            seen.add(id(kernel))
            first, *others = kernel.signatures or [()]
            for other in others:
                differ = [f"arg {i}: {a} / {b}" for i, (a, b) in enumerate(zip(first, other)) if a != b]
                twice.append(f"  {module.__name__}.{name}: " + "; ".join(differ))
print("kernels compiled more than once:" + ("\n" + "\n".join(twice) if twice else " none"))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--isa", choices=("native", "avx2"), default="native")
    args = parser.parse_args()
    if args.isa == "avx2":
        os.environ.update(avx2_environment())  # for the child, and for cpu_name's label
    env = dict(os.environ)
    with tempfile.TemporaryDirectory() as cache:
        env["RISK_CACHE_DIR"] = cache
        env.pop("NUMBA_CACHE_DIR", None)
        print(f"machine: {cpu_name()}, {os.cpu_count()} cores; first runs with an empty cache:", flush=True)
        # outside any checkout: the installed risk, not a ./risk folder
        subprocess.run([sys.executable, "-c", CHILD], env=env, cwd=cache, check=True)


if __name__ == "__main__":
    main()
