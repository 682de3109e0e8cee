"""The AAE paper's picture (Makhzani et al. 2015, Figs. 2 and 4): 2-D codes of the test split,
coloured by label, over the prior's density (or over prior draws where it has none)."""

from __future__ import annotations

from pathlib import Path

import pytorch_lightning as pl
import torch
from pytorch_lightning.utilities import rank_zero_only


class LatentScatter(pl.Callback):
    def __init__(self, dirpath: str, max_points: int = 5000) -> None:
        self.dirpath, self.max_points = Path(dirpath), max_points

    @rank_zero_only
    @torch.no_grad()
    def on_fit_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        prior, dm = getattr(pl_module, "prior", None), trainer.datamodule
        if prior is None or dm is None or pl_module.latent_dim != 2:
            return
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        from aelab.callbacks.images import emit
        from aelab.data import as_float

        x, y = dm.splits["test"]
        was_training = pl_module.training
        pl_module.eval()
        z = pl_module.sample_code(as_float(x[: self.max_points]).to(pl_module.device)).cpu()
        pl_module.train(was_training)
        y = y[: self.max_points]

        fig, ax = plt.subplots(figsize=(6, 6), dpi=100)
        lim = float(z.abs().quantile(0.99).clamp(min=1.0)) * 1.2
        try:
            g = torch.linspace(-lim, lim, 200)
            grid = torch.cartesian_prod(g, g).to(pl_module.device)
            density = prior.log_prob(grid).exp().view(200, 200).T.cpu()
            ax.contourf(g, g, density, levels=20, cmap="Greys")
        except NotImplementedError:
            draws = prior.sample(self.max_points).cpu()
            ax.scatter(draws[:, 0], draws[:, 1], s=1, c="lightgrey")
        labelled = y >= 0
        ax.scatter(z[~labelled, 0], z[~labelled, 1], s=2, c="tab:blue", alpha=0.5)
        points = ax.scatter(
            z[labelled, 0], z[labelled, 1], s=2, c=y[labelled], cmap="tab10", alpha=0.7
        )
        if labelled.any():
            fig.colorbar(points, ax=ax, label="label")
        ax.set(
            xlim=(-lim, lim),
            ylim=(-lim, lim),
            title="q(z) of the test split over p(z)",
            xlabel="z1",
            ylabel="z2",
        )
        fig.canvas.draw()
        image = (
            torch.from_numpy(__import__("numpy").asarray(fig.canvas.buffer_rgba())[..., :3].copy())
            .permute(2, 0, 1)
            .float()
            / 255
        )
        plt.close(fig)
        emit(trainer, "latent", image, self.dirpath)
