"""Deterministic autoencoder (Hinton & Salakhutdinov 2006), optionally with an MMD prior
penalty on its codes, which makes it the WAE-MMD of Tolstikhin et al. (2018, Alg. 2)."""

from __future__ import annotations

from torch import Tensor

from aelab.models.base import AutoencoderModule


class Autoencoder(AutoencoderModule):
    """z = encoder(x); loss = -log p(x | z) per example (batch mean) [+ lambda * MMD^2(q(z), p(z))].

    With a Bernoulli decoder the reconstruction term is the cross-entropy the paper
    fine-tuned MNIST with; with a Gaussian decoder of std 1, half the squared error plus a
    constant.
    """

    prior_losses = ("none", "mmd")

    def step(self, x: Tensor) -> tuple[Tensor, dict[str, Tensor], Tensor]:
        z = self.encode(x)
        out = self.decode(z)
        loss = recon = self.decoder.likelihood.nll(out, x).mean()
        logs = {}
        if self.prior_loss is not None:
            mmd = self.prior_loss(z, self.prior)
            loss = recon + self.prior_loss.weight * mmd
            logs = {self.recon_key: recon, "mmd": mmd}
        return loss, logs, out
