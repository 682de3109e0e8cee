"""Wasserstein-1 between two samples by exact optimal transport: the earth mover's distance
min_T sum_ij T_ij ||x_i - y_j|| over couplings T of the two empirical measures.

For two uniform samples of one size n, the couplings form the Birkhoff polytope, whose
vertices are the permutations (Birkhoff-von Neumann), so a linear cost is minimised at a
permutation and the transport problem is the assignment problem, solved exactly by SciPy's
``linear_sum_assignment`` (Crouse 2016). tests/unit/test_yardstick.py checks it against the
network simplex of POT (Flamary et al. 2021, ``ot.emd2``), the general solver, which is not
used here because importing POT costs a run seconds. Cubic in n, so it runs on subsamples of
a few thousand points; the empirical W1 overestimates the population W1 at small n (it is at
least the distance between the samples' own noise), so compare figures of one sample size.
"""

from __future__ import annotations

import torch
from torch import Tensor


def wasserstein1_exact(x: Tensor, y: Tensor) -> Tensor:
    """W1 between the empirical measures of ``x`` and ``y`` (n x d each, the first
    min(len(x), len(y)) rows of both), Euclidean cost."""
    from scipy.optimize import linear_sum_assignment

    n = min(len(x), len(y))
    cost = torch.cdist(x[:n].double().cpu(), y[:n].double().cpu()).numpy()
    rows, cols = linear_sum_assignment(cost)
    return torch.tensor(float(cost[rows, cols].mean()), dtype=torch.float64)
