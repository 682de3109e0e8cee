"""Shared by the picture callbacks: grids of images, saved as PNG and sent to the loggers."""

from __future__ import annotations

from pathlib import Path

import pytorch_lightning as pl
import torch
from torch import Tensor


def image_grid(images: Tensor, n_per_row: int) -> Tensor:
    """A (C, H, W) grid of ``images`` in [0, 1]; tiny images (8x8 digits) are enlarged to be seen."""
    from torchvision.utils import make_grid

    images = images.detach().float().clamp(0, 1).cpu()
    if images.shape[-1] < 28:
        images = torch.nn.functional.interpolate(
            images, scale_factor=28 // images.shape[-1], mode="nearest"
        )
    return make_grid(images, nrow=n_per_row, padding=1, pad_value=1.0)


def label_rows(grid: Tensor, labels: list[str], width: int = 40) -> Tensor:
    """``grid`` (from :func:`image_grid`) with a white margin on the left that names each row
    (``data`` / ``recon``, the latent dimension a traversal row moves)."""
    import numpy as np
    from PIL import Image, ImageDraw

    channels, height, _ = grid.shape
    row = (height - 1) / max(len(labels), 1)
    margin = Image.new("L", (width, height), 255)
    draw = ImageDraw.Draw(margin)
    for i, text in enumerate(labels):
        draw.text((2, int(1 + i * row + row / 2 - 6)), text, fill=0)
    side = torch.from_numpy(np.asarray(margin, dtype=np.float32) / 255.0)
    return torch.cat([side.expand(channels, height, width), grid], dim=2)


def emit(trainer: pl.Trainer, name: str, image: Tensor, dirpath: Path | None) -> None:
    """Save ``image`` (C, H, W in [0, 1]) as ``dirpath/name.png`` (if given) and log it to every logger."""
    if dirpath is not None:
        from torchvision.utils import save_image

        dirpath.mkdir(parents=True, exist_ok=True)
        save_image(image, dirpath / f"{name}.png")
    for logger in trainer.loggers:
        if hasattr(logger, "log_image"):  # W&B
            logger.log_image(name, [image], step=trainer.global_step)
        elif hasattr(logger.experiment, "add_image"):  # TensorBoard
            logger.experiment.add_image(name, image, trainer.global_step)
