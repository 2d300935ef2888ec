"""Scenario files: every class of bad input names the file, the key and the fix."""

import pytest

import risk
from risk.errors import InputError
from risk.scenario import embedded_path, parse_scenario


def _replace(text, old, new):
    assert old in text, old
    return text.replace(old, new, 1)


def _error(text):
    with pytest.raises(InputError) as info:
        parse_scenario(text, source="bad.toml")
    return str(info.value)


def test_small_scenario_is_valid(small_scenario):
    assert small_scenario.entities == ["alpha", "beta", "sector"]
    assert small_scenario.years == [2026, 2027, 2028, 2029]


def test_toml_syntax_error_has_line(small_scenario_text):
    message = _error(small_scenario_text.replace("horizon = 4", "horizon = = 4"))
    assert "bad.toml, line" in message and "TOML syntax error" in message


@pytest.mark.parametrize("old, new, expected", [
    ("cash0 = 10\n", "cash0 = 10\ncahs1 = 3\n", "unknown key 'cahs1'"),
    ("growth_vol = 0.1\n", "growth_voll = 0.1\n", "did you mean 'growth_vol'"),
    ("cash0 = 10\n", "", "companies.alpha.cash0"),
    ("horizon = 4", 'horizon = "4"', "whole number"),
    ("horizon = 4", "horizon = 0", "out of range"),
    ("cash0 = 10\n", "cash0 = nan\n", "finite"),
    ("discount_rate = 0.1", "discount_rate = -2", "discount_rate"),
    ("utilization = { dist = \"beta\", a = 8.1, b = 1.75 }", "utilization = 1.5", "companies.alpha.utilization"),
    ("training_share = 0.4", "training_share = { dist = \"normal\", mean = 0.4, sd = 0.5 }", "outside the domain"),
    ("capacity_gw = [1, 3, 5, 7]", "capacity_gw = [1, 3]", "horizon is 4"),
    ("capacity_gw = [1, 3, 5, 7]", "capacity_gw = [1, 3, -5, 7]", "negative"),
    ('kind = "lease"', 'kind = "leased"', "did you mean 'lease'"),
    ("lease_per_gw_year = { dist = \"lognormal\", p5 = 8, p95 = 18 }", "capex_per_gw = 40",
     "not used by a lease"),
    ("matrix = [[1, 0.3], [0.3, 1]]", "matrix = [[1, 1.2], [1.2, 1]]", "outside [-1, 1]"),
    ("demand_correlation = 0.5", "demand_correlation = 1.5", "demand_correlation"),
    # model v2 keys
    ("yield_per_gw = 60\n", "", "exactly one of revenue_per_gw"),
    ("yield_per_gw = 60\n", "yield_per_gw = 60\nrevenue_per_gw = 10\n", "both 'revenue_per_gw' and 'yield_per_gw'"),
    ("sbc_ratio_terminal = 0.05", "sbc_ratio_terminal = -0.05", "companies.alpha.sbc_ratio_terminal"),
    ('training_share_decay = { dist = "uniform", low = 0.0, high = 0.4 }', "training_share_decay = 1.5",
     "companies.alpha.training_share_decay"),
    ('financing_rate = { dist = "uniform", low = 0.0, high = 0.12 }', "financing_rate = -3", "financing_rate"),
    ("p_reopen = 0.5", "p_reopen = 1.5", "funding_market.p_reopen"),
    ("p_reopen = 0.5", "p_reopn = 0.5", "did you mean 'p_reopen'"),
    ('raise_multiple = { dist = "uniform", low = 0.5, high = 2.0 }\n', "", "funding_market.raise_multiple"),
    ('growth_hurdle = { dist = "uniform", low = 0.0, high = 0.5 }', "growth_hurdle = -2", "funding_market.growth_hurdle"),
])
def test_bad_input_names_key_and_fix(small_scenario_text, old, new, expected):
    message = _error(_replace(small_scenario_text, old, new))
    assert expected in message
    assert "bad.toml" in message and "allowed" in message


def test_correlation_matrix_must_be_positive_definite(small_scenario_text):
    text = _replace(small_scenario_text,
                    'priors = ["companies.alpha.revenue0", "companies.alpha.contracts.tpu.lease_per_gw_year"]\n'
                    "matrix = [[1, 0.3], [0.3, 1]]",
                    'priors = ["companies.alpha.revenue0", "companies.alpha.growth_initial", '
                    '"companies.alpha.contracts.tpu.lease_per_gw_year"]\n'
                    "matrix = [[1, 0.9, -0.9], [0.9, 1, 0.9], [-0.9, 0.9, 1]]")
    assert "not positive definite" in _error(text)


