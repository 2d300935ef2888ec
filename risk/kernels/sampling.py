"""Turn a standard-normal score into a prior's value: ``x = F^-1(Phi(z))``.

Every prior is sampled from one normal score ``z``, so a Gaussian copula
(correlated priors) costs nothing extra: feed a correlated ``z``.  Normal and
lognormal are exact (``mu + sigma * z``, its exponential within 1 ulp); the
families without a cheap inverse (truncated normal, beta, PERT, gamma,
uniform, triangular) go through a table of ``F^-1(Phi(z))`` on ``z`` in
``[-Z_MAX, Z_MAX]``, evaluated by linear interpolation
(``risk.scenario.compile`` builds it and documents its accuracy).  Discrete
priors compare ``z`` with the normal scores of their cumulative weights:
exact.
"""

from ._jit import njit

from .elementary import exp

FAMILY_FIXED = 0
FAMILY_NORMAL = 1
FAMILY_LOGNORMAL = 2
FAMILY_TABLE = 3
FAMILY_DISCRETE = 4

Z_MAX = 8.5
TABLE_POINTS = 4097
_CELLS_PER_Z = (TABLE_POINTS - 1) / (2.0 * Z_MAX)
_CENTRE = (TABLE_POINTS - 1) / 2.0
_LAST_POSITION = TABLE_POINTS - 1.0 - 1e-9  # keeps cell + 1 inside the table


# Columns of the per-variate ``spec`` array.
SPEC_FAMILY = 0
SPEC_P0 = 1  # fixed: value; normal: mean; lognormal: mu; discrete: number of values
SPEC_P1 = 2  # normal: sd; lognormal: sigma
SPEC_P2 = 3  # normal: lowest value; lognormal: loc
SPEC_P3 = 4  # normal: highest value
SPEC_ROW = 5  # row of ``tables`` (table and discrete families)
SPEC_COLUMNS = 6


def fill_fixed(values, spec):
    """Write the fixed priors' values into every lane of ``values`` (numpy; once per scratch block)."""
    fixed = spec[:, SPEC_FAMILY] == FAMILY_FIXED
    values[fixed, :] = spec[fixed, SPEC_P0][:, None]


@njit(cache=True, error_model="numpy", inline="always")
def sample_values(z, values, spec, tables, order, family_start):
    """Turn the normal scores ``z`` of a block of draws into prior values.

    Parameters
    ----------
    z : numpy.ndarray of shape (n_z, lanes)
        Normal scores of the block's draws (one column per draw); variate
        ``v`` uses row ``v``.
    values : numpy.ndarray of shape (n_variates, lanes)
        Output (fixed priors are left as :func:`fill_fixed` wrote them).
    spec : numpy.ndarray of shape (n_variates, SPEC_COLUMNS)
        Family code and parameters of each variate (see ``SPEC_*``).
    tables : numpy.ndarray of shape (n_tables, width)
        Quantile tables on the z grid; a discrete prior's row holds its
        ``k - 1`` thresholds ``Phi^-1(cumulative weight)`` then its ``k`` values.
    order : numpy.ndarray of int64
        The non-fixed variates grouped by family: normal, lognormal, table,
        discrete.
    family_start : numpy.ndarray of int64, shape (5,)
        Where each group starts in ``order`` (and where the last ends).

    Notes
    -----
    One branch-free loop per family, lanes innermost: the normal, lognormal
    (``elementary.exp``) and table loops compile to SIMD code.
    """
    lanes = values.shape[1]
    for j in range(family_start[0], family_start[1]):
        v = order[j]
        mean, sd, lowest, highest = spec[v, SPEC_P0], spec[v, SPEC_P1], spec[v, SPEC_P2], spec[v, SPEC_P3]
        for lane in range(lanes):
            # clamped to the prior's domain: validation allows a normal only when
            # it puts less than 1e-6 of its mass outside it
            values[v, lane] = min(max(mean + sd * z[v, lane], lowest), highest)
    for j in range(family_start[1], family_start[2]):
        v = order[j]
        mu, sigma, loc = spec[v, SPEC_P0], spec[v, SPEC_P1], spec[v, SPEC_P2]
        for lane in range(lanes):
            values[v, lane] = loc + exp(mu + sigma * z[v, lane])
    for j in range(family_start[2], family_start[3]):
        v = order[j]
        row = int(spec[v, SPEC_ROW])
        for lane in range(lanes):
            position = min(max(z[v, lane] * _CELLS_PER_Z + _CENTRE, 0.0), _LAST_POSITION)
            cell = int(position)
            left = tables[row, cell]
            values[v, lane] = left + (position - cell) * (tables[row, cell + 1] - left)
    for j in range(family_start[3], family_start[4]):
        # u = Phi(z) < cumulative_i  <=>  z < Phi^-1(cumulative_i): exact, no erfc
        v = order[j]
        row = int(spec[v, SPEC_ROW])
        count = int(spec[v, SPEC_P0])
        for lane in range(lanes):
            pick = count - 1
            for i in range(count - 1):
                if z[v, lane] < tables[row, i]:
                    pick = i
                    break
            values[v, lane] = tables[row, count - 1 + pick]
