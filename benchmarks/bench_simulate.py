"""Benchmark of ``risk simulate`` on the default scenario, in one run.

Prints: cold (first compile) and warm wall time of ``risk simulate --draws 1e7``,
draws/s, ns per draw, peak RSS, start-up alone (1 draw), the same model in
plain chunked numpy (the way a quant writes it in a notebook) and the ratio,
and the floor: ns per draw for only generating that draw's random variates;
then each sampler's variance-reduction factor (mc, antithetic, rqmc) on
``p_shortfall`` and the mean funding gap.

    python benchmarks/bench_simulate.py [--draws 1e7] [--numpy-draws 1e6] [--big] [--repeats 3] [--isa avx2]

``--big`` also runs 1e8 draws to show that peak memory does not grow.  Every
figure (cold, each with an empty cache; warm; start-up; 1e8; numpy; the floor)
is the median of ``--repeats`` runs, printed with each run's figure (the
machine is shared and noisy), and peak RSS is the largest of the runs.
Each ``risk simulate`` runs in its own process (whole-process wall time and
peak RSS, as a user sees them); the numpy baseline runs in this process.

``--isa avx2`` measures the code an AVX2-only CPU (Zen 2/3, most Intel client
CPUs) would run, on an AVX-512 host: numba compiles for ``znver3`` with every
AVX-512 feature off (``NUMBA_CPU_NAME``, ``NUMBA_CPU_FEATURES``) and numpy's
dispatch skips its AVX-512 kernels (``NPY_DISABLE_CPU_FEATURES``).  The
instruction mix is AVX2's; caches, clocks and the execution units stay the
host's, so it is labelled "emulated", not a measurement of an AVX2 machine.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np


def run_cli(draws: str, cache_dir: str, python: str = sys.executable, *extra: str) -> tuple[float, float]:
    """Run ``risk simulate`` of the install behind ``python`` in a fresh process: (wall seconds, peak RSS MiB).

    ``extra`` options are passed on (``--no-judgement``: the central calibration only).
    """
    env = dict(os.environ, RISK_CACHE_DIR=cache_dir)
    env.pop("NUMBA_CACHE_DIR", None)
    script = ("import resource, subprocess, sys, time; t = time.perf_counter(); "
              "p = subprocess.run([sys.executable, '-m', 'risk', 'simulate', '--draws', sys.argv[1], "
              "'--seed', '1', '--json'] + sys.argv[2:], stdout=subprocess.DEVNULL); "
              "w = time.perf_counter() - t; "
              "r = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024; "
              "print(p.returncode, w, r)")
    # run outside any checkout: `python -m risk` would import a ./risk package before the installed one
    out = subprocess.run([python, "-c", script, draws, *extra], env=env, capture_output=True, cwd=cache_dir,
                         text=True, check=True).stdout.split()
    if out[0] != "0":
        raise SystemExit(f"risk simulate failed with exit code {out[0]}")
    return float(out[1]), float(out[2])


def numpy_sample(prior, n, rng):
    """Draw ``n`` values of a prior with numpy's Generator (the notebook way)."""
    from scipy import stats

    p = prior.params
    f = prior.family
    if f == "fixed":
        return np.full(n, p["value"])
    if f == "normal":
        return rng.normal(p["mean"], p["sd"], n)
    if f == "lognormal":
        return p["loc"] + rng.lognormal(p["mu"], p["sigma"], n)
    if f == "beta":
        return p["low"] + (p["high"] - p["low"]) * rng.beta(p["a"], p["b"], n)
    if f == "gamma":
        return p["loc"] + rng.gamma(p["shape"], p["scale"], n)
    if f == "uniform":
        return rng.uniform(p["low"], p["high"], n)
    if f == "triangular":
        return rng.triangular(p["low"], p["mode"], p["high"], n)
    if f == "pert":
        from risk.scenario.distributions import pert_shape

        a, b = pert_shape(p["low"], p["mode"], p["high"], p["lambda"])
        return p["low"] + (p["high"] - p["low"]) * rng.beta(a, b, n)
    if f == "truncated_normal":
        return stats.truncnorm.rvs((p["low"] - p["mean"]) / p["sd"], (p["high"] - p["mean"]) / p["sd"],
                                   loc=p["mean"], scale=p["sd"], size=n, random_state=rng)
    if f == "discrete":
        return rng.choice(p["values"], size=n, p=p["weights"])
    raise ValueError(f)


