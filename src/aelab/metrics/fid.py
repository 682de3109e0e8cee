"""Distances between the feature statistics of samples and of data: the Frechet distance (FID,
Heusel et al. 2017, Eq. 6: ||mu_r - mu_f||^2 + Tr(S_r + S_f - 2 (S_r S_f)^(1/2))) and the
kernel distance (KID, Binkowski et al. 2018: unbiased MMD^2 with the cubic polynomial kernel,
mean and std over subsets), computed by torchmetrics.

The features are pluggable (:mod:`aelab.metrics.features`): Inception's pool features where
its weights are present, or the penultimate layer of a classifier trained in the suite, which
says more about digits than Inception does. A figure is comparable only with figures made with
the same features and sample sizes; the suite's classifier-FID is not the papers' Inception FID.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn


class _Given(nn.Module):
    """Features in, features out: lets torchmetrics' FID/KID take precomputed features."""

    def __init__(self, num_features: int) -> None:
        super().__init__()
        self.num_features = num_features

    def forward(self, features: Tensor) -> Tensor:
        return features


def feature_distances(
    real: Tensor, fake: Tensor, kid_subset: int = 1000, kid_subsets: int = 100
) -> dict[str, float]:
    """``fid``, ``kid`` and ``kid_std`` between two sets of features (n x d each)."""
    from torchmetrics.image.fid import FrechetInceptionDistance
    from torchmetrics.image.kid import KernelInceptionDistance

    given = _Given(real.shape[1])
    fid = FrechetInceptionDistance(feature=given)
    subset = min(kid_subset, len(real), len(fake))
    kid = KernelInceptionDistance(feature=given, subset_size=subset, subsets=kid_subsets)
    for metric in (fid, kid):
        metric.update(real.float(), real=True)
        metric.update(fake.float(), real=False)
    with torch.random.fork_rng():  # KID draws its subsets
        torch.manual_seed(0)
        kid_mean, kid_std = kid.compute()
    return {"fid": fid.compute().item(), "kid": kid_mean.item(), "kid_std": kid_std.item()}
