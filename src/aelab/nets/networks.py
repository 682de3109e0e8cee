"""What every encoder and decoder exposes, whatever its layers.

An :class:`Encoder` maps data to ``latent_dim * n_params`` numbers (``n_params=2`` for a
Gaussian encoder's mean and log-variance); a :class:`Decoder` maps a latent back to the data
shape, its raw output read through its :class:`~aelab.nets.likelihood.Likelihood`.

Both may be conditioned on ``cond_dim`` extra numbers per example (a noise-conditional
denoiser's log sigma, Song & Ermon 2019): the encoder receives them beside its input, the
decoder beside the code.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import torch
from torch import Tensor, nn

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
    def __init__(self, latent_dim: int, n_params: int = 1, cond_dim: int = 0) -> None:
        super().__init__()
        self.latent_dim, self.n_params, self.cond_dim = latent_dim, n_params, cond_dim


class Decoder(nn.Module):
    """``forward(z, cond)`` runs ``self.net`` (set by a subclass) on the code and the condition."""

    net: nn.Module

    def __init__(
        self, data_shape: Sequence[int], likelihood: Likelihood, cond_dim: int = 0
    ) -> None:
        super().__init__()
        self.data_shape, self.likelihood, self.cond_dim = tuple(data_shape), likelihood, cond_dim

    def forward(self, z: Tensor, cond: Tensor | None = None) -> Tensor:
        return self.net(z if cond is None else torch.cat([z, cond], dim=1))


class Networks(NamedTuple):
    encoder: Encoder
    decoder: Decoder
