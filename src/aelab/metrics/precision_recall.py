"""Precision, recall, density and coverage of samples against data, in a feature space
(Kynkaanniemi et al. 2019, Eqs. 1-2; Naeem et al. 2020, Eqs. 3-4), by k-nearest-neighbour
balls: the ball of a point has the radius of its k-th nearest neighbour in its own set.

- ``precision``: share of samples inside some data point's ball (samples look like data);
- ``recall``: share of data points inside some sample's ball (the data are covered);
- ``density``: mean number of data balls holding a sample, divided by k (1 when samples are
  distributed like the data; above 1 when they crowd the dense regions);
- ``coverage``: share of data points whose own ball holds some sample (recall without the
  samples' balls, which outliers among the samples inflate).

Mode dropping lowers recall and coverage, poor samples lower precision and density. Naeem et
al. use k = 5 (Kynkaanniemi et al. k = 3); the suite uses 5.
"""

from __future__ import annotations

import torch
from torch import Tensor

CHUNK = 1000  # rows per distance block: 10,000 x 10,000 features never sit in memory at once


def _radii(points: Tensor, k: int) -> Tensor:
    """Distance from each point to its k-th nearest neighbour among the others."""
    radii = []
    for start in range(0, len(points), CHUNK):
        dist = torch.cdist(points[start : start + CHUNK], points)
        rows = torch.arange(len(dist))
        dist[rows, rows + start] = float("inf")  # not its own neighbour
        radii.append(dist.kthvalue(k, dim=1).values)
    return torch.cat(radii)


def precision_recall(real: Tensor, fake: Tensor, k: int = 5) -> dict[str, float]:
    """``precision``, ``recall``, ``density`` and ``coverage`` of features ``fake`` (m x f)
    against ``real`` (n x f)."""
    real, fake = real.double(), fake.double()
    real_radii, fake_radii = _radii(real, k), _radii(fake, k)
    inside, balls = [], []  # per sample: in some data ball; how many data balls
    recalled = torch.zeros(len(real), dtype=torch.bool)
    nearest = torch.full((len(real),), float("inf"), dtype=torch.float64)
    for start in range(0, len(fake), CHUNK):
        dist = torch.cdist(fake[start : start + CHUNK], real)  # chunk x n
        in_real_ball = dist <= real_radii[None, :]
        inside.append(in_real_ball.any(1))
        balls.append(in_real_ball.sum(1))
        recalled |= (dist <= fake_radii[start : start + CHUNK, None]).any(0)
        nearest = torch.minimum(nearest, dist.min(0).values)
    return {
        "precision": torch.cat(inside).double().mean().item(),
        "recall": recalled.double().mean().item(),
        "density": (torch.cat(balls).double().mean() / k).item(),
        "coverage": (nearest <= real_radii).double().mean().item(),
    }
