"""Reconstruction error, accumulated over a whole split (correct under DDP: states are sums).

- ``recon_sse``: squared error summed over the pixels of one image, averaged over images,
  pixels in [0, 1]. This is the "average squared error per test image" of Hinton &
  Salakhutdinov (2006, Science, Fig. 2): 3.00 for their 30-d autoencoder, 13.87 for PCA-30.
- ``recon_mse``: the same per pixel (``recon_sse`` / number of pixels).
- ``recon_bce``: binary cross-entropy summed over pixels, averaged over images (nats), for
  data in [0, 1] only.

All three score the *expected* reconstruction E[x | z], whatever the family, so an AE, a
VAE and PCA are compared on the same footing.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor
from torchmetrics import Metric


class ReconstructionError(Metric):
    full_state_update = False
    higher_is_better = False

    def __init__(self, with_bce: bool = True) -> None:
        super().__init__()
        self.with_bce = with_bce
        self.add_state("sse", torch.tensor(0.0, dtype=torch.float64), dist_reduce_fx="sum")
        self.add_state("bce", torch.tensor(0.0, dtype=torch.float64), dist_reduce_fx="sum")
        self.add_state("images", torch.tensor(0, dtype=torch.long), dist_reduce_fx="sum")
        self.add_state("values", torch.tensor(0, dtype=torch.long), dist_reduce_fx="sum")

    def update(self, x_hat: Tensor, x: Tensor) -> None:
        x_hat, x = x_hat.detach(), x.detach()
        self.sse += (x_hat - x).pow(2).sum().double()
        if self.with_bce:
            self.bce += F.binary_cross_entropy(x_hat.clamp(0, 1), x, reduction="sum").double()
        self.images += x.shape[0]
        self.values += x.numel()

    def compute(self) -> dict[str, Tensor]:
        out = {"recon_sse": self.sse / self.images, "recon_mse": self.sse / self.values}
        if self.with_bce:
            out["recon_bce"] = self.bce / self.images
        return {k: v.float() for k, v in out.items()}
