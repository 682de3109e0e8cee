"""Latent priors p(z): each can ``sample(n)`` and, where the density is defined, ``log_prob(z)``.

Priors are modules so that their constants follow the model's device. Mixture priors expose
``means`` and ``std`` so that mode coverage (mode collapse) can be measured against them.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn

from aelab.errors import ConfigError


class Prior(nn.Module):
    """A distribution over R^dim.

    ``density_everywhere``: ``log_prob`` is finite on all of R^dim, which the VAE's KL and
    IWAE bound need (a Gaussian posterior puts mass everywhere: against a bounded prior the
    KL is infinite, and without a density it cannot be computed).
    """

    density_everywhere = True

    def __init__(self, dim: int) -> None:
        super().__init__()
        self.dim = dim
        self.register_buffer("_device_anchor", torch.zeros(()), persistent=False)

    @property
    def device(self) -> torch.device:
        return self._device_anchor.device

    def sample(self, n: int) -> Tensor:
        raise NotImplementedError

    def log_prob(self, z: Tensor) -> Tensor:
        raise NotImplementedError(f"{type(self).__name__} has no closed-form density")

    def variance(self) -> float:
        """Mean per-dimension variance (sets the MMD kernel scale C = 2 d sigma_z^2)."""
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(0)
            return float(self.sample(10000).cpu().var(0).mean())


class StandardGaussian(Prior):
    """N(0, scale^2 I); ``scale=1`` is the VAE's prior, the AAE uses scale 5 on MNIST (Makhzani 2015)."""

    def __init__(self, dim: int, scale: float = 1.0) -> None:
        super().__init__(dim)
        self.scale = scale

    def sample(self, n: int) -> Tensor:
        return self.scale * torch.randn(n, self.dim, device=self.device)

    def variance(self) -> float:
        return self.scale**2

    def log_prob(self, z: Tensor) -> Tensor:
        return -0.5 * (z / self.scale).pow(2).sum(-1) - self.dim * (
            math.log(self.scale) + 0.5 * math.log(2 * math.pi)
        )


class GaussianMixture(Prior):
    """Equal-weight mixture of isotropic Gaussians of std ``std``.

    ``layout="circle"``: k modes on a circle of radius ``radius`` (2-D; the AAE paper's
    10-mode prior, Makhzani 2015 Fig. 2b); ``"grid"``: modes on a square grid with spacing
    ``radius``; ``"random"``: k means drawn once from N(0, radius^2 I) (any dimension, one
    mode per class when k = number of classes).
    """

    def __init__(
        self, dim: int, k: int = 10, layout: str = "circle", radius: float = 4.0, std: float = 0.5
    ) -> None:
        super().__init__(dim)
        if layout in ("circle", "grid") and dim != 2:
            raise ConfigError(
                f"prior.layout={layout} needs a 2-D latent, got model.latent_dim={dim}: use prior.layout=random."
            )
        if layout == "circle":
            angles = torch.arange(k) * (2 * math.pi / k)
            means = radius * torch.stack([angles.cos(), angles.sin()], 1)
        elif layout == "grid":
            side = math.isqrt(k)
            if side * side != k:
                raise ConfigError(
                    f"prior.k={k} is not a square: prior.layout=grid needs k = 4, 9, 16, 25, ..."
                )
            ticks = (torch.arange(side) - (side - 1) / 2) * radius
            means = torch.cartesian_prod(ticks, ticks)
        elif layout == "random":
            means = radius * torch.randn(k, dim, generator=torch.Generator().manual_seed(0))
        else:
            raise ConfigError(
                f"prior.layout={layout!r} is not allowed: use circle, grid or random."
            )
        self.register_buffer("means", means.float())
        self.std = std

    def sample(self, n: int) -> Tensor:
        idx = torch.randint(len(self.means), (n,), device=self.device)
        return self.means[idx] + self.std * torch.randn(n, self.dim, device=self.device)

    def log_prob(self, z: Tensor) -> Tensor:
        sq = (
            (z.unsqueeze(-2) - self.means).pow(2).sum(-1)
        )  # ... x k, exact (cdist uses a matmul shortcut)
        log_comp = -0.5 * sq / self.std**2 - self.dim * (
            math.log(self.std) + 0.5 * math.log(2 * math.pi)
        )
        return torch.logsumexp(log_comp, dim=-1) - math.log(len(self.means))


class SwissRoll(Prior):
    """The 2-D swiss roll of the AAE paper (Makhzani 2015, Fig. 4c, where the discriminator is
    also given the label; here it is matched without labels): points along a spiral arm.

    Its density is not defined in closed form: use a sample-based prior loss with it.
    """

    density_everywhere = False

    def __init__(self, dim: int = 2, scale: float = 1.0, noise: float = 0.05) -> None:
        if dim != 2:
            raise ConfigError(
                f"prior=swiss_roll is 2-D, got model.latent_dim={dim}: set model.latent_dim=2."
            )
        super().__init__(dim)
        self.scale, self.noise = scale, noise

    def sample(self, n: int) -> Tensor:
        t = 1.5 * math.pi * (1 + 2 * torch.rand(n, device=self.device))
        z = torch.stack([t * torch.cos(t), t * torch.sin(t)], 1) / (3 * math.pi)
        return self.scale * (z + self.noise * torch.randn_like(z))


class UniformBox(Prior):
    """Uniform on [low, high]^dim (zero density outside the box)."""

    density_everywhere = False

    def __init__(self, dim: int, low: float = -1.0, high: float = 1.0) -> None:
        if not high > low:
            raise ConfigError(f"prior.high={high} must exceed prior.low={low}.")
        super().__init__(dim)
        self.low, self.high = low, high

    def sample(self, n: int) -> Tensor:
        return self.low + (self.high - self.low) * torch.rand(n, self.dim, device=self.device)

    def log_prob(self, z: Tensor) -> Tensor:
        inside = ((z >= self.low) & (z <= self.high)).all(-1)
        value = -self.dim * math.log(self.high - self.low)
        return torch.where(
            inside, torch.full_like(z[..., 0], value), torch.full_like(z[..., 0], -math.inf)
        )
