"""Denoising autoencoder (Vincent et al. 2008), the score it learns (Alain & Bengio 2014),
and its noise-conditional form over a ladder of noise levels (Song & Ermon 2019, NCSN)."""

from __future__ import annotations

import functools
from typing import Any

import torch
from torch import Tensor

from aelab.errors import ConfigError
from aelab.models.base import AutoencoderModule
from aelab.sampling import annealed_langevin, geometric_sigmas, langevin

Sigma = float | Tensor  # one noise level, or one per example


class DenoisingAutoencoder(AutoencoderModule):
    """Reconstruct the clean x from a corrupted x~: loss = -log p(x | z = f(x~)), batch mean.

    ``corruption="gaussian"``: x~ = x + sigma * eps. The best reconstruction is then
    r*(x~) = E[x | x~] = x~ + sigma^2 grad log p_sigma(x~) (Tweedie's formula; Alain & Bengio
    2014, Thm. 1, as sigma -> 0), so :meth:`score` = (r(x) - x) / sigma^2 estimates the score
    of the data smoothed by N(0, sigma^2 I), which Langevin dynamics can sample from.
    ``corruption="masking"``: each input value is set to 0 with probability ``mask_prob``
    (Vincent et al. 2008); it defines no score.

    ``levels > 1``: one network over the geometric ladder ``sigma_max`` ... ``sigma``
    (Song & Ermon 2019: 1 to 0.01 in 10 levels), its encoder and decoder conditioned on
    log sigma. Each example draws its level uniformly; its loss is weighted by
    (sigma_min / sigma)^2, Song & Ermon's lambda(sigma) = sigma^2 of their Eq. 2 written for
    the reconstruction (sigma s + (x~ - x) / sigma = (r - x) / sigma), scaled so that the
    smallest level has weight 1. :meth:`generate` then runs annealed Langevin dynamics.
    """

    prior_losses = ("none",)
    takes_prior = False
    takes_prior_reason = "it samples by Langevin dynamics on its learned score"

    def __init__(
        self,
        data_shape: Any,
        latent_dim: int,
        sigma: float = 0.1,
        corruption: str = "gaussian",
        mask_prob: float = 0.25,
        levels: int = 1,
        sigma_max: float = 1.0,
        langevin_steps: int | None = None,
        step_size: float | None = None,
        denoise: bool = True,
        network: Any = None,
        **kwargs: Any,
    ) -> None:
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
        if not (isinstance(levels, int) and levels >= 1):
            raise ConfigError(f"model.levels={levels} is not allowed: use an integer >= 1.")
        if levels > 1 and corruption != "gaussian":
            raise ConfigError("model.levels > 1 needs model.corruption=gaussian.")
        if levels > 1 and not sigma_max > sigma:
            raise ConfigError(
                f"model.sigma_max={sigma_max} is not allowed: it must exceed model.sigma={sigma}."
            )
        if levels > 1 and network is not None:
            network = functools.partial(network, cond_dim=1)  # log sigma
        if kwargs.get("prior") is not None:
            raise ConfigError(
                f"model=dae takes no latent prior ({self.takes_prior_reason}): use prior=none."
            )
        super().__init__(data_shape, latent_dim, network=network, **kwargs)
        if levels > 1 and network is not None and self.decoder.likelihood.name != "gaussian":
            raise ConfigError(
                f"model.levels > 1 trains denoising score matching, whose weights lambda(sigma) = sigma^2 are those of a squared error, not of network.likelihood={self.decoder.likelihood.name}: use network.likelihood=gaussian."
            )
        self.sigma, self.corruption, self.mask_prob = sigma, corruption, mask_prob
        self.langevin_steps, self.step_size, self.final_denoise = langevin_steps, step_size, denoise
        self.sigmas = geometric_sigmas(sigma_max, sigma, levels) if levels > 1 else [sigma]
        self.register_buffer("noise_levels", torch.tensor(self.sigmas), persistent=False)
        # where generate() starts its chains: uniform over the training data's range
        self.register_buffer("data_range", torch.tensor([0.0, 1.0]))

    @property
    def conditional(self) -> bool:
        return len(self.sigmas) > 1

    def setup(self, stage: str) -> None:
        super().setup(stage)
        dm = self.trainer.datamodule if self._trainer is not None else None
        if stage == "fit" and getattr(dm, "splits", None) is not None:
            from aelab.data import as_float

            x = dm.splits["train"][0]
            self.data_range.copy_(as_float(torch.stack([x.min(), x.max()])))

    # --- the denoiser ----------------------------------------------------------------------
    def _cond(self, x: Tensor, sigma: Sigma | None) -> Tensor | None:
        if not self.conditional:
            return None
        s = torch.as_tensor(self.sigma if sigma is None else sigma, dtype=x.dtype, device=x.device)
        return s.log().expand(len(x)).reshape(-1, 1)

    def posterior(self, x: Tensor, sigma: Sigma | None = None) -> tuple[Tensor, None]:
        """The code of x~ (at noise level ``sigma``; default the smallest) and no variance."""
        return self.encoder(x, self._cond(x, sigma)), None

    def decode(self, z: Tensor, sigma: Sigma | None = None) -> Tensor:
        return self.decoder(z, self._cond(z, sigma))

    def denoise(self, x: Tensor, sigma: Sigma | None = None) -> Tensor:
        """r(x~) = E[x | x~] at noise level ``sigma`` (default: the smallest)."""
        return self.decoder.likelihood.mean(self.decode(self.posterior(x, sigma)[0], sigma))

    def corrupt(self, x: Tensor, sigma: Sigma | None = None) -> Tensor:
        if self.corruption == "masking":
            return x * (torch.rand_like(x) >= self.mask_prob)
        sigma = self.sigma if sigma is None else sigma
        if isinstance(sigma, Tensor):
            sigma = sigma.view(-1, *[1] * (x.dim() - 1))
        return x + sigma * torch.randn_like(x)

    def step(self, x: Tensor) -> tuple[Tensor, dict[str, Tensor], Tensor]:
        levels = self.noise_levels
        sigma = (
            levels[torch.randint(len(levels), (len(x),), device=x.device)]
            if self.conditional
            else levels[0]
        )
        out = self.decode(self.posterior(self.corrupt(x, sigma), sigma)[0], sigma)
        weight = (self.sigma / sigma) ** 2  # 1 for a single level
        loss = (self.decoder.likelihood.nll(out, x) * weight).mean()
        logs = {}
        if not self.training and self.corruption == "gaussian":
            # the denoising score matching loss in score units, whatever the likelihood:
            # 1/2 ||sigma s(x~) + (x~ - x) / sigma||^2 = 1/2 ||r(x~) - x||^2 / sigma^2
            # (Vincent 2011; Song & Ermon 2019, Eq. 2 with lambda = sigma^2), per example
            sq = (self.decoder.likelihood.mean(out) - x).pow(2).flatten(1).sum(1)
            logs["dsm_loss"] = (0.5 * sq / sigma**2).mean()
        return loss, logs, out

    def score(self, x: Tensor, sigma: float | None = None) -> Tensor:
        """(r(x) - x) / sigma^2: the learned grad_x log p_sigma(x) (Gaussian corruption only)."""
        if self.corruption != "gaussian":
            raise ConfigError(
                "model.corruption=masking defines no score: use model.corruption=gaussian."
            )
        sigma = self.sigma if sigma is None else sigma
        return (self.denoise(x, sigma) - x) / sigma**2

    # --- sampling --------------------------------------------------------------------------
    @property
    def can_generate(self) -> bool:
        return self.corruption == "gaussian"

    @torch.no_grad()
    def generate(
        self,
        n: int,
        x0: Tensor | None = None,
        steps: int | None = None,
        step_size: float | None = None,
        denoise: bool | None = None,
    ) -> Tensor:
        """``n`` samples by Langevin dynamics on the learned score, from ``x0`` (default:
        uniform over the training data's range, as Song & Ermon start). Arguments left ``None``
        take the model's ``langevin_steps``, ``step_size`` and ``denoise``.

        One level: ``steps`` (default 1000) of step ``step_size`` (default 0.1 sigma^2) in
        x + step * score + sqrt(2 step) z. Several: annealed Langevin, ``steps`` per level
        (default T = 100), the step at level i ``step_size * sigma_i^2 / sigma_L^2``: their
        official code's convention, where ``step_size`` is their eps (2e-5 in the paper's
        runs; the paper's Alg. 1 writes the same update with alpha / 2). ``denoise`` ends with
        x + sigma_L^2 score(x) = r(x), Tweedie's posterior mean, which removes the noise of the
        last level (Jolicoeur-Martineau et al. 2021, Sec. 3).
        """
        steps = self.langevin_steps if steps is None else steps
        step_size = self.step_size if step_size is None else step_size
        denoise = self.final_denoise if denoise is None else denoise
        if x0 is None:
            lo, hi = self.data_range
            x0 = lo + (hi - lo) * torch.rand(n, *self.data_shape, device=self.device)
        step = 0.1 * self.sigma**2 if step_size is None else step_size
        if self.conditional:
            per_level = 100 if steps is None else steps
            return annealed_langevin(self.score, x0, self.sigmas, step, per_level, denoise=denoise)
        x = langevin(self.score, x0, step, 1000 if steps is None else steps)
        return self.denoise(x) if denoise else x
