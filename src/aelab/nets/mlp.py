"""Fully connected encoder and decoder."""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import Tensor, nn

from aelab.nets.likelihood import make_likelihood
from aelab.nets.networks import Decoder, Encoder, Networks, activation


def _stack(sizes: Sequence[int], act: str) -> list[nn.Module]:
    """Linear layers through ``sizes``, with the activation after every layer but the last."""
    activation(act)  # an unknown name fails even without hidden layers
    layers: list[nn.Module] = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:], strict=True)):
        layers.append(nn.Linear(a, b))
        if i < len(sizes) - 2:
            layers.append(activation(act))
    return layers


class MLPEncoder(Encoder):
    def __init__(
        self,
        data_shape: Sequence[int],
        latent_dim: int,
        hidden: Sequence[int],
        act: str,
        n_params: int = 1,
        cond_dim: int = 0,
    ):
        super().__init__(latent_dim, n_params, cond_dim)
        sizes = [math.prod(data_shape) + cond_dim, *hidden, latent_dim * n_params]
        self.net = nn.Sequential(*_stack(sizes, act))

    def forward(self, x: Tensor, cond: Tensor | None = None) -> Tensor:
        h = x.flatten(1)
        return self.net(h if cond is None else torch.cat([h, cond], dim=1))


class MLPDecoder(Decoder):
    def __init__(
        self,
        data_shape: Sequence[int],
        latent_dim: int,
        hidden: Sequence[int],
        act: str,
        likelihood,
        cond_dim: int = 0,
    ):
        super().__init__(data_shape, likelihood, cond_dim)
        sizes = [latent_dim + cond_dim, *reversed(hidden), math.prod(data_shape)]
        self.net = nn.Sequential(*_stack(sizes, act), nn.Unflatten(1, tuple(data_shape)))


def mlp(
    data_shape: Sequence[int],
    latent_dim: int,
    hidden: Sequence[int] = (512, 256),
    activation: str = "relu",
    likelihood: str = "bernoulli",
    sigma: float = 1.0,
    n_params: int = 1,
    cond_dim: int = 0,
) -> Networks:
    """Encoder ``D -> hidden... -> latent_dim * n_params`` and the mirrored decoder.

    The code layer is linear (Hinton & Salakhutdinov 2006 use linear code units);
    ``n_params=2`` gives a Gaussian encoder its mean and log-variance; ``cond_dim`` extra
    inputs are appended to the encoder's input and the decoder's code.
    """
    lik = make_likelihood(likelihood, sigma)
    return Networks(
        MLPEncoder(data_shape, latent_dim, hidden, activation, n_params, cond_dim),
        MLPDecoder(data_shape, latent_dim, hidden, activation, lik, cond_dim),
    )
