"""Langevin dynamics from a score function grad_x log p(x).

Plain Langevin (the reference sheet; Welling & Teh 2011; Song & Ermon 2019, Eq. 4 with
alpha = 2 * step):  x_{i+1} = x_i + step * score(x_i) + sqrt(2 * step) * z_i,  z_i ~ N(0, I).
For small steps and many iterations x_K is distributed as p(x).

Annealed Langevin (Song & Ermon 2019, Alg. 1) as their official code runs it
(ermongroup/ncsn, ``runners/anneal_runner.py``, ``anneal_Langevin_dynamics``): for noise
levels sigma_1 > ... > sigma_L, T steps at each level of plain Langevin with
step alpha_i = eps * sigma_i^2 / sigma_L^2, i.e. x + alpha_i * score(x, sigma_i) +
sqrt(2 alpha_i) * z (their T = 100, eps = 2e-5). The paper's Alg. 1 writes
x + (alpha_i / 2) * score + sqrt(alpha_i) * z, half that step for the same eps; the suite
follows the code, whose eps produced the paper's samples.

Every sampler takes any score function, so it is tested on exact scores.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import torch
from torch import Tensor

Score = Callable[[Tensor], Tensor]
NoiseScore = Callable[[Tensor, float], Tensor]


@torch.no_grad()
def langevin(
    score: Score, x0: Tensor, step: float, n_steps: int, generator: torch.Generator | None = None
) -> Tensor:
    """``n_steps`` of x <- x + step * score(x) + sqrt(2 step) z, from ``x0``."""
    x = x0.clone()
    noise_scale = math.sqrt(2.0 * step)
    for _ in range(n_steps):
        z = torch.randn(x.shape, generator=generator, device=x.device, dtype=x.dtype)
        x = x + step * score(x) + noise_scale * z
    return x


@torch.no_grad()
def annealed_langevin(
    score: NoiseScore,
    x0: Tensor,
    sigmas: Sequence[float],
    eps: float = 2e-5,
    steps_per_level: int = 100,
    denoise: bool = False,
    generator: torch.Generator | None = None,
) -> Tensor:
    """Song & Ermon (2019, Alg. 1) over ``sigmas`` (largest first), in their code's convention:
    plain Langevin with step eps * sigma_i^2 / sigma_L^2 at level i. ``denoise`` adds a final
    step x + sigma_L^2 * score(x, sigma_L) (Tweedie's formula: the posterior mean E[x_clean | x])."""
    x = x0.clone()
    sigma_last = sigmas[-1]
    for sigma in sigmas:
        alpha = eps * sigma**2 / sigma_last**2
        x = langevin(lambda v, s=sigma: score(v, s), x, alpha, steps_per_level, generator)
    if denoise:
        x = x + sigma_last**2 * score(x, sigma_last)
    return x


def geometric_sigmas(
    sigma_max: float = 1.0, sigma_min: float = 0.01, levels: int = 10
) -> list[float]:
    """The NCSN noise ladder: ``levels`` values from ``sigma_max`` down to ``sigma_min``, geometric."""
    return torch.logspace(math.log10(sigma_max), math.log10(sigma_min), levels).tolist()
