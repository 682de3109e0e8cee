"""KL(q(z|x) || p(z)) for a diagonal Gaussian posterior (Kingma & Welling 2013).

Both functions return one value per example, summed over latent dimensions (nats).
"""

from __future__ import annotations

import math

from torch import Tensor

from aelab.priors import Prior, StandardGaussian


def gaussian_kl_per_dim(mu: Tensor, logvar: Tensor, prior_scale: float = 1.0) -> Tensor:
    """The terms of :func:`gaussian_kl`, one per latent dimension (the prior factorises)."""
    s2 = prior_scale**2
    return 0.5 * ((logvar.exp() + mu.pow(2)) / s2 - 1.0 - logvar + math.log(s2))


def gaussian_kl(mu: Tensor, logvar: Tensor, prior_scale: float = 1.0) -> Tensor:
    """Analytic KL(N(mu, diag exp(logvar)) || N(0, s^2 I)) (Kingma & Welling 2013, App. B):
    0.5 * sum_j [(sigma_j^2 + mu_j^2) / s^2 - 1 - log sigma_j^2 + log s^2]."""
    return gaussian_kl_per_dim(mu, logvar, prior_scale).sum(-1)


def gaussian_log_prob(z: Tensor, mu: Tensor, logvar: Tensor) -> Tensor:
    """log N(z; mu, diag exp(logvar)), summed over the last dimension."""
    return -0.5 * ((z - mu).pow(2) / logvar.exp() + logvar + math.log(2 * math.pi)).sum(-1)


def monte_carlo_kl(z: Tensor, mu: Tensor, logvar: Tensor, prior: Prior) -> Tensor:
    """One-sample estimate log q(z|x) - log p(z) at z ~ q(z|x): unbiased for any prior with a density."""
    return gaussian_log_prob(z, mu, logvar) - prior.log_prob(z)


def kl_to_prior(z: Tensor, mu: Tensor, logvar: Tensor, prior: Prior) -> Tensor:
    """Analytic for a Gaussian prior, Monte-Carlo for every other prior with a density."""
    if isinstance(prior, StandardGaussian):
        return gaussian_kl(mu, logvar, prior.scale)
    return monte_carlo_kl(z, mu, logvar, prior)
