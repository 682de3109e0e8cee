"""What every encoder and decoder exposes, whatever its layers.

An :class:`Encoder` maps data to ``latent_dim * n_params`` numbers (``n_params=2`` for a
Gaussian encoder's mean and log-variance); a :class:`Decoder` maps a latent back to the data
shape, its raw output read through its :class:`~aelab.nets.likelihood.Likelihood`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

from torch import nn

from aelab.errors import ConfigError
from aelab.nets.likelihood import Likelihood

ACTIVATIONS = {
    "relu": nn.ReLU,
    "leaky_relu": lambda: nn.LeakyReLU(0.2),
    "elu": nn.ELU,
    "gelu": nn.GELU,
    "silu": nn.SiLU,
    "tanh": nn.Tanh,
    "sigmoid": nn.Sigmoid,
}


def activation(name: str) -> nn.Module:
    if name not in ACTIVATIONS:
        raise ConfigError(
            f"network.activation={name!r} is not allowed: use one of {', '.join(ACTIVATIONS)}."
        )
    return ACTIVATIONS[name]()


class Encoder(nn.Module):
    def __init__(self, latent_dim: int, n_params: int = 1) -> None:
        super().__init__()
        self.latent_dim, self.n_params = latent_dim, n_params


class Decoder(nn.Module):
    def __init__(self, data_shape: Sequence[int], likelihood: Likelihood) -> None:
        super().__init__()
        self.data_shape, self.likelihood = tuple(data_shape), likelihood


class Networks(NamedTuple):
    encoder: Encoder
    decoder: Decoder
