"""Parzen-window log-likelihood of generated samples: the protocol of Goodfellow et al. (2014,
Sec. 5 and Table 1), which Makhzani et al. (2015, Table 1) use for adversarial autoencoders.

Fit a Gaussian kernel density (one isotropic component of std ``sigma`` per sample) to the
model's samples, choose ``sigma`` on a validation split by its mean log-likelihood (their grid:
10 values from 0.1 to 1, log-spaced, as in Goodfellow's ``parzen_ll.py``), and report the mean
log-likelihood of the test split with its standard error. The estimate is biased and noisy in
high dimensions (Theis et al. 2016); it is here to compare with the papers' tables.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import Tensor

GOODFELLOW_GRID = tuple(torch.logspace(-1, 0, 10).tolist())


def parzen_log_density(x: Tensor, centers: Tensor, sigma: float, chunk: int = 500) -> Tensor:
    """log (1/n) sum_i N(x; c_i, sigma^2 I) for each row of ``x`` (flattened), ``n`` centers."""
    x, centers = x.flatten(1), centers.flatten(1)
    d, n = x.shape[1], len(centers)
    c_sq = centers.pow(2).sum(1)
    out = []
    for xb in x.split(chunk):
        sq = (xb.pow(2).sum(1, keepdim=True) + c_sq - 2 * xb @ centers.T).clamp_min(0)
        out.append(torch.logsumexp(-sq / (2 * sigma**2), dim=1))
    return torch.cat(out) - math.log(n) - 0.5 * d * math.log(2 * math.pi * sigma**2)


def select_bandwidth(
    samples: Tensor, val: Tensor, grid: Sequence[float] = GOODFELLOW_GRID
) -> tuple[float, list[float]]:
    """The grid value with the best mean validation log-likelihood, and every grid value's score."""
    scores = [parzen_log_density(val, samples, s).mean().item() for s in grid]
    return grid[max(range(len(grid)), key=scores.__getitem__)], scores


def parzen_log_likelihood(
    samples: Tensor, test: Tensor, val: Tensor, grid: Sequence[float] = GOODFELLOW_GRID
) -> dict[str, float]:
    """``parzen_ll`` (mean test log-likelihood, nats), ``parzen_ll_se`` (its standard error
    over test points) and ``parzen_sigma`` (the bandwidth chosen on ``val``)."""
    sigma, _ = select_bandwidth(samples, val, grid)
    ll = parzen_log_density(test, samples, sigma)
    return {
        "parzen_ll": ll.mean().item(),
        "parzen_ll_se": (ll.std() / math.sqrt(len(ll))).item(),
        "parzen_sigma": sigma,
    }
