"""Denoising autoencoder (Vincent et al. 2008) and the score it learns (Alain & Bengio 2014)."""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

from aelab.errors import ConfigError
from aelab.models.base import AutoencoderModule


class DenoisingAutoencoder(AutoencoderModule):
    """Reconstruct the clean x from a corrupted x~: loss = -log p(x | z = f(x~)), batch mean.

    ``corruption="gaussian"``: x~ = x + sigma * eps. The best reconstruction is then
    r*(x~) = E[x | x~] = x~ + sigma^2 grad log p_sigma(x~) (Tweedie's formula; Alain & Bengio
    2014, Thm. 1, as sigma -> 0), so :meth:`score` = (r(x) - x) / sigma^2 estimates the score
    of the data smoothed by N(0, sigma^2 I), which Langevin dynamics can sample from.
    ``corruption="masking"``: each input value is set to 0 with probability ``mask_prob``
    (Vincent et al. 2008); it defines no score.
    """

    prior_losses = ("none",)

    def __init__(
        self,
        data_shape: Any,
        latent_dim: int,
        sigma: float = 0.1,
        corruption: str = "gaussian",
        mask_prob: float = 0.25,
        **kwargs: Any,
    ) -> None:
        super().__init__(data_shape, latent_dim, **kwargs)
        if corruption not in ("gaussian", "masking"):
            raise ConfigError(
                f"model.corruption={corruption!r} is not allowed: use gaussian or masking."
            )
        if not sigma > 0:
            raise ConfigError(f"model.sigma={sigma} is not allowed: the noise level must be > 0.")
        if not 0 <= mask_prob < 1:
            raise ConfigError(
                f"model.mask_prob={mask_prob} is not allowed: use a probability in [0, 1)."
            )
        self.sigma, self.corruption, self.mask_prob = sigma, corruption, mask_prob

    def corrupt(self, x: Tensor) -> Tensor:
        if self.corruption == "gaussian":
            return x + self.sigma * torch.randn_like(x)
        return x * (torch.rand_like(x) >= self.mask_prob)

    def step(self, x: Tensor) -> tuple[Tensor, dict[str, Tensor], Tensor]:
        out = self.decode(self.encode(self.corrupt(x)))
        return self.decoder.likelihood.nll(out, x).mean(), {}, out

    def _evaluate(self, batch: tuple[Tensor, Tensor], stage: str) -> None:
        # the same corruption at every evaluation, so val/loss compares epochs (checkpointing)
        # rather than noise draws
        devices = [self.device] if self.device.type == "cuda" else []
        with torch.random.fork_rng(devices=devices):
            torch.manual_seed(0)
            super()._evaluate(batch, stage)

    def score(self, x: Tensor) -> Tensor:
        """(r(x) - x) / sigma^2: the learned grad_x log p_sigma(x) (Gaussian corruption only)."""
        if self.corruption != "gaussian":
            raise ConfigError(
                "model.corruption=masking defines no score: use model.corruption=gaussian."
            )
        return (self.reconstruct(x) - x) / self.sigma**2
