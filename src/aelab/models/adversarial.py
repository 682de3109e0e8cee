"""Adversarial prior matching with manual optimization: the adversarial autoencoder
(``model=aae``, JS discriminator; Makhzani et al. 2015) and the latent-critic Wasserstein
autoencoder (``model=wae``, WGAN critic on the latent; the reference sheet's formulation).

Note: the WAE paper's own WAE-GAN (Tolstikhin et al. 2018, Alg. 1) is a JS discriminator on
the latent with a deterministic encoder: ``model=aae`` with its lambda (see the
``tolstikhin2018_mnist_gan`` preset), not ``model=wae``.

Each training batch takes three kinds of optimizer step, following Makhzani et al. (2015,
Sec. 2: "reconstruction phase" and "regularization phase"):

1. reconstruction: encoder and decoder minimise -log p(x | z), z ~ q(z|x);
2. ``n_critic`` critic steps: the discriminator/critic learns to tell z ~ p(z) from
   z ~ q(z|x) (encoder frozen);
3. regularization: the encoder minimises lambda * (its loss against the critic) (critic frozen).

Each step toggles its own optimizer (the other parameters get no gradient), clips its own
gradients, and uses ``manual_backward`` (which keeps DDP's gradient sync right).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
from torch import Tensor

from aelab.models.base import AutoencoderModule
from aelab.prior_losses import AdversarialPriorLoss


class AdversarialAutoencoder(AutoencoderModule):
    """Args beyond the base's:
    stochastic_encoder: a Gaussian encoder (z by the reparameterization trick) instead of a
        deterministic one (Makhzani et al. 2015 discuss both).
    gradient_clip: max gradient norm for every optimizer step (``None``: no clipping).
    """

    prior_losses = ("jsd", "wasserstein")

    def __init__(
        self,
        data_shape: Any,
        latent_dim: int,
        stochastic_encoder: bool = False,
        gradient_clip: float | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(data_shape, latent_dim, n_params=2 if stochastic_encoder else 1, **kwargs)
        if not isinstance(self.prior_loss, AdversarialPriorLoss):
            raise TypeError("the adversarial family needs prior_loss=jsd or prior_loss=wasserstein")
        self.automatic_optimization = False
        self.gradient_clip = gradient_clip

    def _optimizer_step(
        self, optimizer: Any, compute: Callable[[], tuple[Tensor, Any]]
    ) -> tuple[Tensor, Any]:
        """One step of ``optimizer`` on the loss ``compute()`` returns (with anything to log)."""
        with self.toggled_optimizer(optimizer):
            loss, aux = compute()
            optimizer.zero_grad()
            self.manual_backward(loss)
            if self.gradient_clip:
                self.clip_gradients(
                    optimizer, gradient_clip_val=self.gradient_clip, gradient_clip_algorithm="norm"
                )
            optimizer.step()
        return loss.detach(), aux

    def training_step(self, batch: tuple[Tensor, Tensor], batch_idx: int) -> None:
        x, _ = batch
        opt_ae, opt_critic, opt_encoder = self.optimizers()
        likelihood, critic = self.decoder.likelihood, self.prior_loss

        def reconstruction() -> tuple[Tensor, Tensor]:
            out = self.decode(self.sample_code(x))
            return likelihood.nll(out, x).mean(), out.detach()

        def critic_step() -> tuple[Tensor, dict[str, Tensor]]:
            with torch.no_grad():  # the codes are fixed inputs: no gradient reaches the encoder
                z_code = self.sample_code(x)
            return critic.critic_loss(self.prior.sample(len(x)), z_code)

        def regularization() -> tuple[Tensor, Tensor]:
            encoder_loss = critic.encoder_loss(self.sample_code(x))
            return critic.weight * encoder_loss, encoder_loss.detach()

        recon, out = self._optimizer_step(opt_ae, reconstruction)  # 1. reconstruction phase
        for _ in range(critic.n_critic):  # 2. critic phase
            critic_loss, estimates = self._optimizer_step(opt_critic, critic_step)
            critic.after_critic_step()
        # 3. regularization phase
        _, encoder_loss = self._optimizer_step(opt_encoder, regularization)

        if self.logging_step():
            # "loss" as in val/loss: reconstruction + lambda * the critic's divergence estimate
            loss = recon + critic.weight * next(iter(estimates.values()))
            logs = {"recon_nll": recon, "critic_loss": critic_loss, "encoder_loss": encoder_loss}
            self.check_finite({"loss": loss, **logs, **estimates})
            self.recon["train_error"].update(self.decoder.likelihood.mean(out), x)
            self.log_train({"loss": loss, **logs, **estimates})

    def step(self, x: Tensor) -> tuple[Tensor, dict[str, Tensor], Tensor]:
        """Evaluation: ``loss`` = reconstruction NLL + lambda * the critic's divergence estimate
        (JSD or W1), the objective the family minimises as the current critic sees it."""
        z = self.sample_code(x)
        out = self.decode(z)
        recon = self.decoder.likelihood.nll(out, x).mean()
        estimates = self.prior_loss.estimate(self.prior.sample(len(x)), z)
        loss = recon + self.prior_loss.weight * next(iter(estimates.values()))
        logs = {"recon_nll": recon, "encoder_loss": self.prior_loss.encoder_loss(z), **estimates}
        return loss, logs, out

    def on_train_epoch_end(self) -> None:
        super().on_train_epoch_end()
        schedulers = self.lr_schedulers() or []
        for scheduler in schedulers if isinstance(schedulers, list) else [schedulers]:
            if isinstance(scheduler, torch.optim.lr_scheduler.ReduceLROnPlateau):
                scheduler.step(self.trainer.callback_metrics["val/loss"])
            else:
                scheduler.step()  # manual optimization: Lightning does not step schedulers

    def configure_optimizers(self) -> Any:
        autoencoder = [*self.encoder.parameters(), *self.decoder.parameters()]
        optimizers = [
            self.optimizer_factory(autoencoder),
            self.prior_loss.optimizer_factory(self.prior_loss.critic.parameters()),
            self.optimizer_factory(self.encoder.parameters()),
        ]
        if self.scheduler_factory is None:
            return optimizers
        return optimizers, [self.scheduler_factory(opt) for opt in optimizers]
