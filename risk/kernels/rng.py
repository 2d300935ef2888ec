"""Counter-based random numbers: every draw has its own, replayable stream.

Design (see ``performance-notes.md``, findings 2 and 3):

* Every random input of the model (a prior's variate, a year's growth shock)
  has its own stream, keyed by the seed and a 64-bit hash of its *name*
  (``stream_keys``).  A stream is a SplitMix64 sequence
  ``state_k = key + k * GOLDEN`` cut into disjoint blocks of
  ``2**DRAW_BLOCK_BITS`` states, one block per draw: draw ``d`` starts at
  ``key + d * 2**DRAW_BLOCK_BITS * GOLDEN``.  Because ``k -> k * GOLDEN`` is a
  bijection modulo 2**64, the blocks of one stream never overlap (up to 2**52
  draws), so results do not depend on the thread count, the chunk size or
  the number of machines, and any draw can be replayed alone.
* Keying streams by name makes common random numbers robust: two scenarios
  (or a scenario and its stress overlay) give a prior of the same name the
  same normal scores in every draw, whatever else they add, remove or fix.
  Two different streams could meet (share a state) only if their keys
  differ by less than ``draws * 2**12`` steps: for 200 streams and 1e7
  draws, a chance of about 1e-4 per run, and then only two draws of two
  inputs would share a score.
* A draw uses about one 64-bit word per standard normal (ziggurat, 256
  layers; the rare rejections take a few more), far below the 4096 words of
  its block.
* The state is a scalar local, passed in and returned, never held in an
  array (an array-held state was measured 10x slower).
"""

import math

import numpy as np
from ._jit import njit

GOLDEN = np.uint64(0x9E3779B97F4A7C15)
DRAW_BLOCK_BITS = 12
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_S30 = np.uint64(30)
_S27 = np.uint64(27)
_S31 = np.uint64(31)
_S11 = np.uint64(11)
_S8 = np.uint64(8)
_BLOCK = np.uint64(DRAW_BLOCK_BITS)
_MASK8 = np.uint64(255)
_ONE = np.uint64(1)
_TO_UNIT = 1.0 / 9007199254740992.0  # 2**-53


@njit(cache=True)
def mix64(z):
    """SplitMix64 output function: a bijective avalanche of a 64-bit word."""
    z = (z ^ (z >> _S30)) * _M1
    z = (z ^ (z >> _S27)) * _M2
    return z ^ (z >> _S31)


@njit(cache=True)
def seed_key(seed):
    """Map a user seed (a non-negative int64) to the sequence offset ``key``."""
    return mix64(np.uint64(seed) ^ np.uint64(0x5851F42D4C957F2D))


@njit(cache=True)
def draw_state(key, draw):
    """Return the first state of draw ``draw``'s block."""
    return key + draw_offset(draw)


@njit(cache=True)
def draw_offset(draw):
    """Return the offset of draw ``draw``'s block from the start of any stream."""
    return (np.uint64(draw) << _BLOCK) * GOLDEN


@njit(cache=True)
def stream_keys(key, stream_hashes):
    """Return the key of each named stream: ``mix64(key ^ hash)``.

    Parameters
    ----------
    key : numpy.uint64
        The seed's key (:func:`seed_key`).
    stream_hashes : numpy.ndarray of uint64
        64-bit hashes of the inputs' names (``risk.scenario.compile``).
    """
    keys = np.empty(stream_hashes.shape[0], dtype=np.uint64)
    for i in range(stream_hashes.shape[0]):
        keys[i] = mix64(key ^ stream_hashes[i])
    return keys


@njit(cache=True)
def next_uniform(state):
    """Return ``(u, state)`` with ``u`` uniform on the open interval (0, 1)."""
    state = state + GOLDEN
    word = mix64(state)
    return ((word >> _S11) + 0.5) * _TO_UNIT, state


def _ziggurat_tables(layers=256, r=3.6541528853610088, area=0.00492867323399):
    """Layer edges ``x`` (decreasing, ``x[layers] = 0``) and ``f(x)`` of N(0, 1).

    Marsaglia & Tsang (2000): ``layers`` strips of equal ``area`` under
    ``f(x) = exp(-x**2 / 2)``; strip 0 is the base strip with the tail beyond ``r``.
    """
    x = np.empty(layers + 1)
    x[0] = area / math.exp(-0.5 * r * r)
    x[1] = r
    for i in range(1, layers - 1):
        x[i + 1] = math.sqrt(-2.0 * math.log(area / x[i] + math.exp(-0.5 * x[i] * x[i])))
    x[layers] = 0.0
    return x, np.exp(-0.5 * x * x)


