"""Scenario files: parsing, validation, prior families and compilation for the kernels."""

from .distributions import FAMILIES, Prior, parse_prior
from .schema import EMBEDDED, Scenario, embedded_path, load_scenario, parse_scenario

__all__ = ["FAMILIES", "EMBEDDED", "Prior", "Scenario", "embedded_path", "load_scenario",
           "parse_prior", "parse_scenario"]
