"""Ex-post density estimation: a mixture fitted to codes reproduces their clusters."""

from __future__ import annotations

import torch

from aelab.sampling.expost import fit_code_mixture, mixture_draws


def test_a_mixture_fitted_to_two_clusters_draws_both_with_their_weights_and_spread() -> None:
    torch.manual_seed(0)
    codes = torch.cat([torch.randn(3000, 2) * 0.1 + 4, torch.randn(1000, 2) * 0.5 - 4])
    mixture = fit_code_mixture(codes, components=2, seed=0)
    draws = mixture_draws(mixture, 4000, seed=1)
    assert draws.shape == (4000, 2) and draws.dtype == torch.float32
    near = draws[:, 0] > 0
    assert abs(near.float().mean().item() - 0.75) < 0.03  # the clusters' weights 3:1
    assert torch.allclose(draws[near].mean(0), torch.tensor([4.0, 4.0]), atol=0.02)
    assert abs(draws[~near].std(0).mean().item() - 0.5) < 0.05
    assert near[:2000].float().mean() > 0.7  # shuffled: not sorted by component
    assert torch.equal(draws, mixture_draws(mixture, 4000, seed=1))  # reproducible
