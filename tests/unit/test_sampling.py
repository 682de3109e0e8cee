"""Langevin samplers on exact scores, and the closed-form mixture score they are tested with."""

from __future__ import annotations

import math

import torch

from aelab.data.toy2d import mixture_params, mixture_score
from aelab.sampling import annealed_langevin, geometric_sigmas, langevin


def _mixture_log_density(x: torch.Tensor, name: str, sigma: float) -> torch.Tensor:
    means, std = mixture_params(name)
    var = std**2 + sigma**2
    log_comp = -0.5 * (x.unsqueeze(-2) - means).pow(2).sum(-1) / var - math.log(2 * math.pi * var)
    return torch.logsumexp(log_comp, -1) - math.log(len(means))


def test_mixture_score_is_the_gradient_of_the_smoothed_log_density() -> None:
    x = torch.randn(50, 2, dtype=torch.float64) * 2
    for name in ("ring8", "grid25"):
        for sigma in (0.0, 0.3):
            xr = x.clone().requires_grad_(True)
            (grad,) = torch.autograd.grad(_mixture_log_density(xr, name, sigma).sum(), xr)
            assert torch.allclose(mixture_score(x, name, sigma), grad, atol=1e-8)


def test_langevin_with_an_exact_gaussian_score_reproduces_mean_and_covariance() -> None:
    mean = torch.tensor([1.0, -2.0])
    cov = torch.tensor([[1.0, 0.6], [0.6, 0.5]])
    precision = torch.linalg.inv(cov)
    g = torch.Generator().manual_seed(0)
    x = langevin(
        lambda v: -(v - mean) @ precision,
        torch.zeros(20000, 2),
        step=0.01,
        n_steps=1500,
        generator=g,
    )
    assert torch.allclose(x.mean(0), mean, atol=0.03)
    assert torch.allclose(torch.cov(x.T), cov, atol=0.03)


def test_geometric_sigmas_follow_the_ncsn_ladder() -> None:
    sigmas = geometric_sigmas(1.0, 0.01, 10)
    assert (
        len(sigmas) == 10
        and math.isclose(sigmas[0], 1.0)
        and math.isclose(sigmas[-1], 0.01, rel_tol=1e-6)
    )
    ratios = [a / b for a, b in zip(sigmas, sigmas[1:], strict=False)]
    assert max(ratios) - min(ratios) < 1e-4  # geometric


def test_annealed_langevin_recovers_every_mode_with_its_weight() -> None:
    """From uniform noise, with the exact smoothed scores of ring8 (Song & Ermon 2019, Alg. 1)."""
    g = torch.Generator().manual_seed(1)
    x0 = torch.rand(8000, 2, generator=g) * 8 - 4
    x = annealed_langevin(
        lambda v, s: mixture_score(v, "ring8", s),
        x0,
        geometric_sigmas(2.0, 0.05, 10),
        eps=1e-3,
        steps_per_level=100,
        generator=g,
    )
    means, std = mixture_params("ring8")
    dist = torch.cdist(x, means)
    assert (dist.min(1).values < 4 * std).float().mean() > 0.97  # on a mode
    shares = torch.bincount(dist.argmin(1), minlength=8).float() / len(x)
    assert torch.allclose(shares, torch.full((8,), 1 / 8), atol=0.02), shares


def test_annealed_langevin_takes_the_official_codes_step() -> None:
    """ermongroup/ncsn ``anneal_Langevin_dynamics``: step_size = eps * (sigma / sigma_L)^2,
    x <- x + step_size * score + sqrt(2 step_size) z (twice the step of the paper's Alg. 1,
    which writes alpha / 2 and sqrt(alpha), for the same eps)."""
    sigmas, eps = [1.0, 0.1], 2e-5
    x0 = torch.zeros(5, 3)
    x = annealed_langevin(
        lambda v, s: torch.ones_like(v),
        x0,
        sigmas,
        eps=eps,
        steps_per_level=1,
        generator=torch.Generator().manual_seed(3),
    )
    g = torch.Generator().manual_seed(3)
    ref = x0.clone()
    for sigma in sigmas:
        step = eps * (sigma / sigmas[-1]) ** 2
        ref = ref + step + math.sqrt(2 * step) * torch.randn(ref.shape, generator=g)
    assert torch.allclose(x, ref)
