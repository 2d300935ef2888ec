"""How the kernels are compiled: ``numba.njit`` without LLVM's loop strength reduction, drivers optimised once.

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

Drivers (``driver``: the batch kernels the engine's threads call, which loop
over blocks and call the model's stages) are optimised once, not twice.
numba links a kernel's callees into its module and runs LLVM's O3 pipeline
over the whole twice (a cheaper run, loop vectorisation without SLP, to prune
reference counts, then the full one); a driver's callees arrive optimised in
full from their own compilation, so the second run optimised the model once
more for nothing (2.9 s of ``run_batch``'s compile).  Every feature's first
run in turn (``benchmarks/bench_compile.py``) took 33.5 s with both runs and
24.1 s with one (kept draws 4.8 -> 2.1 s, calibrate 6.9 -> 4.1 s); warm runs of
each feature are as fast, and their numbers bit-identical.  The cost: a
driver's own loops get only the first run, so the arithmetic belongs in its
callees (``simulate._add_floats`` is one, not inlined, for this reason).
"""

import types

import llvmlite.binding as llvm
import numba
from numba.core import codegen, config
from numba.core.compiler import Compiler
from numba.core.runtime.nrtopt import remove_redundant_nrt_refct

# a numba on LLVM's new pass manager (codegen._pass_builder, as 0.68), whose first module run
# _optimize_once reproduces; a numba on the legacy one keeps both of its runs
NEW_PASS_MANAGER = hasattr(codegen.CPUCodegen, "_pass_builder")
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


class DriverCompiler(KernelCompiler):
    """The kernels' compiler for a driver: its module is optimised once (see the module notes)."""

    def _compile_core(self):
        state = self.state
        if NEW_PASS_MANAGER:  # otherwise numba's own two runs, as written for an older numba
            if state.library is None:
                # what numba's lowering pass does when it finds no library, done first so that the
                # library's final optimisation can be set (numba.core.typed_passes.BaseNativeLowering)
                state.library = state.targetctx.codegen().create_library(state.func_id.func_qualname)
                state.library.enable_object_caching()
            state.library._optimize_final_module = types.MethodType(_optimize_once, state.library)
        return super()._compile_core()


def _optimize_once(library):
    # numba's codegen.CPUCodeLibrary._optimize_final_module without its second, full run
    generator = library._codegen
    passes, builder = generator._module_pass_manager(loop_vectorize=generator._loopvect, slp_vectorize=False,
                                                     opt=generator._opt_level, cost="cheap")
    with library._recorded_timings.record("Module passes (cheap optimization for refprune)", builder):
        passes.run(library._final_module, builder)  # (numba's name, for NUMBA_LLVM_PASS_TIMINGS)
    if not config.LLVM_REFPRUNE_PASS:
        library._final_module = remove_redundant_nrt_refct(library._final_module)


def njit(*args, **options):
    """``numba.njit`` (same arguments) with the kernels' compiler."""
    return numba.njit(*args, pipeline_class=KernelCompiler, **options)


def driver(*args, **options):
    """``numba.njit`` (same arguments) for a driver: the kernels' compiler, its module optimised once."""
    return numba.njit(*args, pipeline_class=DriverCompiler, **options)
