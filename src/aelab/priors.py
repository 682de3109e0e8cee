"""Latent priors p(z): each can ``sample(n)`` and, where the density is defined, ``log_prob(z)``."""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn


class Prior(nn.Module):
    """A distribution over R^dim. A module so that its constants follow the model's device."""

    def __init__(self, dim: int) -> None:
        super().__init__()
        self.dim = dim
        self.register_buffer("_device_anchor", torch.zeros(()), persistent=False)

    def sample(self, n: int) -> Tensor:
        raise NotImplementedError

    def log_prob(self, z: Tensor) -> Tensor:
        raise NotImplementedError


class StandardGaussian(Prior):
    """N(0, scale^2 I); ``scale=1`` is the VAE's prior, AAE on MNIST uses scale 5 (Makhzani 2015)."""

    def __init__(self, dim: int, scale: float = 1.0) -> None:
        super().__init__(dim)
        self.scale = scale

    def sample(self, n: int) -> Tensor:
        return self.scale * torch.randn(n, self.dim, device=self._device_anchor.device)

    def log_prob(self, z: Tensor) -> Tensor:
        return -0.5 * (z / self.scale).pow(2).sum(-1) - self.dim * (
            math.log(self.scale) + 0.5 * math.log(2 * math.pi)
        )
