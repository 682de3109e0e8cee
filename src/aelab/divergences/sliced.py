"""Sliced Wasserstein distance (Rabin et al. 2011; Kolouri et al. 2019): the mean over random
directions of the 1-D Wasserstein-p distance between the projected samples, computed exactly
by sorting."""

from __future__ import annotations

import torch
from torch import Tensor


def sliced_wasserstein(
    x: Tensor,
    y: Tensor,
    n_projections: int = 128,
    p: int = 2,
    generator: torch.Generator | None = None,
) -> Tensor:
    """SW_p(x, y) for equal-size samples ``x``, ``y`` (n x d): (E_theta W_p^p(theta.x, theta.y))^(1/p)."""
    n = min(len(x), len(y))
    x, y = x[:n], y[:n]
    theta = torch.randn(x.shape[1], n_projections, generator=generator).to(x)
    theta = theta / theta.norm(dim=0, keepdim=True)
    px, _ = (x @ theta).sort(dim=0)
    py, _ = (y @ theta).sort(dim=0)
    return (px - py).abs().pow(p).mean().pow(1.0 / p)
