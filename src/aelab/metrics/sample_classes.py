"""Mode collapse seen by a classifier: how a model's samples spread over the data's classes
(the "number of modes" count of Metz et al. 2017 and Srivastava et al. 2017 on stacked MNIST,
here on the data set itself), and how diverse they are in feature space."""

from __future__ import annotations

import math

import torch
from torch import Tensor


def class_coverage(logits: Tensor, n_classes: int) -> dict[str, float]:
    """``sample_class_coverage``: share of classes predicted for at least a quarter of their
    fair share (1 / K) of the samples; ``sample_class_entropy``: entropy of the predicted class
    histogram over log K (1: uniform, 0: one class); ``sample_confidence``: mean top softmax
    probability (low for samples that look like no class)."""
    probs = logits.float().softmax(1)
    counts = torch.bincount(probs.argmax(1), minlength=n_classes).float()
    share = counts / counts.sum()
    entropy = -(share[share > 0] * share[share > 0].log()).sum() / math.log(n_classes)
    return {
        "sample_class_coverage": (counts >= 0.25 * len(logits) / n_classes).float().mean().item(),
        "sample_class_entropy": entropy.item(),
        "sample_confidence": probs.max(1).values.mean().item(),
    }


def feature_diversity(fake: Tensor, real: Tensor, n: int = 1000) -> float:
    """Mean pairwise feature distance of ``n`` samples over that of ``n`` data points:
    about 1 for samples as varied as the data, near 0 under mode collapse."""
    return (torch.pdist(fake[:n].float()).mean() / torch.pdist(real[:n].float()).mean()).item()
