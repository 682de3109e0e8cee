"""Metrics: torchmetrics ``Metric`` subclasses, so they accumulate correctly under DDP."""

from aelab.metrics.reconstruction import ReconstructionError

__all__ = ["ReconstructionError"]
