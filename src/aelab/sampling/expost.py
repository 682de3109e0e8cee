"""Ex-post density estimation (Ghosh et al. 2020, "From variational to deterministic
autoencoders", Sec. 4): fit a Gaussian mixture to the codes of the training images after
training, and sample the decoder at its draws instead of at the prior's."""

from __future__ import annotations

import torch
from torch import Tensor


def fit_code_mixture(codes: Tensor, components: int, seed: int = 0):
    """A ``components``-Gaussian mixture with full covariances fitted to ``codes`` (n x d) by
    EM (scikit-learn; Ghosh et al. use 10 components)."""
    from sklearn.mixture import GaussianMixture

    return GaussianMixture(components, covariance_type="full", random_state=seed).fit(
        codes.double().numpy()
    )


def mixture_draws(mixture, n: int, seed: int = 0) -> Tensor:
    """``n`` codes drawn from a fitted mixture, in a random order (scikit-learn returns them
    sorted by component), reproducible by ``seed``."""
    mixture.random_state = seed
    draws, _ = mixture.sample(n)
    order = torch.randperm(n, generator=torch.Generator().manual_seed(seed))
    return torch.from_numpy(draws).float()[order]
