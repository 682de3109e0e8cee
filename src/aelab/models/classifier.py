"""A small supervised classifier, trained in the suite (``aelab-train model=classifier``) to
give the generative metrics features that know digits: its penultimate layer feeds FID and KID
(:mod:`aelab.metrics.fid`), its predictions sort samples into classes (mode collapse)."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from aelab.models.base import SuiteModule


def _conv_trunk(data_shape: Sequence[int], latent_dim: int) -> nn.Sequential:
    """Two 3x3 conv + 2x2 max-pool stages (LeNet-like), then ``latent_dim`` ReLU features."""
    c, h, w = data_shape
    return nn.Sequential(
        nn.Conv2d(c, 32, 3, padding=1),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3, padding=1),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(64 * (h // 4) * (w // 4), latent_dim),
        nn.ReLU(),
    )


class Classifier(SuiteModule):
    """Cross-entropy classifier of the data set's labels; ``latent_dim`` is its feature size.

    Images go through a small conv net, vectors through an MLP (256 hidden units). Logs
    ``{val,test}/loss`` and ``{val,test}/accuracy``.
    """

    prior_losses = ("none",)
    takes_prior = False
    takes_prior_reason = "it classifies the data and has no code to match"

    def __init__(
        self,
        data_shape: Sequence[int],
        latent_dim: int = 128,
        n_classes: int = 10,
        optimizer: Callable[..., torch.optim.Optimizer] | None = None,
        scheduler: Callable[..., Any] | None = None,
        **unused: Any,  # network, prior, prior_loss: an autoencoder's parts
    ) -> None:
        super().__init__()
        self.data_shape, self.latent_dim, self.n_classes = tuple(data_shape), latent_dim, n_classes
        self.num_features = latent_dim
        self.optimizer_factory, self.scheduler_factory = optimizer, scheduler
        if len(self.data_shape) == 3 and min(self.data_shape[1:]) >= 4:
            self.trunk = _conv_trunk(self.data_shape, latent_dim)
        else:
            d = math.prod(self.data_shape)
            self.trunk = nn.Sequential(
                nn.Flatten(), nn.Linear(d, 256), nn.ReLU(), nn.Linear(256, latent_dim), nn.ReLU()
            )
        self.head = nn.Linear(latent_dim, n_classes)

    def features(self, x: Tensor) -> Tensor:
        """The penultimate layer: what FID and KID compare."""
        return self.trunk(x)

    def forward(self, x: Tensor) -> Tensor:
        return self.head(self.trunk(x))

    def training_step(self, batch: tuple[Tensor, Tensor], batch_idx: int) -> Tensor:
        x, y = batch
        loss = F.cross_entropy(self(x), y)
        self.log("train/loss", loss, prog_bar=True)
        return loss

    def _evaluate(self, batch: tuple[Tensor, Tensor], stage: str) -> None:
        x, y = batch
        logits = self(x)
        values = {
            "loss": F.cross_entropy(logits, y),
            "accuracy": (logits.argmax(1) == y).float().mean(),
        }
        self.accumulate(stage, values, len(x))
