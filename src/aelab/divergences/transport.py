"""Wasserstein-1 between two samples by exact optimal transport: the earth mover's distance
min_T sum_ij T_ij ||x_i - y_j|| over couplings T of the two empirical measures, solved by the
network simplex of POT (Flamary et al. 2021, ``ot.emd2``). Cubic in the sample size, so it
runs on subsamples of a few thousand points; the empirical W1 overestimates the population W1
at small n (it is at least the distance between the samples' own noise), so compare figures of
one sample size."""

from __future__ import annotations

import torch
from torch import Tensor


def wasserstein1_exact(x: Tensor, y: Tensor) -> Tensor:
    """W1 between the empirical measures of ``x`` (n x d) and ``y`` (m x d), Euclidean cost."""
    import ot

    cost = torch.cdist(x.double().cpu(), y.double().cpu()).numpy()
    a = torch.full((len(x),), 1.0 / len(x), dtype=torch.float64).numpy()
    b = torch.full((len(y),), 1.0 / len(y), dtype=torch.float64).numpy()
    return torch.tensor(float(ot.emd2(a, b, cost, numItermax=10_000_000)))