def numpy_model(scenario, draws: int, chunk: int, seed: int) -> dict:
    """The coverage model of model.md (v2) in plain vectorised numpy, chunked.

    Vectorised over the draws of a chunk, looping over years where the
    model is a recursion (management's option, the funding market): the way
    a quant writes it in a notebook.
    """
    from scipy.special import ndtri

    rng = np.random.default_rng(seed)
    T = scenario.horizon
    t = np.arange(T)
    n_entities = len(scenario.companies) + 1
    n_short, n_default, gap_sum = np.zeros(n_entities), np.zeros(n_entities), np.zeros(n_entities)
    market_priors = scenario.funding_market
    for start in range(0, draws, chunk):
        n = min(chunk, draws - start)
        discount = numpy_sample(scenario.discount_rate, n, rng)
        financing = numpy_sample(scenario.financing_rate, n, rng)
        v = (1.0 / (1.0 + discount))[:, None] ** (t + 1)
        factor = rng.standard_normal((n, T))
        market = np.zeros((n, T), dtype=bool)
        if market_priors:
            fm = {name: numpy_sample(prior, n, rng) for name, prior in market_priors.items()}
            reopen = rng.standard_normal((n, T))
            is_open = np.ones(n, dtype=bool)
            for year in range(T):
                is_open = np.where(is_open, factor[:, year] >= ndtri(fm["p_close"]),
                                   reopen[:, year] < ndtri(fm["p_reopen"]))
                market[:, year] = is_open
        any_short = np.zeros(n, dtype=bool)
        any_default = np.zeros(n, dtype=bool)
        gap_total = np.zeros(n)
        for c, company in enumerate(scenario.companies):
            pr = {name: numpy_sample(prior, n, rng) for name, prior in company.priors.items()
                  if name != "utilization"}
            util = numpy_sample(company.priors["utilization"], n * T, rng).reshape(n, T)
            rho = scenario.demand_correlation
            shock = np.sqrt(rho) * factor + np.sqrt(1 - rho) * rng.standard_normal((n, T))
            excess = 2.0 ** (-t[None, :] / pr["growth_halflife"][:, None])
            l1, lt = np.log1p(pr["growth_initial"])[:, None], np.log1p(pr["growth_terminal"])[:, None]
            log_growth = lt + (l1 - lt) * excess + pr["growth_vol"][:, None] * shock
            runrate = pr["revenue0"][:, None] * np.exp(np.cumsum(log_growth, axis=1))
            start_rate = np.concatenate([pr["revenue0"][:, None], runrate[:, :-1]], axis=1)
            with np.errstate(invalid="ignore", divide="ignore"):
                flow = np.where(np.abs(log_growth) < 1e-4, 1 + log_growth / 2, np.expm1(log_growth) / log_growth)
            demand = start_rate * flow
            training = pr["training_share"][:, None] * (1 - pr["training_share_decay"][:, None]) ** t
            if "revenue_per_gw" in pr:
                serving = (1 - pr["training_share"]) * util.mean(axis=1)
                yield1 = np.where(serving > 0, pr["revenue_per_gw"] / np.where(serving > 0, serving, 1), 0.0)
            else:
                yield1 = pr["yield_per_gw"]
            per_gw = (1 - training) * util * yield1[:, None] * (1 - pr["price_decline"])[:, None] ** t
            contracts = []
            for contract in company.contracts:
                cp = {name: numpy_sample(prior, n, rng) for name, prior in contract.priors.items()}
                ramp = np.asarray(contract.capacity_gw)
                position = t[None, :] - cp["ramp_delay"][:, None]
                padded = np.concatenate([[0.0], ramp])
                gw = cp["delivered_fraction"][:, None] * np.interp(position + 1, np.arange(T + 1), padded, left=0.0)
                if contract.kind == "lease":
                    unit = cp["lease_per_gw_year"]
                else:
                    r, life = financing, cp["life_years"]
                    annuity = np.where(np.abs(r) < 1e-6, 1 / life, r / (1 - (1 + r) ** -life))
                    unit = cp["capex_per_gw"] * annuity + 8.76 * cp["pue"] * cp["power_price"] / 1000
                contracts.append((gw, unit, min(contract.binding_gw, 1e300), contract.notice_years,
                                  np.zeros((n, T)), np.zeros(n)))
            revenue, cost = np.zeros((n, T)), np.zeros((n, T))
            online_by = np.zeros((len(contracts), n, T))
            for year in range(T):
                online = [gw[:, year] - np.minimum(sched[:, year], np.maximum(gw[:, year] - b, 0))
                          for gw, _, b, _, sched, _ in contracts]
                capacity = sum(online)
                supply = capacity * per_gw[:, year]
                revenue[:, year] = np.minimum(demand[:, year], supply)
                with np.errstate(invalid="ignore", divide="ignore"):
                    want = np.where(supply > demand[:, year], capacity * (1 - demand[:, year] / supply), 0.0)
                pending = sum(np.maximum(noticed - sched[:, year], 0) for _, _, _, _, sched, noticed in contracts)
                remaining = [np.maximum(gw[:, year] - b - noticed, 0) for gw, _, b, _, _, noticed in contracts]
                total = sum(remaining)
                with np.errstate(invalid="ignore", divide="ignore"):
                    share = np.where(total > 0, np.minimum(np.maximum(want - pending, 0), total) / total, 0.0)
                for (gw, unit, b, notice, sched, noticed), rest in zip(contracts, remaining):
                    amount = rest * share
                    noticed += amount
                    kept = np.clip(notice - (t[year:] - year), 0, 1)
                    sched[:, year:] += amount[:, None] * (1 - kept)[None, :]
                for k, (gw, unit, b, _, sched, _) in enumerate(contracts):
                    online_by[k, :, year] = gw[:, year] - np.minimum(sched[:, year], np.maximum(gw[:, year] - b, 0))
                    cost[:, year] += online_by[k, :, year] * unit
            inflow = np.zeros((n, T))
            names = [k.name for k in company.contracts]
            for investment in company.investments:
                amount = numpy_sample(investment.amount, n, rng)
                if investment.timing == "upfront":
                    inflow[:, 0] += amount
                elif investment.timing == "per_gw":
                    online = online_by[names.index(investment.contract)]
                    peak = np.maximum.accumulate(online, axis=1)
                    added = np.maximum(online - np.concatenate([np.zeros((n, 1)), peak[:, :-1]], axis=1), 0)
                    inflow += amount[:, None] * added
            opex = (pr["opex_ratio_terminal"][:, None]
                    + (pr["opex_ratio_initial"] - pr["opex_ratio_terminal"])[:, None] * excess)
            earnings = revenue * (1 - opex)
            coverage = (earnings * v).sum(1) / (cost * v).sum(1)
            gap = (np.maximum(cost - earnings, 0) * v).sum(1)
            cash = pr["cash0"].copy()
            default = np.zeros(n, dtype=bool)
            for year in range(T):
                before = cash + earnings[:, year] - cost[:, year] + inflow[:, year]
                burn = np.maximum(cost[:, year] - earnings[:, year], 0)
                if market_priors:
                    can = market[:, year] & (np.expm1(log_growth[:, year]) >= fm["growth_hurdle"])
                    raised = np.where(can & (before < burn),
                                      np.minimum(burn - before, fm["raise_multiple"] * runrate[:, year]), 0.0)
                else:
                    raised = 0.0
                cash = before + raised
                default |= cash < 0
            n_short[c] += np.count_nonzero(coverage < 1)
            n_default[c] += np.count_nonzero(default)
            gap_sum[c] += gap.sum()
            any_short |= coverage < 1
            any_default |= default
            gap_total += gap
        n_short[-1] += np.count_nonzero(any_short)
        n_default[-1] += np.count_nonzero(any_default)
        gap_sum[-1] += gap_total.sum()
    return {"p_shortfall": n_short / draws, "p_default": n_default / draws, "gap_mean": gap_sum / draws}