ZIG_X, ZIG_F = _ziggurat_tables()
ZIG_R = 3.6541528853610088


@njit(cache=True)
def _normal_tail(state, negative):
    # Marsaglia's exact tail sampler beyond ZIG_R; reached about once in 3,700 normals.
    while True:
        u1, state = next_uniform(state)
        u2, state = next_uniform(state)
        x = -math.log(u1) / ZIG_R
        y = -math.log(u2)
        if y + y >= x * x:
            break
    z = ZIG_R + x
    return (-z if negative else z), state


@njit(cache=True)
def _normal_slow(state, layer, negative, x):
    # Outside the layer's inner rectangle (about 1 % of words): the tail
    # beyond ZIG_R, or the wedge test; on rejection, start over.
    while True:
        if layer == 0:
            return _normal_tail(state, negative)
        u, state = next_uniform(state)
        y = ZIG_F[layer] + u * (ZIG_F[layer + 1] - ZIG_F[layer])
        if y < math.exp(-0.5 * x * x):
            return (-x if negative else x), state
        state = state + GOLDEN
        word = mix64(state)
        layer = np.int64(word & _MASK8)
        negative = ((word >> _S8) & _ONE) == _ONE
        x = ((word >> _S11) + 0.5) * _TO_UNIT * ZIG_X[layer]
        if x < ZIG_X[layer + 1]:
            return (-x if negative else x), state


@njit(cache=True)
def next_normal(state):
    """Return ``(z, state)`` with ``z`` standard normal (256-layer ziggurat).

    The low 8 bits of a word pick the layer, bit 8 the sign and the top 53
    bits the position; about 99 % of normals cost one word and no ``exp``.
    The fast path is loop-free so that it inlines into the caller's loop.
    """
    state = state + GOLDEN
    return _normal_from_word(state, mix64(state))


@njit(cache=True, inline="always")
def _normal_from_word(state, word):
    # the ziggurat on the word of ``state``: the fast path, or the slow one from there
    layer = np.int64(word & _MASK8)
    negative = ((word >> _S8) & _ONE) == _ONE
    x = ((word >> _S11) + 0.5) * _TO_UNIT * ZIG_X[layer]
    if x < ZIG_X[layer + 1]:
        return (-x if negative else x), state
    return _normal_slow(state, layer, negative, x)


@njit(cache=True, inline="always")
def fill_normals(key, offsets, words, z, row):
    """``z[row, lane] = next_normal(key + offsets[lane])`` for every lane.

    The same numbers as :func:`next_normal`, bit for bit, in three passes:
    the SplitMix64 words of all lanes (integer arithmetic), the ziggurat's
    fast path on every lane without a branch (a rejected lane gets NaN), and
    the slow path for the NaN lanes only (about 1 % of normals).  Both first
    passes run as SIMD code on AVX-512 and AVX2 alike; with the slow path
    inside the loop, only AVX-512's masked instructions had vectorised it
    (AVX2 code ran the ziggurat 2.9x slower: 4.3 against 1.5 ns per normal).
    ``words`` is scratch of one entry per lane.
    """
    lanes = offsets.shape[0]
    for lane in range(lanes):
        words[lane] = mix64(key + offsets[lane] + GOLDEN)
    rejected = 0
    for lane in range(lanes):
        word = words[lane]
        layer = np.int64(word & _MASK8)
        x = ((word >> _S11) + 0.5) * _TO_UNIT * ZIG_X[layer]
        sign = 1.0 - 2.0 * np.float64((word >> _S8) & _ONE)
        accept = x < ZIG_X[layer + 1]
        z[row, lane] = sign * x if accept else np.nan
        rejected += 0 if accept else 1
    if rejected:
        for lane in range(lanes):
            if z[row, lane] != z[row, lane]:
                z[row, lane], _ = _normal_from_word(key + offsets[lane] + GOLDEN, words[lane])
