"""How the kernels are compiled: ``numba.njit`` with LLVM's loop strength reduction off.

Loop strength reduction (LSR, a pass of LLVM's code generator) rewrites the
address arithmetic of loops.  On the kernels' blocks of 64 lanes it was the
most expensive pass of the whole compilation: 1.9 s of the 8.4 s LLVM spent
on a first run of the default scenario (``llvmlite.binding.set_time_passes``),
``model_block`` twice over (once on its own, once linked into ``run_batch``).
Without it the first run compiles in 14.8 s instead of 17.3 s, and the
compiled kernels run as fast (``benchmarks/bench_simulate.py``: warm 1e7 draws
within the runs' noise, on AVX-512 and AVX2 code alike).

LLVM's options are global to the process, so the option is set only while a
kernel compiles (numba's compiler lock is held then, and a kernel compiles its
callees within its own compilation) and restored after: other numba code in
the same process (a notebook's own) compiles as it would without us.  Kernels
loaded from numba's cache are not compiled and are not affected.  As with any
change of how kernels compile, a change here does not invalidate numba's
cache, which is keyed to the kernels' sources: clear it to measure one.
"""

import llvmlite.binding as llvm
import numba
from numba.core.compiler import Compiler

_depth = 0  # kernel compilations in progress (nested: callees compile while their caller is typed)


class KernelCompiler(Compiler):
    """numba's own compiler, with LSR off for the duration (see the module notes)."""

    def _compile_core(self):
        global _depth
        if _depth == 0:
            llvm.set_option("", "-disable-lsr")
        _depth += 1
        try:
            return super()._compile_core()
        finally:
            _depth -= 1
            if _depth == 0:
                llvm.set_option("", "-disable-lsr=false")


def njit(*args, **options):
    """``numba.njit`` (same arguments) with the kernels' compiler."""
    return numba.njit(*args, pipeline_class=KernelCompiler, **options)
