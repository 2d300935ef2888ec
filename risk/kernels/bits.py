"""Bit casts between float64 and int64 (no conversion), for numba kernels.

Reading a double's IEEE-754 bits gives its binary exponent for free (the
histogram bins); writing them builds ``2**k`` without a ``pow`` call (the
exponential).  Both compile to a single register move, and vectorise.
"""

from llvmlite import ir
from numba import types
from numba.extending import intrinsic


@intrinsic
def float_bits(typingctx, value):
    """Reinterpret a float64 as an int64."""
    if value != types.float64:
        return None

    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], ir.IntType(64))

    return types.int64(types.float64), codegen


@intrinsic
def bits_float(typingctx, value):
    """Reinterpret an int64 as a float64."""
    if value != types.int64:
        return None

    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], ir.DoubleType())

    return types.float64(types.int64), codegen
