"""Back-of-envelope arithmetic of published analyses, reproduced from their own inputs.

The engine's answer should sit beside the simpler arguments analysts already
quote; these functions redo those arguments from the inputs their authors
used, so that a check compares the method, not a remembered number.
"""

from __future__ import annotations


def revenue_needed(accelerator_run_rate: float, *, datacenter_multiple: float = 2.0,
                   end_user_margin: float = 0.5) -> float:
    """Yearly AI revenue needed to pay for a year of accelerator purchases (Sequoia, David Cahn).

    Parameters
    ----------
    accelerator_run_rate : float
        Nvidia's data-centre revenue run-rate, $B per year (a quarter x 4).
    datacenter_multiple : float, keyword-only, default 2
        Total data-centre cost over the accelerators' cost (energy,
        buildings, generators roughly equal the GPU spend: x2).
    end_user_margin : float, keyword-only, default 0.5
        Gross margin the end user of the compute needs (50 %: revenue is
        cost / (1 - margin), x2).

    Returns
    -------
    float
        $B of yearly revenue: 50 -> 200 (Sep 2023), 150 -> 600 (Jun 2024).
    """
    if not 0.0 <= end_user_margin < 1.0:
        raise ValueError("end_user_margin must be in [0, 1)")
    return accelerator_run_rate * datacenter_multiple / (1.0 - end_user_margin)