NUMPY_AVX512 = ("AVX512F AVX512CD AVX512_SKX AVX512_CLX AVX512_CNL AVX512_ICL AVX512_SPR AVX512_KNL AVX512_KNM "
                "AVX512VL AVX512BW AVX512DQ AVX512VNNI AVX512IFMA AVX512VBMI AVX512VBMI2 AVX512BITALG "
                "AVX512VPOPCNTDQ AVX512BF16 AVX512FP16")


def avx2_environment() -> dict:
    """Environment that makes numba emit AVX2 code (and numpy skip AVX-512) on this host."""
    import llvmlite.binding as llvm

    llvm.initialize_native_target()
    features = []
    for name, on in llvm.get_host_cpu_features().items():
        wide = name.startswith(("avx512", "avx10", "amx", "avxvnni", "avxifma", "avxneconvert")) or name == "evex512"
        features.append(("+" if on and not wide else "-") + name)
    return {"NUMBA_CPU_NAME": "znver3", "NUMBA_CPU_FEATURES": ",".join(sorted(features)),
            "NPY_DISABLE_CPU_FEATURES": NUMPY_AVX512}


def cpu_name() -> str:
    """The CPU's model name and the instruction set numba compiles for (hosts differ: AVX-512 here, AVX2 there)."""
    name = "unknown CPU"
    try:
        with open("/proc/cpuinfo") as info:
            name = next(line.split(":", 1)[1].strip() for line in info if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    try:
        import llvmlite.binding as llvm

        llvm.initialize_native_target()
        target = llvm.get_host_cpu_name()
    except Exception:  # noqa: BLE001 (the name is a label; the benchmark runs without it)
        target = "?"
    if os.environ.get("NUMBA_CPU_NAME"):
        wide = "+avx512f" in os.environ.get("NUMBA_CPU_FEATURES", "+avx512f")
        target = (f"{os.environ['NUMBA_CPU_NAME']}, {'AVX-512' if wide else 'AVX2'} code emulated on a {target} "
                  f"host")
    return f"{name} (numba target {target})"


def compare_installs(other_python: str, draws: str, repeats: int) -> None:
    """Warm runs of this install and another, alternated in one run: the ratio of their medians."""
    with tempfile.TemporaryDirectory() as mine, tempfile.TemporaryDirectory() as theirs:
        run_cli("1000", mine)  # compile both first
        run_cli("1000", theirs, other_python)
        ours, others = [], []
        for _ in range(repeats):
            ours.append(run_cli(draws, mine))
            others.append(run_cli(draws, theirs, other_python))
    this = statistics.median(w for w, _ in ours)
    that = statistics.median(w for w, _ in others)
    print(f"against {other_python}: warm --draws {draws}, alternated, median of {repeats}")
    print(f"  this install:  {this:6.2f} s ({', '.join(f'{w:.2f}' for w, _ in ours)})   "
          f"peak RSS {max(r for _, r in ours):.0f} MiB")
    print(f"  other install: {that:6.2f} s ({', '.join(f'{w:.2f}' for w, _ in others)})   "
          f"peak RSS {max(r for _, r in others):.0f} MiB")
    print(f"  ratio this / other: {this / that:.2f}")


def rng_floor(draws: int) -> float:
    """ns per draw for generating only the draw's normal scores and prior values."""
    import risk  # noqa: F401  (configures the numba cache)
    from numba import njit

    from risk.engine import blocks, in_slots, score_keys, slot_count
    from risk.kernels.simulate import LANES, SAMPLER_MC, draw_scores, set_block
    from risk.kernels.sampling import sample_values
    from risk.scenario import load_scenario
    from risk.scenario.compile import compile_scenario

    compiled = compile_scenario(load_scenario("default"))
    a = compiled.arrays

    @njit(nogil=True)
    def variates_only(slot, n_slots, b, draws, z_keys, z_active, spec, tables, order, family_start):
        # the engine's own score and value stages, on its blocks of draws, slot by slot as the engine runs them
        for first in range(slot * LANES, draws, n_slots * LANES):
            set_block(b.draws, first, draws)
            draw_scores(b.draws, SAMPLER_MC, z_keys, b.no_scores, z_active, b.z, b.offsets, b.signs, b.words)
            sample_values(b.z, b.values, spec, tables, order, family_start)

    slot_blocks = blocks(compiled, slot_count(os.cpu_count() or 1, draws))
    args = (score_keys(compiled, 1), a["z_active"], a["spec"], a["tables"], a["order"], a["family_start"])
    in_slots(variates_only, slot_blocks, 1000, *args)
    start = time.perf_counter()
    in_slots(variates_only, slot_blocks, draws, *args)
    return (time.perf_counter() - start) / draws * 1e9


def _runs(runs) -> str:
    return "(" + ", ".join(f"{w:.2f}" for w, _ in runs) + ")"


def _rss(runs) -> str:
    return f"{max(r for _, r in runs):.0f} MiB"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--draws", default="1e7")
    parser.add_argument("--numpy-draws", default="1e6")
    parser.add_argument("--numpy-chunk", type=int, default=10_000)
    parser.add_argument("--big", action="store_true", help="also run 1e8 draws (peak RSS)")
    parser.add_argument("--repeats", type=int, default=3, help="runs of every measure (their median is reported)")
    parser.add_argument("--sampler-draws", default="1e6", help="draws per sampler for the variance-reduction table")
    parser.add_argument("--against", metavar="PYTHON",
                        help="the python of another install of risk (e.g. the previous release in its own venv): "
                             "its warm runs alternate with this one's, and the ratio is printed")
    parser.add_argument("--isa", choices=("native", "avx2"), default="native",
                        help="avx2: the code an AVX2-only CPU runs, emulated on this host (see the module docstring)")
    args = parser.parse_args()
    if args.isa == "avx2" and not os.environ.get("NUMBA_CPU_NAME"):
        # numpy reads NPY_DISABLE_CPU_FEATURES at import: start again in an environment that has it
        os.execve(sys.executable, [sys.executable, *sys.argv], dict(os.environ, **avx2_environment()))
    draws = int(float(args.draws))
    print(f"machine: {cpu_name()}, {os.cpu_count()} cores, python {sys.version.split()[0]}")
    if args.against:
        compare_installs(args.against, args.draws, args.repeats)
    # every figure is the median of `--repeats` runs, printed with the runs: a shared 2-core machine is noisy
    # (one-sided: other load only slows a run down)
    repeats = args.repeats
    cold_runs = []
    for _ in range(repeats):
        with tempfile.TemporaryDirectory() as fresh:  # an empty cache each time: the first run after install
            cold_runs.append(run_cli(args.draws, fresh))
    with tempfile.TemporaryDirectory() as cache:
        run_cli("1000", cache)  # compile once for the warm runs
        warm_runs = [run_cli(args.draws, cache) for _ in range(repeats)]
        startup_runs = [run_cli("1", cache) for _ in range(repeats)]
        central_runs = [run_cli(args.draws, cache, sys.executable, "--no-judgement") for _ in range(repeats)]
        big_runs = [run_cli("1e8", cache) for _ in range(repeats)] if args.big else []
    cold, warm, central, startup = (statistics.median(w for w, _ in runs)
                                    for runs in (cold_runs, warm_runs, central_runs, startup_runs))
    print(f"risk simulate --draws {args.draws} (default scenario, all statistics); median (runs), peak RSS max:")
    print(f"  cold (first compile): {cold:6.2f} s {_runs(cold_runs)}   peak RSS {_rss(cold_runs)}")
    print(f"  warm, with its judgement band (64 calibrations): {warm:6.2f} s {_runs(warm_runs)}   "
          f"peak RSS {_rss(warm_runs)}")
    print(f"  warm, --no-judgement (one calibration): {central:6.2f} s {_runs(central_runs)}   peak RSS "
          f"{_rss(central_runs)}; two levels / one: {warm / central:.2f}")
    print(f"  start-up alone (1 draw, warm): {startup:.2f} s {_runs(startup_runs)}   peak RSS {_rss(startup_runs)}")
    print(f"  draws/s (warm, whole process, with judgement): {draws / warm:,.0f}   "
          f"ns per draw: {warm / draws * 1e9:,.0f}; without start-up: {(warm - startup) / draws * 1e9:,.0f}")
    print(f"  cold / warm: {cold / warm:.1f}")
    if big_runs:
        print(f"  1e8 draws: {statistics.median(w for w, _ in big_runs):.2f} s {_runs(big_runs)}   "
              f"peak RSS {_rss(big_runs)}")
    from risk.scenario import load_scenario

    scenario = load_scenario("default")
    n_numpy = int(float(args.numpy_draws))
    numpy_runs = []
    for _ in range(repeats):
        start = time.perf_counter()
        numpy_model(scenario, n_numpy, args.numpy_chunk, 1)
        numpy_runs.append((time.perf_counter() - start) * draws / n_numpy)
    numpy_seconds = statistics.median(numpy_runs)
    print(f"plain numpy, chunks of {args.numpy_chunk:,} ({n_numpy:,} draws timed, scaled to {draws:,}): "
          f"{numpy_seconds:.1f} s ({', '.join(f'{w:.1f}' for w in numpy_runs)}) -> risk is "
          f"{numpy_seconds / central:.1f}x faster (warm, whole process, one calibration like the numpy version)")
    floors = [rng_floor(min(draws, 10**7)) for _ in range(repeats)]
    floor = statistics.median(floors)
    print(f"floor: variates only (normal scores + prior values), {os.cpu_count()} threads: {floor:.0f} ns per draw "
          f"({', '.join(f'{f:.0f}' for f in floors)}); the judged run is {warm / draws * 1e9 / floor:.2f}x the "
          f"floor ({(warm - startup) / draws * 1e9 / floor:.2f}x without start-up)")
    sampler_report(int(float(args.sampler_draws)))
    print(f"peak RSS of this benchmark process: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")


def sampler_report(draws: int) -> None:
    """Variance-reduction factor of each sampler against plain MC, per draw, on the default scenario.

    VRF = (se_mc**2 * n_mc) / (se**2 * n): how many plain draws one draw of the
    sampler is worth (errors of antithetic and rqmc come from batches/replicates).
    """
    import risk

    print(f"samplers on the default scenario, {draws:,} draws (sector and anthropic; warm wall times):")
    runs = {}
    for sampler in ("mc", "antithetic", "rqmc"):
        # one calibration: the samplers are compared on the same one-level problem
        risk.simulate(draws=1024, seed=1, sampler=sampler, threads=2, judgement=False)  # compile or load first
        start = time.perf_counter()
        runs[sampler] = risk.simulate(draws=draws, seed=1, sampler=sampler, threads=2, judgement=False)
        runs[sampler].wall_seconds = time.perf_counter() - start
    for sampler, result in runs.items():
        parts = [f"  {sampler:<10} {result.draws:>11,} draws {result.wall_seconds:6.2f} s"]
        for entity in ("anthropic", "sector"):
            mc, this = runs["mc"][entity], result[entity]
            for label, base, se in (("p_shortfall", mc.p_shortfall["mcse"], this.p_shortfall["mcse"]),
                                    ("gap mean", mc.funding_gap_mean_mcse, this.funding_gap_mean_mcse)):
                vrf = (base**2 * runs["mc"].draws) / (se**2 * result.draws) if se > 0 else float("inf")
                parts.append(f"{entity} {label} VRF {vrf:6.1f}")
        print("  ".join(parts))


if __name__ == "__main__":
    main()
