"""Variational autoencoder (Kingma & Welling 2013) with the IWAE bound for evaluation (Burda et al. 2015)."""

from __future__ import annotations

import math
from typing import Any

import torch
from torch import Tensor

from aelab.divergences.kl import gaussian_log_prob, kl_to_prior
from aelab.errors import ConfigError
from aelab.models.base import AutoencoderModule, reparameterize


class VAE(AutoencoderModule):
    """Gaussian encoder q(z|x) = N(mu, diag sigma^2), z by the reparameterization trick.

    Training loss: E_q[-log p(x|z)] + beta * KL(q(z|x) || p(z)) (``prior_loss=kl``, beta =
    ``prior_loss.weight``), or + lambda * MMD^2(q(z), p(z)) (``prior_loss=mmd``, InfoVAE).
    Either way ``elbo`` = E_q[log p(x|z)] - KL (beta = 1) is logged, a lower bound of log p(x)
    in nats (one sample of z per example), with ``kl`` and ``recon_nll`` beside it.

    Names in nats are kept for true log-densities: with a Bernoulli decoder on grey levels
    (not binarized) the decoder term is a cross-entropy, so it is logged as ``recon_xent``,
    no ``elbo`` is logged, and the IWAE bounds are ``iwae_xent`` / ``iwae_bound_xent``
    (:attr:`~aelab.models.base.AutoencoderModule.likelihood_is_density`).

    ``iwae_samples`` = k > 0 adds ``test/nll_iwae``: -log (1/k) sum_i p(x, z_i) / q(z_i|x),
    z_i ~ q(z|x), the importance-weighted bound of Burda et al. (2015, Eq. 8) (k = 5000 in
    their tables): an upper bound on -log p(x) that is at most -ELBO and tightens as k grows.
    ``iwae_chunk`` bounds how many decoder evaluations run at once (memory).

    ``train_samples`` = k > 1 trains on that bound instead of the ELBO: the IWAE of Burda et
    al. (k = 50 in their Table 1), with k reparameterized samples per example (``prior_loss``
    must then be ``kl`` with weight 1: the bound has no separate prior term to weigh).
    """

    prior_losses = ("kl", "mmd")
    needs_prior = needs_prior_density = True

    def __init__(
        self,
        data_shape: Any,
        latent_dim: int,
        iwae_samples: int = 0,
        iwae_chunk: int = 20000,
        train_samples: int = 1,
        **kwargs: Any,
    ) -> None:
        super().__init__(data_shape, latent_dim, n_params=2, **kwargs)
        self.iwae_samples, self.iwae_chunk = iwae_samples, iwae_chunk
        if not (isinstance(train_samples, int) and train_samples >= 1):
            raise ConfigError(
                f"model.train_samples={train_samples} is not allowed: use an integer >= 1."
            )
        loss = self.prior_loss
        if train_samples > 1 and loss is not None and (loss.name != "kl" or loss.weight != 1):
            raise ConfigError(
                "model.train_samples > 1 trains on the IWAE bound: use prior_loss=kl with prior_loss.weight=1."
            )
        self.train_samples = train_samples

    def step(self, x: Tensor) -> tuple[Tensor, dict[str, Tensor], Tensor]:
        if self.train_samples > 1:
            return self.iwae_step(x)
        mu, logvar = self.posterior(x)
        z = reparameterize(mu, logvar)
        out = self.decode(z)
        recon = self.decoder.likelihood.nll(out, x)
        kl = kl_to_prior(z, mu, logvar, self.prior)
        # the KL prior loss is this same KL: do not compute it twice
        penalty = (
            kl.mean()
            if self.prior_loss.name == "kl"
            else self.prior_loss(z, self.prior, mu, logvar)
        )
        loss = recon.mean() + self.prior_loss.weight * penalty
        logs = {"kl": kl.mean(), self.recon_key: recon.mean()}
        if self.likelihood_is_density:
            logs["elbo"] = -(recon + kl).mean()
        if self.prior_loss.name != "kl":
            logs[self.prior_loss.name] = penalty
        return loss, logs, out

    def log_weights(self, x: Tensor, k: int, mu: Tensor, logvar: Tensor) -> tuple[Tensor, Tensor]:
        """log p(x|z_i) + log p(z_i) - log q(z_i|x) for k draws z_i ~ q(z|x) (k x B), and the
        decoder's outputs (k*B x ...)."""
        z = reparameterize(mu.expand(k, *mu.shape), logvar.expand(k, *logvar.shape))  # k x B x d
        out = self.decode(z.flatten(0, 1))
        x_k = x.repeat(k, *([1] * (x.dim() - 1)))
        log_px = -self.decoder.likelihood.nll(out, x_k).view(k, -1)
        return log_px + self.prior.log_prob(z) - gaussian_log_prob(z, mu, logvar), out

    def iwae_step(self, x: Tensor) -> tuple[Tensor, dict[str, Tensor], Tensor]:
        """Loss -L_k = -log (1/k) sum_i w_i (Burda et al. 2015, Eq. 8), reparameterized."""
        k = self.train_samples
        log_w, out = self.log_weights(x, k, *self.posterior(x))
        bound = torch.logsumexp(log_w, dim=0) - math.log(k)
        if self.likelihood_is_density:  # elbo: the mean of the k one-sample ELBOs
            logs = {"iwae_bound": bound.mean(), "elbo": log_w.mean()}
        else:
            logs = {"iwae_bound_xent": bound.mean()}
        return -bound.mean(), logs, out[: len(x)]

    @torch.no_grad()
    def iwae_log_likelihood(self, x: Tensor, k: int) -> Tensor:
        """log (1/k) sum_i p(x|z_i) p(z_i) / q(z_i|x) per example, z_i ~ q(z|x) (Burda 2015, Eq. 8)."""
        mu, logvar = self.posterior(x)
        per_pass = max(1, self.iwae_chunk // len(x))
        log_w = [
            self.log_weights(x, min(per_pass, k - start), mu, logvar)[0]
            for start in range(0, k, per_pass)
        ]
        return torch.logsumexp(torch.cat(log_w), dim=0) - math.log(k)

    def test_step(self, batch: tuple[Tensor, Tensor], batch_idx: int) -> None:
        super().test_step(batch, batch_idx)
        if self.iwae_samples > 0:
            nll = -self.iwae_log_likelihood(batch[0], self.iwae_samples).mean()
            key = "nll_iwae" if self.likelihood_is_density else "iwae_xent"
            self.accumulate("test", {key: nll}, len(batch[0]))
