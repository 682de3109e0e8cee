"""Reconstruction grid: validation images above their reconstructions, as PNG and to the loggers."""

from __future__ import annotations

from pathlib import Path

import pytorch_lightning as pl
import torch
from pytorch_lightning.utilities import rank_zero_only

from aelab.callbacks.images import emit, image_grid, label_rows


class ReconstructionGrid(pl.Callback):
    """Saves ``reconstructions.png`` in ``dirpath`` at the end of fit (image data only).

    Rows alternate, labelled on the left: ``n_per_row`` originals (``data``), then their
    reconstructions (``recon``). With
    ``every_n_epochs > 0`` the grid is also sent to the loggers during training.
    """

    def __init__(
        self, dirpath: str, n: int = 64, n_per_row: int = 16, every_n_epochs: int = 0
    ) -> None:
        self.dirpath, self.n, self.n_per_row, self.every_n_epochs = (
            Path(dirpath),
            n,
            n_per_row,
            every_n_epochs,
        )

    @torch.no_grad()
    def grid(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> torch.Tensor | None:
        from aelab.data import as_float

        dm = trainer.datamodule
        if dm is None or not dm.is_image or not hasattr(pl_module, "reconstruct"):
            return None
        x = as_float(dm.splits["val"][0][: self.n]).to(pl_module.device)
        was_training = pl_module.training
        pl_module.eval()
        x_hat = pl_module.reconstruct(x)
        pl_module.train(was_training)
        k = self.n_per_row
        rows = [t for i in range(0, len(x), k) for t in (x[i : i + k], x_hat[i : i + k])]
        return label_rows(image_grid(torch.cat(rows), k), ["data", "recon"] * (len(rows) // 2))

    @rank_zero_only
    def _emit(self, trainer: pl.Trainer, pl_module: pl.LightningModule, save: bool) -> None:
        grid = self.grid(trainer, pl_module)
        if grid is not None:
            emit(trainer, "reconstructions", grid, self.dirpath if save else None)

    def on_validation_epoch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        epoch = trainer.current_epoch + 1
        if self.every_n_epochs and not trainer.sanity_checking and epoch % self.every_n_epochs == 0:
            self._emit(trainer, pl_module, save=False)

    def on_fit_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        self._emit(trainer, pl_module, save=True)
