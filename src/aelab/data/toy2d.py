"""Two-dimensional toy distributions for prior-matching and score pictures.

``ring8`` (8 Gaussians of std 0.1 on a circle of radius 2) and ``grid25`` (25 Gaussians of
std 0.1 on the integer 5x5 grid) are mixtures whose parameters :func:`mixture_params` exposes,
so their densities and scores are known in closed form; ``swiss_roll``, ``spiral`` and ``moons`` are the usual
manifold-like sets (scikit-learn's generators for the roll and the moons).
"""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import Tensor

from aelab.data.base import Split, TensorDataModule
from aelab.errors import DataError

NAMES = ("swiss_roll", "ring8", "grid25", "spiral", "moons")


def mixture_params(name: str) -> tuple[Tensor, float]:
    """Means (k x 2) and the shared isotropic std of the ``ring8`` and ``grid25`` mixtures."""
    if name == "ring8":
        angles = torch.arange(8) * (2 * math.pi / 8)
        return 2.0 * torch.stack([angles.cos(), angles.sin()], dim=1), 0.1
    if name == "grid25":
        ticks = torch.arange(-2, 3, dtype=torch.float32)
        return torch.cartesian_prod(ticks, ticks), 0.1
    raise ValueError(f"{name!r} is not a Gaussian mixture")


def mixture_score(x: Tensor, name: str, sigma: float = 0.0) -> Tensor:
    """Exact score grad_x log p_sigma(x) of the ``ring8`` / ``grid25`` mixture smoothed by
    N(0, sigma^2 I): each component becomes N(mu_k, (s^2 + sigma^2) I), and
    grad log p = sum_k w_k(x) (mu_k - x) / (s^2 + sigma^2), w = the components' posteriors."""
    means, std = mixture_params(name)
    means = means.to(x)
    var = std**2 + sigma**2
    diff = means - x.unsqueeze(-2)  # ... x k x 2
    weights = torch.softmax(-0.5 * diff.pow(2).sum(-1) / var, dim=-1)
    return (weights.unsqueeze(-1) * diff).sum(-2) / var


def sample(name: str, n: int, seed: int = 0, noise: float = 0.0) -> Split:
    """Draw ``n`` points of the named set; labels are the mixture component or arm (-1: none)."""
    g = torch.Generator().manual_seed(seed)
    if name in ("ring8", "grid25"):
        means, std = mixture_params(name)
        y = torch.randint(len(means), (n,), generator=g)
        x = means[y] + std * torch.randn(n, 2, generator=g)
    elif name == "swiss_roll":
        from sklearn.datasets import make_swiss_roll

        pts, _ = make_swiss_roll(n, noise=noise, random_state=seed)
        x, y = torch.as_tensor(pts[:, [0, 2]] / 5.0, dtype=torch.float32), torch.full((n,), -1)
    elif name == "moons":
        from sklearn.datasets import make_moons

        pts, lab = make_moons(n, noise=noise or 0.05, random_state=seed)
        x, y = torch.as_tensor(pts, dtype=torch.float32), torch.as_tensor(lab)
    elif name == "spiral":  # two interleaved arms, r proportional to angle
        y = torch.randint(2, (n,), generator=g)
        t = torch.sqrt(torch.rand(n, generator=g)) * 3 * math.pi
        r = t / math.pi
        phase = y * math.pi
        x = torch.stack([r * torch.cos(t + phase), r * torch.sin(t + phase)], dim=1)
        x = x + (noise or 0.05) * torch.randn(n, 2, generator=g)
    else:
        raise DataError(f"dataset.name={name!r} is not a toy2d set: use one of {', '.join(NAMES)}.")
    if noise and name in ("ring8", "grid25"):
        x = x + noise * torch.randn(n, 2, generator=g)
    return x.float(), torch.as_tensor(np.asarray(y), dtype=torch.long)


class Toy2dDataModule(TensorDataModule):
    """``n_samples`` points of a named 2-D set, drawn from ``data_seed`` and split like any data."""

    def __init__(
        self,
        name: str = "ring8",
        n_samples: int = 10000,
        noise: float = 0.0,
        data_seed: int = 0,
        **kwargs,
    ) -> None:
        super().__init__(**kwargs)
        if name not in NAMES:
            raise DataError(
                f"dataset.name={name!r} is not a toy2d set: use one of {', '.join(NAMES)}."
            )
        self.name, self.n_samples, self.noise, self.data_seed = name, n_samples, noise, data_seed

    def load(self) -> tuple[Split, None]:
        return sample(self.name, self.n_samples, self.data_seed, self.noise), None
