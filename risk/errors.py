"""Exception classes: every bad input names its file, its key and the fix."""

from __future__ import annotations


class RiskError(Exception):
    """Base class of the errors ``risk`` raises on purpose."""


class InputError(RiskError, ValueError):
    """Bad user input: a scenario file, an override or a command-line value.

    Parameters
    ----------
    problem : str
        What is wrong, in one sentence.
    source : str, optional
        The file (or ``--option``) the bad value came from.
    key : str, optional
        The dotted key path inside the file, e.g.
        ``companies.openai.contracts.amd.lease_per_gw_year``.
    allowed : str, optional
        What would be accepted instead: the fix.
    line : int, optional
        Line number in the file, when it is known (TOML syntax errors).
    """

    def __init__(self, problem: str, *, source: str | None = None, key: str | None = None,
                 allowed: str | None = None, line: int | None = None):
        self.problem = problem
        self.source = source
        self.key = key
        self.allowed = allowed
        self.line = line
        super().__init__(self.message)

    @property
    def message(self) -> str:
        where = self.source or "<input>"
        if self.line is not None:
            where += f", line {self.line}"
        if self.key:
            where += f", key '{self.key}'"
        text = f"{where}: {self.problem}"
        if self.allowed:
            text += f" (allowed: {self.allowed})"
        return text


class InputErrors(InputError):
    """Several input errors found in one pass, reported together."""

    def __init__(self, errors: list[InputError]):
        self.errors = list(errors)
        first = self.errors[0]
        super().__init__(first.problem, source=first.source, key=first.key,
                         allowed=first.allowed, line=first.line)

    @property
    def message(self) -> str:  # noqa: D102
        if len(getattr(self, "errors", [])) <= 1:
            return super().message
        return f"{len(self.errors)} problems:\n" + "\n".join(f"  - {e.message}" for e in self.errors)
