"""aelab: an experiment suite for the autoencoder family (PyTorch Lightning + Hydra)."""

__version__ = "0.1.0"
