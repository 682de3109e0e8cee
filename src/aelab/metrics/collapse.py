"""Posterior-collapse diagnostics: which latent dimensions carry information about x.

- ``active_units`` (Burda et al. 2015, Sec. 5.2): dimension i is active when
  A_i = Cov_x(E_{q(z|x)}[z_i]) > 0.01. For a deterministic encoder E_q[z] is the code itself,
  so the count is by code variance. The threshold is Burda's 0.01 times the prior's variance
  (1 for N(0, I); a prior of std 5 scales it to 0.25), so that it is a fraction of the scale
  the codes are pulled toward; a code with no prior to match has no natural scale, and its
  count reads against the same 0.01.
- ``kl_per_dim``: E_x KL(q(z_i|x) || p(z_i)) for a Gaussian encoder and a factorised Gaussian
  prior, one value per dimension (nats). A collapsed dimension reads 0.
- the "ELBO surgery" decomposition (Hoffman & Johnson 2016, Eq. 3):
  E_x KL(q(z|x) || p(z)) = I_q(x; z) + KL(q(z) || p(z)), q(z) = (1/N) sum_n q(z|x_n) the
  aggregated posterior of the N scored examples. ``kl_posterior`` is the left side;
  ``mutual_info`` = E_n[-H(q(z|x_n))] - E[log q(z_n)] at z_n ~ q(z|x_n), log q(z) by the
  log-mean-exp over all N components; ``kl_aggregate`` = the difference. With q(z) a mixture of
  N components, I_q(x; z) <= log N, so compare figures of one N (``divergences.n_codes``).
"""

from __future__ import annotations

import math

from torch import Tensor

from aelab.divergences.kl import gaussian_kl_per_dim, kl_to_prior
from aelab.priors import Prior, StandardGaussian

ACTIVE_THRESHOLD = 0.01


def active_units(means: Tensor, prior_variance: float = 1.0) -> Tensor:
    """How many dimensions of E_q[z|x] (n x d) vary over x by more than 0.01 prior variances."""
    return (means.double().var(0) > ACTIVE_THRESHOLD * prior_variance).sum()


def kl_per_dim(mu: Tensor, logvar: Tensor, prior_scale: float = 1.0) -> Tensor:
    """E_x KL(q(z_i|x) || N(0, s^2)) per dimension i (nats), averaged over the n examples."""
    return gaussian_kl_per_dim(mu.double(), logvar.double(), prior_scale).mean(0)


def log_aggregate_posterior(z: Tensor, mu: Tensor, logvar: Tensor) -> Tensor:
    """log q(z_m) = log (1/N) sum_n N(z_m; mu_n, diag exp(logvar_n)) for every row z_m, by the
    expansion of the Gaussian exponent into matrix products (no N x N x d tensor)."""
    z, mu, logvar = z.double(), mu.double(), logvar.double()
    precision = (-logvar).exp()  # N x d
    quad = (
        z.pow(2) @ precision.T - 2 * z @ (mu * precision).T + (mu.pow(2) * precision).sum(1)
    )  # M x N: sum_d (z_md - mu_nd)^2 / sigma_nd^2
    log_norm = logvar.sum(1) + mu.shape[1] * math.log(2 * math.pi)  # N
    log_components = -0.5 * (quad + log_norm)
    return log_components.logsumexp(1) - math.log(len(mu))


def kl_decomposition(z: Tensor, mu: Tensor, logvar: Tensor, prior: Prior) -> dict[str, Tensor]:
    """``kl_posterior``, ``mutual_info`` and ``kl_aggregate`` (nats) of Hoffman & Johnson's
    decomposition, from z_n ~ q(z|x_n) and the posteriors' parameters of N examples.

    I_q(x; z) = E_n[-H(q(z|x_n))] - E_{q(z)}[log q(z)], the entropies in closed form and the
    second term at the drawn z_n (the estimator of He et al. 2019, Sec. 4.2); then
    KL(q(z) || p(z)) = ``kl_posterior`` - I, so the three add up exactly."""
    z, mu, logvar = z.double(), mu.double(), logvar.double()
    kl_posterior = kl_to_prior(z, mu, logvar, prior).mean()
    neg_entropy = -0.5 * (logvar + math.log(2 * math.pi) + 1).sum(1).mean()
    mutual_info = neg_entropy - log_aggregate_posterior(z, mu, logvar).mean()
    return {
        "kl_posterior": kl_posterior,
        "kl_aggregate": kl_posterior - mutual_info,
        "mutual_info": mutual_info,
    }


def collapse_diagnostics(
    z: Tensor, mu: Tensor, logvar: Tensor | None, prior: Prior
) -> tuple[dict[str, Tensor], dict[str, list[float]]]:
    """Scalars (``active_units``, and for a Gaussian encoder the KL decomposition) and vectors
    (``kl_per_dim`` for a Gaussian encoder under a N(0, s^2 I) prior)."""
    scalars = {"active_units": active_units(mu, prior.variance())}
    vectors: dict[str, list[float]] = {}
    if logvar is None or not prior.density_everywhere:  # no KL to a prior without a density
        return scalars, vectors
    scalars.update(kl_decomposition(z, mu, logvar, prior))
    if isinstance(prior, StandardGaussian):
        vectors["kl_per_dim"] = kl_per_dim(mu, logvar, prior.scale).tolist()
    return scalars, vectors
