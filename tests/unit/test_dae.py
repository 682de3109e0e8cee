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


def test_noise_conditional_dae_matches_the_closed_form_at_every_level() -> None:
    """One network over a ladder of sigmas (Song & Ermon 2019): for x ~ N(m, s^2) the score
    at level sigma is -(x - m) / (s^2 + sigma^2), different at each level."""
    torch.manual_seed(0)
    model = _dae(1, 0.2, levels=3, sigma_max=0.8)
    assert model.sigmas == pytest.approx([0.8, 0.4, 0.2])
    assert model.encoder.net[0].in_features == 2 and model.decoder.net[0].in_features == 9
    data = torch.distributions.Normal(1.0, 0.5)
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    decay = torch.optim.lr_scheduler.CosineAnnealingLR(opt, 2000)  # averages the noisy targets
    for _ in range(2000):
        loss, _, _ = model.step(data.sample((512, 1)))
        opt.zero_grad()
        loss.backward()
        opt.step()
        decay.step()
    x = data.sample((2000, 1))
    for sigma in model.sigmas:
        with torch.no_grad():
            learned = model.score(x, sigma)
        true = -(x - 1.0) / (0.25 + sigma**2)
        rel_error = ((learned - true).abs() / true.abs()).median()
        assert rel_error < 0.2, (sigma, rel_error)


def test_noise_conditional_loss_weights_each_level_by_inverse_sigma_squared(monkeypatch) -> None:
    """Song & Ermon's lambda(sigma) = sigma^2 on the score is 1/sigma^2 on the reconstruction;
    scaled so the smallest level has weight 1."""
    model = _dae(2, 0.1, levels=2, sigma_max=1.0)
    levels = iter([torch.tensor([0, 1])])  # first example at sigma 1.0, second at 0.1
    monkeypatch.setattr(torch, "randint", lambda *a, **k: next(levels))
    x = torch.zeros(2, 2)
    torch.manual_seed(0)
    loss, _, out = model.step(x)
    nll = model.decoder.likelihood.nll(out, x)
    assert loss.item() == pytest.approx(((nll[0] * 0.01 + nll[1]) / 2).item(), rel=1e-6)


def test_denoising_score_matching_loss_is_logged_in_score_units() -> None:
    model = _dae(2, 0.5).eval()
    x = torch.randn(64, 2)
    torch.manual_seed(0)
    _, logs, out = model.step(x)
    expected = 0.5 * (out - x).pow(2).sum(1).mean() / 0.25  # gaussian likelihood: r = out
    assert logs["dsm_loss"].item() == pytest.approx(expected.item(), rel=1e-6)
    assert "dsm_loss" not in model.train().step(x)[1]  # not paid for on training steps


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"levels": 0}, "model.levels=0"),
        ({"levels": 3, "sigma_max": 0.05}, "model.sigma_max=0.05"),
        ({"levels": 3, "corruption": "masking"}, "needs model.corruption=gaussian"),
    ],
)
def test_bad_noise_ladders_are_refused(kwargs, message) -> None:
    with pytest.raises(ConfigError, match=message):
        _dae(2, 0.1, **kwargs)


def test_generate_starts_chains_uniformly_over_the_data_range() -> None:
    model = _dae(2, 0.1).eval()
    model.data_range.copy_(torch.tensor([-3.0, 3.0]))
    assert "data_range" in model.state_dict()  # restored from a checkpoint, chains start there
    torch.manual_seed(0)
    x = model.generate(500, steps=0, denoise=False)
    assert x.shape == (500, 2)
    assert -3 <= x.min() < -2.9 and 2.9 < x.max() <= 3
    with torch.no_grad():  # the final denoising step (the model's default) is r(x_K)
        assert torch.equal(model.generate(500, x0=x, steps=0), model.denoise(x))
