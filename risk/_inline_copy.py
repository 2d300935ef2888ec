"""Workarounds for numba's IR copies when it inlines: quadratic (numba issue #8989, open in 0.68), and needless.

numba's inliner (``InlineWorker.inline_ir``) deep-copies the callee's IR one
block at a time, each block with a memo of its own, so every block copies the
function's whole variable scope again: the cost is blocks x variables.  The
model's stages are inlined into ``model_block`` (``inline="always"``: one call
site each, 5 % faster warm), and that copy took 7.9 s of a 26 s first run.

Here the blocks of one ``inline_ir`` call share one memo, so the scope is
copied once, as a deep copy of the whole IR would do: the copied statements
and variables are the same, only the duplicate scopes are gone.  numba itself
counts the callee's scopes by equality and expects one
(``_get_all_scopes``), so it already treats the copies as one scope.

Besides, ``inline_ir`` copies the callee's IR twice (to protect it, and to
return an unchanged copy).  Where the IR comes from ``inline_function`` (the
``inline="always"`` kernels' helpers), it was built afresh for this call site
and both of numba's callers discard the returned copy: there the blocks are
inlined without copying (0.65 s of the default scenario's first run, the same
machine code).  Overloads inlined by the typed pass share one IR: those are
copied, once per copy.

Installed when ``risk.kernels`` is imported (``install``), before any kernel
compiles; a numba whose inliner no longer has this shape is left alone (the
workaround is then skipped, never half-applied).
"""

from __future__ import annotations

import copy
import threading

_state = threading.local()


class _SharedMemoCopy:
    """The ``copy`` module as numba's inliner sees it: ``deepcopy`` inside ``inline_ir`` shares one memo."""

    def __getattr__(self, name):
        return getattr(copy, name)

    @staticmethod
    def deepcopy(x, memo=None):
        memos = getattr(_state, "memos", None)
        if memo is None and memos:
            memo = memos[-1]
            if memo is None:  # a fresh callee IR, its copies discarded: nothing to copy
                return x
        return copy.deepcopy(x, memo)


def install() -> bool:
    """Share one memo among the block copies of each numba ``inline_ir`` call, and copy no fresh IR; True
    when in place."""
    try:
        from numba.core import inline_closurecall as icc
    except ImportError:
        return False
    if isinstance(getattr(icc, "copy", None), _SharedMemoCopy):
        return True  # in place already
    worker = getattr(icc, "InlineWorker", None)
    original = getattr(worker, "inline_ir", None)
    if (original is None or getattr(icc, "copy", None) is not copy
            or not hasattr(worker, "inline_function") or not hasattr(worker, "run_untyped_passes")):
        return False  # another numba than the one this was written for: leave it as it is

    def inline_ir(self, *args, **kwargs):
        memos = _state.__dict__.setdefault("memos", [])
        fresh, _state.fresh = getattr(_state, "fresh", False), False
        memos.append(None if fresh else {})
        try:
            return original(self, *args, **kwargs)
        finally:
            memos.pop()

    def inline_function(self, caller_ir, block, i, function, arg_typs=None):
        # numba's own body; the IR it inlines is fresh and both callers discard the copy it returns
        callee_ir = self.run_untyped_passes(function)
        _state.fresh = True
        return self.inline_ir(caller_ir, block, i, callee_ir, function.__code__.co_freevars, arg_typs=arg_typs)

    inline_ir.__wrapped__ = original
    inline_function.__wrapped__ = worker.inline_function
    icc.copy = _SharedMemoCopy()
    worker.inline_ir = inline_ir
    worker.inline_function = inline_function
    return True
