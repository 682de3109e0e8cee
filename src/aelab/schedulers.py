"""Learning-rate schedules the papers' own code runs, as ``scheduler`` group options.

``staged``: a piecewise-constant multiplier, lr * factors[i] from epoch milestones[i] on
(stepped once per epoch). The WAE code (Tolstikhin et al. 2018, ``wae.py``) halves the rate
at epoch 30 and divides it by 5 at epoch 50: milestones [30, 50], factors [0.5, 0.1].
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence

import torch

from aelab.errors import ConfigError


def staged(
    optimizer: torch.optim.Optimizer, milestones: Sequence[int], factors: Sequence[float]
) -> torch.optim.lr_scheduler.LambdaLR:
    """lr(epoch) = lr * factors[i] for milestones[i] <= epoch < milestones[i + 1]; the
    initial lr before the first milestone."""
    milestones, factors = list(milestones), list(factors)
    if len(milestones) != len(factors):
        raise ConfigError(
            f"scheduler.milestones has {len(milestones)} entries and scheduler.factors {len(factors)}: give one factor per milestone."
        )
    if milestones != sorted(milestones) or any(m < 1 for m in milestones):
        raise ConfigError(
            f"scheduler.milestones={milestones} is not allowed: use increasing epochs >= 1."
        )
    if any(not f > 0 for f in factors):
        raise ConfigError(f"scheduler.factors={factors} is not allowed: every factor must be > 0.")

    def multiplier(epoch: int) -> float:
        i = bisect.bisect_right(milestones, epoch)
        return 1.0 if i == 0 else factors[i - 1]

    return torch.optim.lr_scheduler.LambdaLR(optimizer, multiplier)
