"""Deterministic autoencoder: minimise -log p(x | z = f(x)) (Hinton & Salakhutdinov 2006)."""

from __future__ import annotations

from torch import Tensor

from aelab.models.base import AutoencoderModule


class Autoencoder(AutoencoderModule):
    """z = encoder(x); the loss is the decoder likelihood's NLL per example, batch-averaged.

    With a Bernoulli decoder this is the cross-entropy the paper fine-tuned MNIST with; with
    a Gaussian decoder of std 1 it is half the squared error (plus a constant).
    """

    def step(self, x: Tensor) -> tuple[Tensor, dict[str, Tensor], Tensor]:
        out = self.decode(self.encode(x))
        loss = self.decoder.likelihood.nll(out, x).mean()
        return loss, {}, self.decoder.likelihood.mean(out)
