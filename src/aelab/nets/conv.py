"""DCGAN-style convolutional encoder and decoder (Radford et al. 2016), as the WAE paper uses.

Each stride-2 4x4 convolution halves the image while its side is even and above 4
(28 -> 14 -> 7, 32 -> 16 -> 8 -> 4, 64 -> 32 -> 16 -> 8 -> 4), doubling the channels; a
linear layer maps the last feature map to the code. The decoder mirrors it with transposed
convolutions. Batch norm everywhere but the encoder's first and the decoder's last layer.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor, nn

from aelab.errors import ConfigError
from aelab.nets.likelihood import make_likelihood
from aelab.nets.networks import Decoder, Encoder, Networks


def _plan(data_shape: Sequence[int], channels: int) -> tuple[list[int], int]:
    """Channels per resolution level and the smallest side, for a C x S x S image."""
    if len(data_shape) != 3 or data_shape[1] != data_shape[2]:
        raise ConfigError(
            f"network=conv needs square images (C x S x S), got data shape {tuple(data_shape)}: use network=mlp."
        )
    side, widths = data_shape[1], []
    while side % 2 == 0 and side > 4:
        side //= 2
        widths.append(channels * 2 ** len(widths))
    if not widths:
        raise ConfigError(
            f"network=conv cannot downsample a {data_shape[1]}x{data_shape[1]} image: use network=mlp."
        )
    return widths, side


class ConvEncoder(Encoder):
    def __init__(
        self,
        data_shape: Sequence[int],
        latent_dim: int,
        channels: int,
        batch_norm: bool,
        n_params: int = 1,
        cond_dim: int = 0,
    ):
        super().__init__(latent_dim, n_params, cond_dim)
        widths, side = _plan(data_shape, channels)
        layers: list[nn.Module] = []
        c_in = data_shape[0] + cond_dim  # the condition enters as constant feature maps
        for i, c in enumerate(widths):
            layers.append(
                nn.Conv2d(c_in, c, 4, stride=2, padding=1, bias=not (batch_norm and i > 0))
            )
            if batch_norm and i > 0:
                layers.append(nn.BatchNorm2d(c))
            layers.append(nn.LeakyReLU(0.2))
            c_in = c
        layers += [nn.Flatten(), nn.Linear(c_in * side * side, latent_dim * n_params)]
        self.net = nn.Sequential(*layers)

    def forward(self, x: Tensor, cond: Tensor | None = None) -> Tensor:
        if cond is not None:
            x = torch.cat([x, cond[:, :, None, None].expand(-1, -1, *x.shape[2:])], dim=1)
        return self.net(x)


class ConvDecoder(Decoder):
    def __init__(
        self,
        data_shape: Sequence[int],
        latent_dim: int,
        channels: int,
        batch_norm: bool,
        likelihood,
        cond_dim: int = 0,
    ):
        super().__init__(data_shape, likelihood, cond_dim)
        widths, side = _plan(data_shape, channels)
        widths = widths[::-1]
        layers: list[nn.Module] = [
            nn.Linear(latent_dim + cond_dim, widths[0] * side * side),
            nn.Unflatten(1, (widths[0], side, side)),
        ]
        layers.append(nn.ReLU())
        for i, (c_in, c_out) in enumerate(zip(widths, widths[1:] + [data_shape[0]], strict=True)):
            last = i == len(widths) - 1
            layers.append(
                nn.ConvTranspose2d(c_in, c_out, 4, stride=2, padding=1, bias=last or not batch_norm)
            )
            if not last:
                if batch_norm:
                    layers.append(nn.BatchNorm2d(c_out))
                layers.append(nn.ReLU())
        self.net = nn.Sequential(*layers)


def conv(
    data_shape: Sequence[int],
    latent_dim: int,
    channels: int = 64,
    batch_norm: bool = True,
    likelihood: str = "bernoulli",
    sigma: float = 1.0,
    n_params: int = 1,
    cond_dim: int = 0,
) -> Networks:
    """DCGAN-style encoder and decoder for square images (28, 32, 64 pixels and the like);
    ``cond_dim`` extra inputs enter as constant input channels and beside the code."""
    lik = make_likelihood(likelihood, sigma)
    return Networks(
        ConvEncoder(data_shape, latent_dim, channels, batch_norm, n_params, cond_dim),
        ConvDecoder(data_shape, latent_dim, channels, batch_norm, lik, cond_dim),
    )
