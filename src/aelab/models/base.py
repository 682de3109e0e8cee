"""The base every family builds on: encode / decode / reconstruction metrics / optimizers.

A family subclasses :class:`AutoencoderModule` and adds only what is its own: usually
:meth:`step` (its loss on a batch), sometimes :meth:`encode` (a Gaussian encoder's mean) or
``training_step`` itself (manual optimization, closed-form fits).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import pytorch_lightning as pl
import torch
from torch import Tensor, nn

from aelab.metrics import ReconstructionError
from aelab.nets import Networks
from aelab.priors import Prior

STAGES = ("train", "val", "test")


class AutoencoderModule(pl.LightningModule):
    """Shared LightningModule of every family.

    Args:
        data_shape: shape of one example, e.g. ``(1, 28, 28)``.
        latent_dim: size of the code z.
        network: builder ``(data_shape, latent_dim, n_params) -> Networks`` (``network`` group).
        optimizer: partial ``params -> torch.optim.Optimizer`` (``optimizer`` group).
        scheduler: optional partial ``optimizer -> LRScheduler`` (``scheduler`` group).
        prior: the latent prior p(z) (``prior`` group).
        prior_loss: how q(z) is pulled toward p(z) (``prior_loss`` group); ``None``: not at all.
    """

    #: prior losses (``prior_loss=`` choices) this family accepts.
    prior_losses: tuple[str, ...] = ("none",)
    #: encoder outputs per latent dimension (2 for a Gaussian encoder's mean and log-variance).
    n_params: int = 1

    def __init__(
        self,
        data_shape: Sequence[int],
        latent_dim: int,
        network: Callable[..., Networks] | None = None,
        optimizer: Callable[..., torch.optim.Optimizer] | None = None,
        scheduler: Callable[..., Any] | None = None,
        prior: Prior | None = None,
        prior_loss: nn.Module | None = None,
    ) -> None:
        super().__init__()
        self.data_shape, self.latent_dim = tuple(data_shape), latent_dim
        self.optimizer_factory, self.scheduler_factory = optimizer, scheduler
        self.prior, self.prior_loss = prior, prior_loss
        if network is not None:
            self.encoder, self.decoder = network(
                data_shape=self.data_shape, latent_dim=latent_dim, n_params=self.n_params
            )
        is_image = len(self.data_shape) == 3
        # keyed "<stage>_error": a ModuleDict key "train" would clash with nn.Module.train
        self.recon = nn.ModuleDict(
            {f"{s}_error": ReconstructionError(with_bce=is_image) for s in STAGES}
        )
        self.run_config: dict | None = None  # the composed Hydra config, stored in checkpoints

    # --- the autoencoder -------------------------------------------------------------------
    def encode(self, x: Tensor) -> Tensor:
        """The code of ``x`` (a Gaussian encoder's mean): what metrics and probes see."""
        return self.encoder(x)

    def decode(self, z: Tensor) -> Tensor:
        """The decoder's raw output (logits for a Bernoulli likelihood)."""
        return self.decoder(z)

    def reconstruct(self, x: Tensor) -> Tensor:
        """The expected reconstruction E[x | z = encode(x)], in data space."""
        return self.decoder.likelihood.mean(self.decode(self.encode(x)))

    def step(self, x: Tensor) -> tuple[Tensor, dict[str, Tensor], Tensor]:
        """The family's objective on a batch: ``(loss, other scalars to log, reconstruction)``."""
        raise NotImplementedError

    # --- Lightning hooks -------------------------------------------------------------------
    def training_step(self, batch: tuple[Tensor, Tensor], batch_idx: int) -> Tensor:
        x, _ = batch
        loss, logs, x_hat = self.step(x)
        self.recon["train_error"].update(x_hat, x)
        self.log("train/loss", loss, prog_bar=True)
        self.log_dict({f"train/{k}": v for k, v in logs.items()})
        return loss

    def validation_step(self, batch: tuple[Tensor, Tensor], batch_idx: int) -> None:
        self._evaluate(batch, "val")

    def test_step(self, batch: tuple[Tensor, Tensor], batch_idx: int) -> None:
        self._evaluate(batch, "test")

    def _evaluate(self, batch: tuple[Tensor, Tensor], stage: str) -> None:
        x, _ = batch
        loss, logs, x_hat = self.step(x)
        self.recon[f"{stage}_error"].update(x_hat, x)
        logs = {"loss": loss, **logs}
        self.log_dict(
            {f"{stage}/{k}": v for k, v in logs.items()}, batch_size=len(x), sync_dist=True
        )

    def on_train_epoch_end(self) -> None:
        self._log_recon("train")

    def on_validation_epoch_end(self) -> None:
        self._log_recon("val")

    def on_test_epoch_end(self) -> None:
        self._log_recon("test")

    def _log_recon(self, stage: str) -> None:
        metric = self.recon[f"{stage}_error"]
        if not metric.update_called:  # e.g. a family that does not train by batches
            return
        # compute() has already reduced across processes; sync_dist only silences Lightning's warning
        self.log_dict(
            {f"{stage}/{k}": v for k, v in metric.compute().items()},
            prog_bar=stage == "val",
            sync_dist=True,
        )
        metric.reset()

    def configure_optimizers(self) -> Any:
        optimizer = self.optimizer_factory(self.parameters())
        if self.scheduler_factory is None:
            return optimizer
        return {
            "optimizer": optimizer,
            "lr_scheduler": {"scheduler": self.scheduler_factory(optimizer), "monitor": "val/loss"},
        }

    def on_save_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        checkpoint["aelab_config"] = self.run_config
