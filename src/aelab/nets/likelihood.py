"""Decoder output likelihoods p(x | z): what the decoder's raw output means, and its NLL.

The negative log-likelihood is summed over the dimensions of one example (nats per
example) and returned per example: a mean over the batch is the model's business. Peer
libraries differ on sum vs mean; summing is what the ELBO and the papers' tables use.
"""

from __future__ import annotations

import math

import torch.nn.functional as F
from torch import Tensor


class Likelihood:
    name: str

    def mean(self, out: Tensor) -> Tensor:
        """The expected reconstruction E[x | z], in data space."""
        raise NotImplementedError

    def nll(self, out: Tensor, x: Tensor) -> Tensor:
        """-log p(x | z) per example, summed over all dimensions."""
        raise NotImplementedError


class Bernoulli(Likelihood):
    """Independent Bernoulli pixels with logits ``out`` (x in [0, 1]: cross-entropy)."""

    name = "bernoulli"

    def mean(self, out: Tensor) -> Tensor:
        return out.sigmoid()

    def nll(self, out: Tensor, x: Tensor) -> Tensor:
        return F.binary_cross_entropy_with_logits(out, x, reduction="none").flatten(1).sum(1)


class Gaussian(Likelihood):
    """Isotropic Gaussian with mean ``out`` and fixed std ``sigma``."""

    name = "gaussian"

    def __init__(self, sigma: float = 1.0) -> None:
        self.sigma = sigma

    def mean(self, out: Tensor) -> Tensor:
        return out

    def nll(self, out: Tensor, x: Tensor) -> Tensor:
        sq = (x - out).pow(2).flatten(1).sum(1)
        d = x[0].numel()
        return 0.5 * sq / self.sigma**2 + 0.5 * d * math.log(2 * math.pi * self.sigma**2)


def make_likelihood(name: str, sigma: float = 1.0) -> Likelihood:
    if name == "bernoulli":
        return Bernoulli()
    if name == "gaussian":
        return Gaussian(sigma)
    from aelab.errors import ConfigError

    raise ConfigError(f"network.likelihood={name!r} is not allowed: use bernoulli or gaussian.")
