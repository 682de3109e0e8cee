"""Metrics: torchmetrics ``Metric`` subclasses, so they accumulate correctly under DDP."""

from aelab.metrics.latent import CodeSample, mode_coverage, prior_distances
from aelab.metrics.reconstruction import ReconstructionError

__all__ = ["CodeSample", "ReconstructionError", "mode_coverage", "prior_distances"]
