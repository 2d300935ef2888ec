"""Numba kernels: pure functions of arrays and scalars (nothing public)."""

from .._inline_copy import install as _install_inline_copy

_install_inline_copy()  # numba's inliner copies a callee once, not once per block (see risk._inline_copy)
