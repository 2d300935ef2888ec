"""Compiling a scenario for the kernels (``risk.scenario.compile``)."""

import tomllib

import numpy as np
import pytest
from scipy.special import ndtr

from risk.kernels.sampling import FAMILY_FIXED, FAMILY_TABLE, SPEC_FAMILY, SPEC_P0, SPEC_ROW, TABLE_POINTS
from risk.scenario.compile import (ARRAYS, _affine_table, build_table, compile_calibrations, compile_scenario,
                                   pinned, prior_variates, z_grid)
from risk.scenario.distributions import parse_prior
from risk.scenario.schema import calibrated_document, core_document
from risk.scenario.overrides import Override, transform


def _interpolate(table, z):
    # the kernel's lookup (kernels.sampling.sample_values), in numpy
    grid = z_grid()
    return np.interp(z, grid, table[:TABLE_POINTS])


def test_tables_are_within_2e_6_of_the_exact_distribution(small_scenario):
    # the accuracy compile.py's docstring promises: Kolmogorov distance of the tabulated family
    compiled = compile_scenario(small_scenario, use_cache=False)
    spec, tables = compiled.arrays["spec"], compiled.arrays["tables"]
    z = np.linspace(-5.0, 5.0, 200_001)
    checked = set()
    for path, (prior, columns) in prior_variates(small_scenario).items():
        if spec[columns[0], SPEC_FAMILY] != FAMILY_TABLE:
            continue
        x = _interpolate(tables[int(spec[columns[0], SPEC_ROW])], z)
        distance = np.max(np.abs(prior.frozen().cdf(x) - ndtr(z)))
        assert distance < 2e-6, (path, prior.family, distance)
        checked.add(prior.family)
    assert {"beta", "pert", "gamma", "triangular", "uniform", "truncated_normal"} <= checked


def test_the_cache_returns_what_was_built_and_rebuilds_a_damaged_entry(small_scenario, tmp_path, monkeypatch):
    monkeypatch.setenv("RISK_CACHE_DIR", str(tmp_path))
    built = compile_scenario(small_scenario)
    entries = list(tmp_path.rglob("*.npz"))
    assert len(entries) == 1
    loaded = compile_scenario(small_scenario)
    for name in ARRAYS:
        assert np.array_equal(built.arrays[name], loaded.arrays[name]), name
    entries[0].write_bytes(b"not an npz")
    again = compile_scenario(small_scenario)
    assert np.array_equal(again.arrays["spec"], built.arrays["spec"])


def test_a_calibration_recompiles_only_the_priors_it_changes(small_scenario):
    compiled = compile_scenario(small_scenario, use_cache=False)
    same = calibrated_document(core_document(small_scenario), [], source="t")
    moved = calibrated_document(core_document(small_scenario), [
        Override("set", "companies.alpha.opex_ratio_initial.p50", 0.5, "t")], source="t")
    judged, specs, orders, starts = compile_calibrations(small_scenario, compiled, [same, moved])
    assert np.array_equal(specs[0], compiled.arrays["spec"])
    (column,) = prior_variates(small_scenario)["companies.alpha.opex_ratio_initial"][1]
    changed = np.flatnonzero((specs[1] != specs[0]).any(axis=1))
    assert list(changed) == [column]
    # the moved prior's new table sits after the central ones, and samples its new median
    row = int(specs[1][column, SPEC_ROW])
    assert row >= compiled.arrays["tables"].shape[0] - 1
    assert _interpolate(judged.arrays["tables"][row], np.array([0.0]))[0] == pytest.approx(0.5, abs=1e-4)


def test_a_calibration_may_not_change_the_structure(small_scenario):
    compiled = compile_scenario(small_scenario, use_cache=False)
    other = calibrated_document(core_document(small_scenario), [
        Override("set", "companies.beta.contracts.gpu.capacity_gw", [2, 2, 2, 2], "t")], source="t")
    with pytest.raises(ValueError, match="more than priors"):
        compile_calibrations(small_scenario, compiled, [other])


def test_pinned_fixes_the_variates_and_keeps_the_rest(small_scenario):
    compiled = compile_scenario(small_scenario, use_cache=False)
    columns = prior_variates(small_scenario)["companies.alpha.revenue0"][1]
    fixed = pinned(compiled, columns, 12.0)
    spec = fixed.arrays["spec"]
    assert (spec[columns, SPEC_FAMILY] == FAMILY_FIXED).all() and (spec[columns, SPEC_P0] == 12.0).all()
    others = np.setdiff1d(np.arange(spec.shape[0]), columns)
    assert np.array_equal(spec[others], compiled.arrays["spec"][others])
    # revenue0 was in the copula: the copula keeps only the other prior (none left to correlate)
    assert fixed.arrays["copula_index"].size == 0


@pytest.mark.parametrize("prior, factor, delta", [
    ('{ dist = "beta", p5 = 0.3, p95 = 0.6 }', 1.3, 0.0),
    ('{ dist = "beta", p5 = 0.3, p95 = 0.6 }', 1.0, 0.08),
    ('{ dist = "pert", low = 0.1, mode = 0.3, high = 0.5 }', 0.7, 0.02),
    ('{ dist = "gamma", p5 = 0.2, p95 = 0.6 }', 1.2, 0.0),
    ('{ dist = "uniform", low = 0.2, high = 0.5 }', 1.1, 0.05),
])
def test_a_scaled_or_shifted_table_is_the_transformed_table(prior, factor, delta):
    # the affine shortcut of compile_calibrations against scipy's quantile function of the moved prior
    old = parse_prior(tomllib.loads(f"x = {prior}")["x"], key="x", source="t")
    new = transform(old, factor, delta)
    shortcut = _affine_table(old, new, build_table(old))
    assert shortcut is not None
    np.testing.assert_allclose(shortcut, build_table(new), rtol=1e-9, atol=1e-12)
