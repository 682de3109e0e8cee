"""Callbacks the suite adds to Lightning's own."""

from aelab.callbacks.kl_per_dim import KLPerDimChart
from aelab.callbacks.latent_scatter import LatentScatter
from aelab.callbacks.reconstruction_grid import ReconstructionGrid
from aelab.callbacks.sample_grid import SampleGrid
from aelab.callbacks.sample_quality import SampleQuality
from aelab.callbacks.score_quality import ScoreQuality
from aelab.callbacks.throughput import TrainThroughput

__all__ = [
    "KLPerDimChart",
    "LatentScatter",
    "ReconstructionGrid",
    "SampleGrid",
    "SampleQuality",
    "ScoreQuality",
    "TrainThroughput",
]
