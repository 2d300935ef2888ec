"""The counter-based normal generator: correct moments, replayable draws."""

import math

import numpy as np
from numba import njit
from scipy import stats

from risk.kernels.rng import draw_state, next_normal, seed_key


@njit
def _normals(seed, first_draw, n_draws, per_draw):
    key = seed_key(seed)
    out = np.empty((n_draws, per_draw))
    for d in range(n_draws):
        state = draw_state(key, first_draw + d)
        for i in range(per_draw):
            out[d, i], state = next_normal(state)
    return out


def test_normals_are_standard_normal():
    sample = _normals(1, 0, 100_000, 4).ravel()
    n = sample.size
    assert abs(sample.mean()) < 4 / math.sqrt(n)
    assert abs(sample.var() - 1) < 4 * math.sqrt(2 / n)
    assert stats.kstest(sample, "norm").pvalue > 1e-4
    # the tails beyond the ziggurat base (|z| > 3.654) are reached at their normal rate
    tail = np.mean(np.abs(sample) > 3.6541528853610088)
    p = 2 * stats.norm.sf(3.6541528853610088)
    assert abs(tail - p) < 4 * math.sqrt(p / n)


def test_any_draw_replays_alone():
    block = _normals(5, 0, 1000, 8)
    assert np.array_equal(_normals(5, 637, 1, 8)[0], block[637])


def test_draws_are_uncorrelated_across_neighbours():
    block = _normals(9, 0, 50_000, 2)
    r = np.corrcoef(block[:-1, 0], block[1:, 0])[0, 1]
    assert abs(r) < 4 / math.sqrt(len(block))
