"""The model bundle: a namedtuple or a jitted structref?  Cold compile and call overhead, measured.

``kernels.model.Model`` carries the compiled scenario into every kernel.  This
benchmark builds the same shape twice (13 fields: eleven arrays of the
Model's dtypes and ranks, a float and an int) and passes it down a chain of
four non-inlined kernels, as ``run_batch`` -> ``simulate_block`` -> the model
stages do.  Each variant is timed in a fresh interpreter without numba's
cache (``cache=False``), three times, alternated:

* cold: from import to the first result (what a first run pays for the bundle);
* call: the median of 2,000 calls of the entry kernel from Python (the
  dispatch cost: a namedtuple's fields are typed on every call).

Run: ``python benchmarks/bench_bundle.py``.

Measured 2026-11-30 (2-core AMD EPYC, numba target znver5):

* this benchmark: namedtuple cold 1.09 s, call 2.39 us; structref cold
  0.94 s, call 0.72 us;
* the real kernels with ``Model`` as a structref (``define_proxy``; numbers
  identical to the namedtuple's), default scenario, 1e7 draws, three
  alternated runs each: cold 25.32 s (24.10-25.37) vs 25.79 s (25.19-26.39)
  for the namedtuple, but warm 4.90 s (4.60-4.93) vs 4.57 s (4.50-4.58), and
  start-up (``--draws 1``) 0.89 s vs 0.64 s: the proxy's constructor and
  getters are compiled in every process (numba does not cache them).

A first run pays the compile once; every run pays the start-up.  The
namedtuple stays.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys

import numba

VARIANT = r'''
import time, sys
start = time.perf_counter()
import numpy as np
import numba
from numba import njit
from collections import namedtuple

FIELDS = ["z_active", "spec", "tables", "order", "family_start", "copula_index", "copula_chol",
          "company_var", "contract_var", "contract_ramp", "contract_terms", "investments", "scenario_var",
          "demand_loading", "horizon"]
values = (np.arange(8, dtype=np.int64), np.ones((8, 6)), np.ones((4, 256)), np.arange(8, dtype=np.int64),
          np.zeros(9, dtype=np.int64), np.arange(3, dtype=np.int64), np.eye(3), np.ones((2, 12), dtype=np.int64),
          np.ones((3, 9), dtype=np.int64), np.ones((3, 6)), np.ones((3, 3)), np.ones((2, 5)),
          np.ones(6, dtype=np.int64), 0.3, 6)

if sys.argv[1] == "namedtuple":
    Model = namedtuple("Model", FIELDS)
    model = Model(*values)
else:
    from numba.core import types
    from numba.experimental import structref

    @structref.register
    class ModelType(types.StructRef):
        def preprocess_fields(self, fields):
            return tuple((name, types.unliteral(typ)) for name, typ in fields)

    class ModelRef(structref.StructRefProxy):
        pass

    structref.define_proxy(ModelRef, ModelType, FIELDS)
    model = ModelRef(*values)


@njit(cache=False)
def sample(m, z):
    total = 0.0
    for i in range(m.z_active.shape[0]):
        total += m.spec[i, 0] * z[i] + m.tables[i % m.tables.shape[0], 0]
    return total + m.order[0] + m.family_start[0]


@njit(cache=False)
def copula(m, z):
    total = sample(m, z)
    for i in range(m.copula_index.shape[0]):
        total += m.copula_chol[i, i] * z[m.copula_index[i]]
    return total * m.demand_loading


@njit(cache=False)
def paths(m, z):
    total = copula(m, z)
    for c in range(m.contract_var.shape[0]):
        for t in range(m.horizon):
            total += m.contract_ramp[c, t] * m.contract_terms[c, 0] + m.contract_var[c, 0]
    return total


@njit(cache=False)
def outcomes(m, z):
    total = paths(m, z)
    for e in range(m.company_var.shape[0]):
        total += m.company_var[e, 0] + m.investments[e, 0]
    return total + m.scenario_var[0]


z = np.ones(8)
first = outcomes(model, z)
cold = time.perf_counter() - start
times = []
for _ in range(2000):
    t0 = time.perf_counter()
    outcomes(model, z)
    times.append(time.perf_counter() - t0)
times.sort()
import json
print(json.dumps({"cold": cold, "call": times[len(times) // 2], "value": first}))
'''


def run(variant: str) -> dict:
    out = subprocess.run([sys.executable, "-c", VARIANT, variant], capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    results = {"namedtuple": [], "structref": []}
    for _ in range(3):
        for variant in results:
            results[variant].append(run(variant))
    values = {variant: runs[0]["value"] for variant, runs in results.items()}
    assert len(set(values.values())) == 1, values  # the two bundles compute the same
    print(f"CPU: {numba.config.CPU_NAME or 'host'} ({_cpu_name()}); numba {numba.__version__}")
    for variant, runs in results.items():
        cold = [r["cold"] for r in runs]
        call = [r["call"] * 1e6 for r in runs]
        print(f"{variant:>10}: cold {statistics.median(cold):6.2f} s ({min(cold):.2f}-{max(cold):.2f}), "
              f"call {statistics.median(call):6.2f} us ({min(call):.2f}-{max(call):.2f})")


def _cpu_name() -> str:
    import llvmlite.binding as llvm

    return llvm.get_host_cpu_name()


if __name__ == "__main__":
    main()