def test_correlation_names_unknown_prior(small_scenario_text):
    text = _replace(small_scenario_text, '"companies.alpha.revenue0"', '"companies.alpha.revenu0"')
    assert "did you mean 'companies.alpha.revenue0'" in _error(text)


def test_all_problems_reported_together(small_scenario_text):
    text = _replace(small_scenario_text, "cash0 = 10\n", "")
    text = _replace(text, "growth_vol = 0.2\n", "growth_vol = -1\n")
    message = _error(text)
    assert "2 problems" in message and "companies.alpha.cash0" in message and "companies.beta.growth_vol" in message


def test_embedded_scenarios_ship_inside_the_package():
    import pathlib

    package = pathlib.Path(risk.__file__).parent
    for name in ("default", "article-2025"):
        path = embedded_path(name)
        assert path.is_file() and package in path.parents
        assert risk.load_scenario(name).name == name


def test_worked_example_in_priors_readme_is_valid():
    import pathlib
    import re

    readme = pathlib.Path(__file__).resolve().parents[2] / "priors" / "README.md"
    example = re.search(r"```toml\n(.*?)```", readme.read_text(), re.S).group(1)
    scenario = parse_scenario(example, source="priors/README.md")
    assert scenario.entities == ["lab", "sector"] and scenario.horizon == 4


def test_v2_defaults_keep_a_v1_file_valid(small_scenario_text):
    # a file without the v2 keys: no stock pay, no training decay, owned hardware at capex / life
    # (financing_rate 0), no funding market (nobody raises)
    text = small_scenario_text
    for old in ('financing_rate = { dist = "uniform", low = 0.0, high = 0.12 }\n',
                "sbc_ratio_initial = { dist = \"uniform\", low = 0.1, high = 0.3 }\n", "sbc_ratio_terminal = 0.05\n",
                'training_share_decay = { dist = "uniform", low = 0.0, high = 0.4 }\n'):
        text = _replace(text, old, "")
    start = text.index("[funding_market]")
    text = text[:start] + text[text.index("[companies.alpha]"):]
    scenario = parse_scenario(text, source="v1.toml")
    assert scenario.funding_market is None and scenario.financing_rate.params == {"value": 0.0}
    alpha = scenario.companies[0].priors
    assert alpha["sbc_ratio_initial"].params == {"value": 0.0} and alpha["training_share_decay"].params == {"value": 0.0}


def test_structural_mistakes_of_one_company_are_listed_together(small_scenario_text):
    # an unknown company key, an unknown contract kind and a bad contract key: one run names all three
    text = (small_scenario_text.replace("[companies.alpha]\n", "[companies.alpha]\nrevnue = 3\n", 1)
            .replace('kind = "lease"', 'kind = "leese"', 1)
            .replace("notice_years = 1.5", "notice_years = -1", 1))
    with pytest.raises(InputError) as caught:
        parse_scenario(text)
    keys = {err.key for err in caught.value.errors}
    assert {"companies.alpha.revnue", "companies.beta.contracts.gpu.notice_years"} <= keys
    assert any(key.endswith(".kind") for key in keys)


@pytest.mark.parametrize("name", ["default", "article-2025"])
def test_every_section_reference_of_a_shipped_scenario_resolves_in_the_file(name):
    # the research file is not shipped: what "§1A" stands for must be in the scenario file itself
    import re

    from risk.scenario.schema import SOURCE_REFERENCE, referenced_sources

    text = embedded_path(name).read_text()
    scenario = risk.load_scenario(name)
    cited = set(SOURCE_REFERENCE.findall(text.split("[sources]")[0]))
    assert cited and cited <= set(scenario.sources)
    assert set(referenced_sources(scenario)) == cited
    for label in cited:  # each names primary sources with dates
        assert re.search(r"(19|20)\d\d", scenario.sources[label]) or label in ("§5", "§6")


@pytest.mark.parametrize("entry", ['"§1A" = ""', 'sources = "x"', '"1A" = "a source, 2026"'])
def test_a_bad_sources_table_is_refused(small_scenario_text, entry):
    text = small_scenario_text + (f"\n{entry}\n" if entry.startswith("sources") else f"\n[sources]\n{entry}\n")
    if entry.startswith("sources"):
        text = entry + "\n" + small_scenario_text
    with pytest.raises(InputError, match="sources"):
        parse_scenario(text)
