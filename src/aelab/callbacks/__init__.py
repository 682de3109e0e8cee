"""Callbacks the suite adds to Lightning's own."""

from aelab.callbacks.latent_scatter import LatentScatter
from aelab.callbacks.prior_samples import PriorSamples
from aelab.callbacks.reconstruction_grid import ReconstructionGrid
from aelab.callbacks.sample_coverage import SampleCoverage
from aelab.callbacks.score_quality import ScoreQuality
from aelab.callbacks.throughput import TrainThroughput

__all__ = [
    "LatentScatter",
    "PriorSamples",
    "ReconstructionGrid",
    "SampleCoverage",
    "ScoreQuality",
    "TrainThroughput",
]
