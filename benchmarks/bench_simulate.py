"""Benchmark of ``risk simulate`` on the default scenario, in one run.

Prints: cold (first compile) and warm wall time of ``risk simulate --draws 1e7``,
draws/s, ns per draw, peak RSS, start-up alone (1 draw), the same model in
plain chunked numpy (the way a quant writes it in a notebook) and the ratio,
and the floor: ns per draw for only generating that draw's random variates;
then each sampler's variance-reduction factor (mc, antithetic, rqmc) on
``p_shortfall`` and the mean funding gap.

    python benchmarks/bench_simulate.py [--draws 1e7] [--numpy-draws 1e6] [--big] [--repeats 3]

``--big`` also runs 1e8 draws to show that peak memory does not grow.  The
warm and start-up times are the median of ``--repeats`` runs, printed with
each run's time (the machine is shared and noisy).
Each ``risk simulate`` runs in its own process (whole-process wall time and
peak RSS, as a user sees them); the numpy baseline runs in this process.
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


def run_cli(draws: str, cache_dir: str) -> tuple[float, float]:
    """Run ``risk simulate`` in a fresh process: (wall seconds, peak RSS MiB)."""
    env = dict(os.environ, RISK_CACHE_DIR=cache_dir)
    env.pop("NUMBA_CACHE_DIR", None)
    script = ("import resource, subprocess, sys, time; t = time.perf_counter(); "
              "p = subprocess.run([sys.executable, '-m', 'risk', 'simulate', '--draws', sys.argv[1], "
              "'--seed', '1', '--json'], stdout=subprocess.DEVNULL); "
              "w = time.perf_counter() - t; "
              "r = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024; "
              "print(p.returncode, w, r)")
    out = subprocess.run([sys.executable, "-c", script, draws], env=env, capture_output=True,
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
    """The coverage model of model.md in plain vectorised numpy, chunked."""
    rng = np.random.default_rng(seed)
    T = scenario.horizon
    t = np.arange(T)
    n_short = np.zeros(len(scenario.companies) + 1)
    gap_sum = np.zeros(len(scenario.companies) + 1)
    bands = []
    for start in range(0, draws, chunk):
        n = min(chunk, draws - start)
        discount = numpy_sample(scenario.discount_rate, n, rng)
        v = (1.0 / (1.0 + discount))[:, None] ** (t + 1)
        factor = rng.standard_normal((n, T))
        sector_e = np.zeros((n, T))
        sector_i = np.zeros((n, T))
        for c, company in enumerate(scenario.companies):
            pr = {name: numpy_sample(prior, n, rng) for name, prior in company.priors.items()
                  if name != "utilization"}
            util = numpy_sample(company.priors["utilization"], n * T, rng).reshape(n, T)
            rho = scenario.demand_correlation
            shock = np.sqrt(rho) * factor + np.sqrt(1 - rho) * rng.standard_normal((n, T))
            excess = 2.0 ** (-t[None, :] / pr["growth_halflife"][:, None])
            l1, lt = np.log1p(pr["growth_initial"])[:, None], np.log1p(pr["growth_terminal"])[:, None]
            demand = pr["revenue0"][:, None] * np.exp(np.cumsum(lt + (l1 - lt) * excess
                                                                 + pr["growth_vol"][:, None] * shock, axis=1))
            capacity = np.zeros((n, T))
            cost = np.zeros((n, T))
            for contract in company.contracts:
                cp = {name: numpy_sample(prior, n, rng) for name, prior in contract.priors.items()}
                ramp = np.asarray(contract.capacity_gw)
                position = t[None, :] - cp["ramp_delay"][:, None]
                padded = np.concatenate([[0.0], ramp])
                gw = cp["delivered_fraction"][:, None] * np.interp(position + 1, np.arange(T + 1), padded,
                                                                   left=0.0)
                if contract.kind == "lease":
                    unit = cp["lease_per_gw_year"]
                else:
                    unit = cp["capex_per_gw"] / cp["life_years"] + 8.76 * cp["pue"] * cp["power_price"] / 1000
                capacity += gw
                cost += gw * unit[:, None]
            supply = (capacity * (1 - pr["training_share"])[:, None] * util * pr["yield_per_gw"][:, None]
                      * (1 - pr["price_decline"])[:, None] ** t[None, :])
            revenue = np.minimum(demand, supply)
            opex = pr["opex_ratio_terminal"][:, None] + (pr["opex_ratio_initial"] - pr["opex_ratio_terminal"])[:, None] * excess
            earnings = revenue * (1 - opex)
            for e_idx, (earn, cst) in ((c, (earnings, cost)),):
                coverage = (earn * v).sum(1) / (cst * v).sum(1)
                n_short[e_idx] += np.count_nonzero(coverage < 1)
                gap_sum[e_idx] += (np.maximum(cst - earn, 0) * v).sum()
            sector_e += earnings
            sector_i += cost
            bands.append(np.percentile(revenue, [5, 25, 50, 75, 95], axis=0))
        coverage = (sector_e * v).sum(1) / (sector_i * v).sum(1)
        n_short[-1] += np.count_nonzero(coverage < 1)
        gap_sum[-1] += (np.maximum(sector_i - sector_e, 0) * v).sum()
    return {"p_shortfall": n_short / draws, "gap_mean": gap_sum / draws}


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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--draws", default="1e7")
    parser.add_argument("--numpy-draws", default="1e6")
    parser.add_argument("--numpy-chunk", type=int, default=10_000)
    parser.add_argument("--big", action="store_true", help="also run 1e8 draws (peak RSS)")
    parser.add_argument("--repeats", type=int, default=3, help="warm and start-up runs (their median is reported)")
    parser.add_argument("--sampler-draws", default="1e6", help="draws per sampler for the variance-reduction table")
    args = parser.parse_args()
    draws = int(float(args.draws))
    print(f"machine: {os.cpu_count()} cores, python {sys.version.split()[0]}")
    with tempfile.TemporaryDirectory() as cache:
        cold, cold_rss = run_cli(args.draws, cache)
        # a shared 2-core machine is noisy (one-sided: other load only slows a run down): the
        # warm figures are the median of `--repeats` runs, printed with their range
        warm_runs = [run_cli(args.draws, cache) for _ in range(args.repeats)]
        startup_runs = [run_cli("1", cache) for _ in range(args.repeats)]
        warm, warm_rss = statistics.median(w for w, _ in warm_runs), max(r for _, r in warm_runs)
        startup, startup_rss = statistics.median(w for w, _ in startup_runs), max(r for _, r in startup_runs)
        print(f"risk simulate --draws {args.draws} (default scenario, all statistics):")
        print(f"  cold (first compile): {cold:6.2f} s   peak RSS {cold_rss:6.0f} MiB")
        print(f"  warm:                 {warm:6.2f} s   peak RSS {warm_rss:6.0f} MiB   (median of {args.repeats}: "
              f"{', '.join(f'{w:.2f}' for w, _ in warm_runs)})")
        print(f"  start-up alone (1 draw, warm): {startup:.2f} s   peak RSS {startup_rss:.0f} MiB   "
              f"(median of {args.repeats}: {', '.join(f'{w:.2f}' for w, _ in startup_runs)})")
        print(f"  draws/s (warm, whole process): {draws / warm:,.0f}   ns per draw: {warm / draws * 1e9:,.0f}")
        if args.big:
            big, big_rss = run_cli("1e8", cache)
            print(f"  1e8 draws: {big:.2f} s   peak RSS {big_rss:.0f} MiB")
    from risk.scenario import load_scenario

    scenario = load_scenario("default")
    n_numpy = int(float(args.numpy_draws))
    start = time.perf_counter()
    numpy_model(scenario, n_numpy, args.numpy_chunk, 1)
    numpy_seconds = (time.perf_counter() - start) * draws / n_numpy
    print(f"plain numpy, chunks of {args.numpy_chunk:,} ({n_numpy:,} draws timed, scaled to {draws:,}): "
          f"{numpy_seconds:.1f} s -> risk is {numpy_seconds / warm:.1f}x faster (warm, whole process)")
    floor = rng_floor(min(draws, 10**7))
    print(f"floor: variates only (normal scores + prior values), {os.cpu_count()} threads: {floor:.0f} ns per draw")
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
        risk.simulate(draws=1024, seed=1, sampler=sampler, threads=2)  # compile or load first: times are warm
        start = time.perf_counter()
        runs[sampler] = risk.simulate(draws=draws, seed=1, sampler=sampler, threads=2)
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
