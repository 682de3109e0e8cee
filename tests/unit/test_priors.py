"""Latent priors: log densities and samples."""

from __future__ import annotations

import pytest
import torch

from aelab.priors import StandardGaussian


@pytest.mark.parametrize(("dim", "scale"), [(1, 1.0), (4, 1.0), (3, 5.0), (6, 0.3)])
def test_standard_gaussian_log_prob(dim, scale):
    torch.manual_seed(0)
    prior = StandardGaussian(dim, scale)
    z = torch.randn(10, dim) * 2
    ref = torch.distributions.Normal(0.0, scale).log_prob(z).sum(-1)
    lp = prior.log_prob(z)
    assert lp.shape == (10,)
    assert torch.allclose(lp, ref, atol=1e-5)


def test_log_prob_keeps_leading_dims():
    prior = StandardGaussian(2, 2.0)
    z = torch.zeros(3, 4, 2)
    assert prior.log_prob(z).shape == (3, 4)
    ref = torch.distributions.Normal(0.0, 2.0).log_prob(torch.zeros(2)).sum()
    assert torch.allclose(prior.log_prob(z), ref.expand(3, 4))


@pytest.mark.parametrize("scale", [1.0, 5.0])
def test_standard_gaussian_sample(scale):
    torch.manual_seed(0)
    prior = StandardGaussian(3, scale)
    z = prior.sample(20000)
    assert z.shape == (20000, 3)
    assert z.dtype == torch.float32
    assert torch.allclose(z.std(0), torch.full((3,), scale), rtol=0.03)
    assert torch.allclose(z.mean(0), torch.zeros(3), atol=0.05 * scale)
    # the coordinates are independent
    corr = torch.corrcoef(z.T)
    assert torch.allclose(corr, torch.eye(3), atol=0.03)


def test_prior_has_no_state_to_save():
    assert StandardGaussian(3).state_dict() == {}
