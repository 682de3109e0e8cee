"""Callbacks the suite adds to Lightning's own."""

from aelab.callbacks.reconstruction_grid import ReconstructionGrid
from aelab.callbacks.throughput import TrainThroughput

__all__ = ["ReconstructionGrid", "TrainThroughput"]
