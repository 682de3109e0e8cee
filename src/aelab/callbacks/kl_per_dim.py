"""KL per latent dimension as a bar chart: which dimensions a Gaussian encoder uses, and which
have collapsed to the prior (KL 0)."""

from __future__ import annotations

from pathlib import Path

import pytorch_lightning as pl
import torch
from pytorch_lightning.utilities import rank_zero_only

from aelab.callbacks.images import emit


def bar_chart(values: list[float], xlabel: str, ylabel: str, title: str) -> torch.Tensor:
    """A matplotlib bar chart of ``values`` as an image tensor (3, H, W) in [0, 1]."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    fig, ax = plt.subplots(figsize=(max(4.0, 0.3 * len(values)), 3), dpi=100)
    ax.bar(range(1, len(values) + 1), values)
    ax.set(xlabel=xlabel, ylabel=ylabel, title=title)
    fig.tight_layout()
    fig.canvas.draw()
    rgb = np.asarray(fig.canvas.buffer_rgba())[..., :3].copy()
    plt.close(fig)
    return torch.from_numpy(rgb).permute(2, 0, 1).float() / 255.0


class KLPerDimChart(pl.Callback):
    """After testing, ``kl_per_dim.png`` in ``dirpath`` (and to the loggers): E_x KL(q(z_i|x) ||
    p(z_i)) of the test codes for each dimension i (Gaussian encoders under N(0, s^2 I))."""

    def __init__(self, dirpath: str) -> None:
        self.dirpath = Path(dirpath)

    @rank_zero_only
    def on_test_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        values = getattr(pl_module, "latent_vectors", {}).get("test/kl_per_dim")
        if values:
            chart = bar_chart(values, "latent dimension", "KL (nats)", "test: KL per dimension")
            emit(trainer, "kl_per_dim", chart, self.dirpath)
