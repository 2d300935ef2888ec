"""The inliner workaround: one scope copy per inlined callee, not one per block, and the same results."""

import copy

import numpy as np
import pytest
from numba import njit
from numba.extending import overload
from numba.core import inline_closurecall, ir

import risk.kernels  # noqa: F401 - installs the workaround, as every run does
from risk import _inline_copy


def _branches(x, n):
    # many blocks (loops and branches) and many variables: what made numba's copy quadratic
    total = 0.0
    for i in range(n):
        if x[i] > 0.5:
            total += x[i]
        elif x[i] > 0.25:
            total -= x[i]
        else:
            total *= 0.5
    for i in range(n):
        if i % 3 == 0:
            total += 1.0
    return total


def _reference(x):
    return _branches(x, len(x)) + _branches(x[::-1], len(x) // 2)


def _callee():
    """A fresh caller (no compiled or cached version yet) of ``_branches`` inlined at two sites."""
    branches = njit(inline="always")(_branches)

    @njit
    def caller(x):
        return branches(x, x.shape[0]) + branches(x[::-1], x.shape[0] // 2)

    return caller


@pytest.fixture
def scope_copies(monkeypatch):
    """The ids of the ``ir.Scope`` objects deep-copied while compiling."""
    copies = []

    def counting_deepcopy(self, memo):
        copies.append(id(self))
        new = ir.Scope.__new__(ir.Scope)
        memo[id(self)] = new
        new.__dict__.update(copy.deepcopy(self.__dict__, memo))
        return new

    monkeypatch.setattr(ir.Scope, "__deepcopy__", counting_deepcopy, raising=False)
    return copies


def test_an_inlined_function_is_not_copied(scope_copies):
    # inline="always": numba builds the callee's IR afresh for each call site, copies it twice and
    # discards both copies after inlining; the workaround inlines the fresh IR itself
    assert _inline_copy.install()
    x = np.random.default_rng(1).random(50)
    assert _callee()(x) == _reference(x)
    assert scope_copies == []
    assert _inline_copy._state.memos == [] and not _inline_copy._state.fresh  # nothing outlives a call


def _overload_caller():
    """A fresh caller of ``_branches`` through an overload inlined at two sites (numba's typed inliner,
    which inlines one shared IR and so must copy it)."""
    def branches(x, n):
        raise NotImplementedError

    @overload(branches, inline="always")
    def _branches_overload(x, n):
        return _branches

    @njit
    def caller(x):
        return branches(x, x.shape[0]) + branches(x[::-1], x.shape[0] // 2)

    return caller


def test_a_shared_callee_ir_copies_its_scope_once_per_copy(scope_copies):
    assert _inline_copy.install()
    x = np.random.default_rng(3).random(30)
    assert _overload_caller()(x) == _reference(x)
    # two inlined calls, each copying the shared IR twice (numba keeps an unchanged copy), each copy with
    # the callee's scope and its parent: 8 scope copies, where numba alone copies both once per block of
    # the callee (the next test)
    assert len(scope_copies) == 8
    assert _inline_copy._state.memos == []


def test_without_the_workaround_the_scope_is_copied_per_block(scope_copies, monkeypatch):
    # the counters above can fail: the same compiles through numba's own inliner copy the scope per block
    worker = inline_closurecall.InlineWorker
    monkeypatch.setattr(worker, "inline_ir", worker.inline_ir.__wrapped__)
    monkeypatch.setattr(worker, "inline_function", worker.inline_function.__wrapped__)
    monkeypatch.setattr(inline_closurecall, "copy", copy)
    x = np.random.default_rng(2).random(40)
    assert _callee()(x) == _reference(x)
    inlined = len(scope_copies)
    assert inlined > 8 * 10
    assert _overload_caller()(x) == _reference(x)
    assert len(scope_copies) - inlined > 8 * 10


def test_install_is_idempotent():
    wrapped = inline_closurecall.InlineWorker.inline_ir
    assert _inline_copy.install() and _inline_copy.install()
    assert inline_closurecall.InlineWorker.inline_ir is wrapped
