"""The kernels' compiler: loop strength reduction off while a kernel compiles, back on for other code."""

import llvmlite.binding as llvm
import numba
import numpy as np
import pytest

from risk.kernels import _jit


def _strided_sum(a, step):
    # a loop whose addresses LSR would rewrite
    total = 0.0
    for i in range(0, a.shape[0], step):
        total += a[i] * i
    return total


def _lsr_lines(report):
    # LSR's own timer is now and then missing from LLVM's report although it ran (~5 % of runs here); the
    # analysis only LSR asks for in the code generator, "Induction Variable Users", is there when LSR is
    return [line for line in report.splitlines()
            if "Loop Strength Reduction" in line or "Induction Variable Users" in line]


@pytest.fixture
def pass_report():
    numba.njit(lambda x: x + 1)(1)  # numba's one-time set-up compiles too: not what is measured
    llvm.set_time_passes(True)
    llvm.report_and_reset_timings()
    yield lambda: llvm.report_and_reset_timings()
    llvm.set_time_passes(False)
    llvm.report_and_reset_timings()


def test_a_kernel_compiles_without_lsr_and_other_code_with_it(pass_report):
    a = np.arange(100.0)
    kernel = _jit.njit(_strided_sum)  # a new dispatcher: compiled here, not loaded from a cache
    assert kernel(a, 3) == _strided_sum(a, 3)
    assert _lsr_lines(pass_report()) == []
    assert _jit._depth == 0
    other = numba.njit(_strided_sum)  # numba's own njit afterwards: LLVM's default pipeline again
    assert other(a, 3) == _strided_sum(a, 3)
    assert _lsr_lines(pass_report()) != []


def test_the_option_is_restored_when_a_kernel_fails_to_compile(pass_report):
    def untypable(a):
        return a + "text"

    with pytest.raises(numba.core.errors.TypingError):
        _jit.njit(untypable)(np.ones(3))
    assert _jit._depth == 0
    pass_report()

    def strided_product(a, step):  # a new function: nothing compiled before can stand in for it
        total = 1.0
        for i in range(0, a.shape[0], step):
            total *= a[i] + i
        return total

    assert numba.njit(strided_product)(np.ones(10), 2) == strided_product(np.ones(10), 2)
    assert _lsr_lines(pass_report()) != []


def _passes(dispatcher):
    (overload,) = dispatcher.overloads.values()
    return [record.name for record in overload.metadata["llvm_pass_timings"]]


def test_a_driver_is_optimised_once_after_linking_and_computes_the_same(monkeypatch):
    monkeypatch.setattr(numba.core.config, "LLVM_PASS_TIMINGS", 1)  # numba reads it as it optimises

    def caller(a):
        total = 0.0
        for step in range(1, 4):
            total += leaf(a, step)
        return total

    leaf = _jit.njit(_strided_sum)
    driver = _jit.driver(caller)
    kernel = _jit.njit(caller)
    a = np.arange(50.0)
    expected = sum(_strided_sum(a, step) for step in range(1, 4))
    assert driver(a) == kernel(a) == expected
    once, twice = _passes(driver), _passes(kernel)
    assert "Module passes (full optimization)" in twice  # numba's second run, over the linked callee
    assert "Module passes (full optimization)" not in once
    assert "Module passes (cheap optimization for refprune)" in once
    assert "Module passes (full optimization)" in _passes(leaf)  # the callee itself: both runs


def test_a_numba_of_another_shape_keeps_both_runs(monkeypatch):
    # _optimize_once is written for numba's new-pass-manager codegen; on any other, numba's own runs
    monkeypatch.setattr(numba.core.config, "LLVM_PASS_TIMINGS", 1)
    monkeypatch.setattr(_jit, "NEW_PASS_MANAGER", False)

    def caller(a):
        return leaf(a, 2) + leaf(a, 3)

    leaf = _jit.njit(_strided_sum)
    driver = _jit.driver(caller)
    a = np.arange(20.0)
    assert driver(a) == _strided_sum(a, 2) + _strided_sum(a, 3)
    assert "Module passes (full optimization)" in _passes(driver)
