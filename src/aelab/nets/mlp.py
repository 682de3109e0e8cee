"""Fully connected encoder and decoder."""

from __future__ import annotations

import math
from collections.abc import Sequence

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
    ):
        super().__init__(latent_dim, n_params)
        sizes = [math.prod(data_shape), *hidden, latent_dim * n_params]
        self.net = nn.Sequential(nn.Flatten(), *_stack(sizes, act))

    def forward(self, x: Tensor) -> Tensor:
        return self.net(x)


class MLPDecoder(Decoder):
    def __init__(
        self,
        data_shape: Sequence[int],
        latent_dim: int,
        hidden: Sequence[int],
        act: str,
        likelihood,
    ):
        super().__init__(data_shape, likelihood)
        sizes = [latent_dim, *reversed(hidden), math.prod(data_shape)]
        self.net = nn.Sequential(*_stack(sizes, act), nn.Unflatten(1, tuple(data_shape)))

    def forward(self, z: Tensor) -> Tensor:
        return self.net(z)


def mlp(
    data_shape: Sequence[int],
    latent_dim: int,
    hidden: Sequence[int] = (512, 256),
    activation: str = "relu",
    likelihood: str = "bernoulli",
    sigma: float = 1.0,
    n_params: int = 1,
) -> Networks:
    """Encoder ``D -> hidden... -> latent_dim * n_params`` and the mirrored decoder.

    The code layer is linear (Hinton & Salakhutdinov 2006 use linear code units);
    ``n_params=2`` gives a Gaussian encoder its mean and log-variance.
    """
    return Networks(
        MLPEncoder(data_shape, latent_dim, hidden, activation, n_params),
        MLPDecoder(data_shape, latent_dim, hidden, activation, make_likelihood(likelihood, sigma)),
    )
