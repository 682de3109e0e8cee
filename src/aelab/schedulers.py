"""Learning-rate schedules the papers' own code runs, as ``scheduler`` group options.

``staged``: a piecewise-constant multiplier, lr * factors[i] from epoch milestones[i] on
(stepped once per epoch). The WAE code (Tolstikhin et al. 2018, ``wae.py``) halves the rate
at epoch 30 and divides it by 5 at epoch 50: milestones [30, 50], factors [0.5, 0.1].
Burda et al. (2015, Sec. 5) train the VAE and IWAE in 8 stages: stage i (i = 0..7) runs 3^i
epochs at lr 1e-3 * 10^(-i/7), 3,280 epochs in all (``scheduler=burda``: milestones at the
cumulative 1, 4, 13, ..., 1093, factors 10^(-i/7)). ``compress`` divides every milestone, for a
budget shorter than the paper's: with compress=82, 40 epochs, stages 0-3 round away (the
schedule is stepped once per epoch) and stages 4-7 run 1, 3, 9 and 27 epochs.
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence

import torch

from aelab.errors import ConfigError


def staged(
    optimizer: torch.optim.Optimizer,
    milestones: Sequence[int],
    factors: Sequence[float],
    compress: float = 1.0,
) -> torch.optim.lr_scheduler.LambdaLR:
    """lr(epoch) = lr * factors[i] for milestones[i] / compress <= epoch < milestones[i + 1] /
    compress (rounded to epochs); the initial lr before the first milestone."""
    milestones, factors = list(milestones), list(factors)
    if not (isinstance(compress, (int, float)) and compress >= 1):
        raise ConfigError(
            f"scheduler.compress={compress} is not allowed: use a number >= 1 (1: the epochs as given)."
        )
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

    milestones = [round(m / compress) for m in milestones]

    def multiplier(epoch: int) -> float:
        i = bisect.bisect_right(milestones, epoch)
        return 1.0 if i == 0 else factors[i - 1]

    return torch.optim.lr_scheduler.LambdaLR(optimizer, multiplier)
