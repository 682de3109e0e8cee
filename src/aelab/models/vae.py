"""Variational autoencoder (Kingma & Welling 2013) with the IWAE bound for evaluation (Burda et al. 2015)."""

from __future__ import annotations

import math
from typing import Any

import torch
from torch import Tensor

from aelab.divergences.kl import gaussian_log_prob, kl_to_prior
from aelab.models.base import AutoencoderModule, reparameterize


class VAE(AutoencoderModule):
    """Gaussian encoder q(z|x) = N(mu, diag sigma^2), z by the reparameterization trick.

    Training loss: E_q[-log p(x|z)] + beta * KL(q(z|x) || p(z)) (``prior_loss=kl``, beta =
    ``prior_loss.weight``), or + lambda * MMD^2(q(z), p(z)) (``prior_loss=mmd``, InfoVAE).
    Either way ``elbo`` = E_q[log p(x|z)] - KL (beta = 1) is logged, a lower bound of log p(x)
    in nats (one sample of z per example), with ``kl`` and ``recon_nll`` beside it.

    ``iwae_samples`` = k > 0 adds ``test/nll_iwae``: -log (1/k) sum_i p(x, z_i) / q(z_i|x),
    z_i ~ q(z|x), the importance-weighted bound of Burda et al. (2015, Eq. 8) (k = 5000 in
    their tables): an upper bound on -log p(x) that is at most -ELBO and tightens as k grows.
    ``iwae_chunk`` bounds how many decoder evaluations run at once (memory).
    """

    prior_losses = ("kl", "mmd")

    def __init__(
        self,
        data_shape: Any,
        latent_dim: int,
        iwae_samples: int = 0,
        iwae_chunk: int = 20000,
        **kwargs: Any,
    ) -> None:
        super().__init__(data_shape, latent_dim, n_params=2, **kwargs)
        self.iwae_samples, self.iwae_chunk = iwae_samples, iwae_chunk

    def step(self, x: Tensor) -> tuple[Tensor, dict[str, Tensor], Tensor]:
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
        logs = {"elbo": -(recon + kl).mean(), "kl": kl.mean(), "recon_nll": recon.mean()}
        if self.prior_loss.name != "kl":
            logs[self.prior_loss.name] = penalty
        return loss, logs, out

    @torch.no_grad()
    def iwae_log_likelihood(self, x: Tensor, k: int) -> Tensor:
        """log (1/k) sum_i p(x|z_i) p(z_i) / q(z_i|x) per example, z_i ~ q(z|x) (Burda 2015, Eq. 8)."""
        mu, logvar = self.posterior(x)
        log_w = []
        per_pass = max(1, self.iwae_chunk // len(x))
        for start in range(0, k, per_pass):
            n = min(per_pass, k - start)
            z = reparameterize(
                mu.expand(n, *mu.shape), logvar.expand(n, *logvar.shape)
            )  # n x B x d
            out = self.decode(z.flatten(0, 1))
            log_px = -self.decoder.likelihood.nll(out, x.repeat(n, *([1] * (x.dim() - 1)))).view(
                n, -1
            )
            log_w.append(log_px + self.prior.log_prob(z) - gaussian_log_prob(z, mu, logvar))
        return torch.logsumexp(torch.cat(log_w), dim=0) - math.log(k)

    def test_step(self, batch: tuple[Tensor, Tensor], batch_idx: int) -> None:
        super().test_step(batch, batch_idx)
        if self.iwae_samples > 0:
            nll = -self.iwae_log_likelihood(batch[0], self.iwae_samples).mean()
            self.log("test/nll_iwae", nll, batch_size=len(batch[0]), sync_dist=True)
