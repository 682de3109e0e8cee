"""Sample grids: the model's samples (decoded prior draws, or a DAE's Langevin chains) and, for
families with a latent prior, traversals that sweep one latent at a time."""

from __future__ import annotations

from pathlib import Path

import pytorch_lightning as pl
import torch
from pytorch_lightning.utilities import rank_zero_only

from aelab.callbacks.images import emit, image_grid, label_rows


class SampleGrid(pl.Callback):
    """At the end of fit, on image data: ``samples.png``, ``n`` samples of the model
    (``generate``, fixed seed), and, for families with a prior, ``traversals.png``: starting from the code of
    a validation image, one row per latent dimension (at most ``max_dims``, labelled z1, z2, ...
    on the left), that dimension
    swept over ``steps`` values in +- ``span`` prior standard deviations (Higgins et al. 2017).
    """

    def __init__(
        self,
        dirpath: str,
        n: int = 64,
        n_per_row: int = 16,
        steps: int = 11,
        span: float = 3.0,
        max_dims: int = 16,
        seed: int = 0,
    ) -> None:
        self.dirpath, self.n, self.n_per_row = Path(dirpath), n, n_per_row
        self.steps, self.span, self.max_dims, self.seed = steps, span, max_dims, seed

    @rank_zero_only
    @torch.no_grad()
    def on_fit_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        dm, prior = trainer.datamodule, getattr(pl_module, "prior", None)
        if dm is None or not dm.is_image or not getattr(pl_module, "can_generate", False):
            return
        from aelab.data import as_float

        was_training = pl_module.training
        pl_module.eval()
        devices = [pl_module.device] if pl_module.device.type == "cuda" else []
        with torch.random.fork_rng(devices=devices):
            torch.manual_seed(self.seed)
            samples = pl_module.generate(self.n)
        emit(trainer, "samples", image_grid(samples, self.n_per_row), self.dirpath)
        if prior is not None:
            code = pl_module.encode(as_float(dm.splits["val"][0][:1]).to(pl_module.device))[0]
            emit(trainer, "traversals", self._traversals(pl_module, code), self.dirpath)
        pl_module.train(was_training)

    def _traversals(self, pl_module: pl.LightningModule, code: torch.Tensor) -> torch.Tensor:
        dims = min(self.max_dims, code.numel())
        values = (
            torch.linspace(-self.span, self.span, self.steps, device=code.device)
            * pl_module.prior.variance() ** 0.5
        )
        z = code.repeat(dims, self.steps, 1)  # dims x steps x d
        z[torch.arange(dims), :, torch.arange(dims)] = values
        images = pl_module.decoder.likelihood.mean(pl_module.decode(z.flatten(0, 1)))
        labels = [f"z{i + 1}" for i in range(dims)]  # the dimension each row moves
        return label_rows(image_grid(images, self.steps), labels)
