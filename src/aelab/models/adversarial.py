"""Adversarial prior matching with manual optimization: the adversarial autoencoder
(``model=aae``, JS discriminator on the latent; Makhzani et al. 2015), which with a
deterministic encoder is the WAE-GAN of Tolstikhin et al. (2018, Alg. 1), and the
latent-critic Wasserstein autoencoder (``model=wae``, a WGAN critic on the latent; the
reference sheet's formulation).

``update="joint"`` (default), the update of the WAE paper and its code (Tolstikhin et al. 2018,
Alg. 1; ``wae.py`` runs ``ae_opt`` then ``z_adv_opt`` on each batch; pythae's
``Adversarial_AE`` does the same):

1. one step of encoder and decoder on  -log p(x | z) + lambda * (the encoder's loss against
   the critic), z ~ q(z|x): lambda (``prior_loss.weight``) sets the balance of the two terms
   inside one gradient, so it matters whatever the optimizer;
2. ``n_critic`` critic steps: the discriminator/critic learns to tell z ~ p(z) from the codes
   (encoder frozen, codes drawn under ``no_grad``).

``update="phases"``, Makhzani et al. (2015, Sec. 2): a reconstruction step of encoder and
decoder, the critic steps, then a regularization step of the encoder alone on its loss
against the critic. An adaptive optimizer (Adam, RMSprop) takes the same step whatever the
scale of its loss, so a weight on that loss would do nothing: in this mode lambda is the
regularization step's learning rate as a multiple of the reconstruction step's.

Each step toggles its own optimizer (the other parameters get no gradient), clips its own
gradients, and uses ``manual_backward`` (which keeps DDP's gradient sync right).

Model selection: ``loss`` (train and val) is the reconstruction term alone. The adversary's
estimate of the divergence (``jsd_estimate``, ``w1_estimate``) moves with the adversary's
strength, not only with q(z), so it is logged beside ``loss`` but never selected on; the
adversary-free yardsticks (``mmd_prior``, ``swd_prior`` and the ``divergences`` section: k-NN KL,
a classifier two-sample test trained afresh, exact W1) are logged for every family.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
from torch import Tensor

from aelab.errors import ConfigError
from aelab.models.base import AutoencoderModule
from aelab.prior_losses import AdversarialPriorLoss

UPDATES = ("joint", "phases")


class AdversarialAutoencoder(AutoencoderModule):
    """Args beyond the base's:
    stochastic_encoder: a Gaussian encoder (z by the reparameterization trick) instead of a
        deterministic one (Makhzani et al. 2015 discuss both).
    gradient_clip: max gradient norm for every optimizer step (``None``: no clipping).
    update: ``joint`` (Tolstikhin et al. 2018, Alg. 1) or ``phases`` (Makhzani et al. 2015):
        see the module docstring for what lambda means in each.
    """

    prior_losses = ("jsd", "wasserstein")

    def __init__(
        self,
        data_shape: Any,
        latent_dim: int,
        stochastic_encoder: bool = False,
        gradient_clip: float | None = None,
        update: str = "joint",
        **kwargs: Any,
    ) -> None:
        super().__init__(data_shape, latent_dim, n_params=2 if stochastic_encoder else 1, **kwargs)
        if not isinstance(self.prior_loss, AdversarialPriorLoss):
            raise TypeError("the adversarial family needs prior_loss=jsd or prior_loss=wasserstein")
        if update not in UPDATES:
            raise ConfigError(f"model.update={update!r} is not allowed: use joint or phases.")
        self.automatic_optimization = False
        self.gradient_clip, self.update = gradient_clip, update

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

    def joint_objective(self, x: Tensor) -> tuple[Tensor, dict[str, Tensor]]:
        """-log p(x | z) + lambda * encoder_loss(z), z ~ q(z|x), batch means: what the joint
        step minimises (Tolstikhin et al. 2018, Alg. 1, with the critic's loss for the
        divergence term), and its two terms."""
        z = self.sample_code(x)
        out = self.decode(z)
        recon = self.decoder.likelihood.nll(out, x).mean()
        adversarial = self.prior_loss.encoder_loss(z)
        terms = {"recon": recon.detach(), "encoder_loss": adversarial.detach(), "out": out.detach()}
        return recon + self.prior_loss.weight * adversarial, terms

    def training_step(self, batch: tuple[Tensor, Tensor], batch_idx: int) -> None:
        x, _ = batch
        optimizers = self.optimizers()
        opt_ae, opt_critic = optimizers[0], optimizers[1]
        critic = self.prior_loss

        def autoencoder() -> tuple[Tensor, dict[str, Tensor]]:
            if self.update == "joint":
                return self.joint_objective(x)
            out = self.decode(self.sample_code(x))
            recon = self.decoder.likelihood.nll(out, x).mean()
            return recon, {"recon": recon.detach(), "out": out.detach()}

        def critic_step() -> tuple[Tensor, dict[str, Tensor]]:
            with torch.no_grad():  # the codes are fixed inputs: no gradient reaches the encoder
                z_code = self.sample_code(x)
            return critic.critic_loss(self.prior.sample(len(x)), z_code)

        def regularization() -> tuple[Tensor, Tensor]:
            encoder_loss = critic.encoder_loss(self.sample_code(x))
            return encoder_loss, encoder_loss.detach()

        _, terms = self._optimizer_step(opt_ae, autoencoder)
        for _ in range(critic.n_critic):
            critic_loss, estimates = self._optimizer_step(opt_critic, critic_step)
            critic.after_critic_step()
        if self.update == "phases":
            _, terms["encoder_loss"] = self._optimizer_step(optimizers[2], regularization)

        if self.logging_step():
            logs = {
                self.recon_key: terms["recon"].detach(),
                "encoder_loss": terms["encoder_loss"].detach(),
                "critic_loss": critic_loss,
                **estimates,
            }
            self.check_finite({"loss": logs[self.recon_key], **logs})
            self.recon["train_error"].update(self.decoder.likelihood.mean(terms["out"].detach()), x)
            self.log_train({"loss": logs[self.recon_key], **logs})

    def step(self, x: Tensor) -> tuple[Tensor, dict[str, Tensor], Tensor]:
        """Evaluation: ``loss`` is the reconstruction term (independent of the adversary, so
        checkpoints are selected on it); the critic's divergence estimate (JSD or W1) and the
        encoder's loss against the critic are logged beside it."""
        z = self.sample_code(x)
        out = self.decode(z)
        recon = self.decoder.likelihood.nll(out, x).mean()
        estimates = self.prior_loss.estimate(self.prior.sample(len(x)), z)
        logs = {
            self.recon_key: recon,
            "encoder_loss": self.prior_loss.encoder_loss(z),
            **estimates,
        }
        return recon, logs, out

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
        ]
        if self.update == "phases":
            regularization = self.optimizer_factory(self.encoder.parameters())
            for group in regularization.param_groups:  # lambda: the learning-rate ratio
                group["lr"] *= self.prior_loss.weight
            optimizers.append(regularization)
        if self.scheduler_factory is None:
            return optimizers
        return optimizers, [self.scheduler_factory(opt) for opt in optimizers]
