"""risk: will the AI labs' projected earnings cover the compute they committed to?

A Monte Carlo engine with honest error bars::

    import risk
    res = risk.simulate(draws=1_000_000, seed=1)
    res.summary()
"""

from ._cache import configure_numba_cache as _configure_numba_cache

_configure_numba_cache()  # before anything imports numba

from ._version import __version__  # noqa: E402
from .api import calibrate, exposure, simulate  # noqa: E402
from .result import Result  # noqa: E402
from .backtest import Backtest, backtest  # noqa: E402
from .errors import InputError, RiskError  # noqa: E402
from .paired import Comparison, compare  # noqa: E402
from .reverse import Breakeven, breakeven  # noqa: E402
from .scenario import Scenario, load_scenario  # noqa: E402
from .scenario.overrides import Scale, Shift  # noqa: E402
from .sensitivity import Sensitivity, sensitivity  # noqa: E402
from .scenario.overrides import embedded_overlays as stress_overlays  # noqa: E402

__all__ = ["Backtest", "Breakeven", "Comparison", "InputError", "Result", "RiskError", "Scale", "Scenario", "Sensitivity", "Shift",
           "__version__", "backtest", "breakeven", "calibrate", "exposure", "compare", "load_scenario", "sensitivity", "simulate", "stress_overlays"]
