"""Numba kernels: pure functions of arrays and scalars (nothing public)."""
