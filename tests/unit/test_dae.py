"""The denoising autoencoder's score against the closed form for Gaussian data."""

from __future__ import annotations

import functools

import pytest
import torch
import torch.nn.functional as F

from aelab.errors import ConfigError
from aelab.models import DenoisingAutoencoder
from aelab.nets import mlp


def _dae(dim: int, sigma: float, **kwargs) -> DenoisingAutoencoder:
    network = functools.partial(mlp, hidden=[64, 64], likelihood="gaussian")
    return DenoisingAutoencoder((dim,), 8, sigma=sigma, network=network, **kwargs)


@pytest.mark.parametrize("dim", [1, 2])
def test_trained_dae_score_matches_the_gaussian_closed_form(dim: int) -> None:
    """For x ~ N(m, S) the smoothed density is N(m, S + sigma^2 I), so the true score is
    -(S + sigma^2 I)^{-1} (x - m); the optimal denoiser is linear (Alain & Bengio 2014)."""
    torch.manual_seed(0)
    sigma = 0.5
    mean = torch.tensor([1.0, -0.5])[:dim]
    cov = torch.tensor([[1.0, 0.5], [0.5, 0.8]])[:dim, :dim]
    data = torch.distributions.MultivariateNormal(mean, cov)
    model = _dae(dim, sigma)
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    for _ in range(1500):
        loss, _, _ = model.step(data.sample((512,)))
        opt.zero_grad()
        loss.backward()
        opt.step()
    x = data.sample((2000,))
    with torch.no_grad():
        learned = model.score(x)
    true = -(x - mean) @ torch.linalg.inv(cov + sigma**2 * torch.eye(dim))
    cosine = (
        F.cosine_similarity(learned, true, dim=-1).mean()
        if dim > 1
        else (torch.sign(learned) == torch.sign(true)).float().mean()
    )
    rel_error = ((learned - true).norm(dim=-1) / true.norm(dim=-1)).median()
    assert cosine >= 0.95, cosine
    assert rel_error < 0.2, rel_error


def test_masking_corruption_drops_values_and_defines_no_score() -> None:
    model = _dae(2, 0.1, corruption="masking", mask_prob=0.5)
    torch.manual_seed(0)
    x = torch.ones(1000, 2)
    kept = model.corrupt(x)
    assert set(kept.unique().tolist()) <= {0.0, 1.0}
    assert abs(kept.mean().item() - 0.5) < 0.05
    with pytest.raises(ConfigError, match="masking defines no score"):
        model.score(x)


def test_gaussian_corruption_has_the_configured_std() -> None:
    model = _dae(2, 0.3)
    torch.manual_seed(0)
    noise = model.corrupt(torch.zeros(20000, 2))
    assert abs(noise.std().item() - 0.3) < 0.01
