"""Decoder output likelihoods p(x | z): what the decoder's raw output means, and its NLL.

The negative log-likelihood is summed over the dimensions of one example (nats per
example) and returned per example: a mean over the batch is the model's business. Peer
libraries differ on sum vs mean; summing is what the ELBO and the papers' tables use.

Which of them is a density of the data it scores (so that ``recon_nll``, ``elbo`` and
``nll_iwae`` are log-likelihoods in nats, :meth:`Likelihood.is_density`):

- ``gaussian``: a density on R^D, for any real data;
- ``continuous_bernoulli``: a normalised density on [0, 1]^D (Loaiza-Ganem & Cunningham
  2019), for grey levels;
- ``bernoulli``: a probability mass on {0, 1}^D, so only for binary data (binarized MNIST,
  ``dataset.binarize=true``). On grey levels its "NLL" is the cross-entropy of the pixel
  intensities against the decoder's probabilities, a fine objective but not a likelihood:
  the families log it as ``recon_xent`` instead of ``recon_nll``.
"""

from __future__ import annotations

import math

import torch
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

    def is_density(self, binary_data: bool) -> bool:
        """Whether :meth:`nll` is a true negative log-density (or mass) of such data."""
        return True


class Bernoulli(Likelihood):
    """Independent Bernoulli pixels with logits ``out`` (for x in [0, 1]: cross-entropy)."""

    name = "bernoulli"

    def mean(self, out: Tensor) -> Tensor:
        return out.sigmoid()

    def nll(self, out: Tensor, x: Tensor) -> Tensor:
        return F.binary_cross_entropy_with_logits(out, x, reduction="none").flatten(1).sum(1)

    def is_density(self, binary_data: bool) -> bool:
        return binary_data


class ContinuousBernoulli(Likelihood):
    """The continuous Bernoulli with logits ``out``: p(x | l) = C(l) l^x (1 - l)^(1 - x) on
    [0, 1], C(l) = 2 artanh(1 - 2l) / (1 - 2l) (Loaiza-Ganem & Cunningham 2019, Eq. 7), a
    normalised density for grey levels. Its mean is l / (2l - 1) + 1 / (2 artanh(1 - 2l))."""

    name = "continuous_bernoulli"

    @staticmethod
    def _distribution(out: Tensor) -> torch.distributions.ContinuousBernoulli:
        return torch.distributions.ContinuousBernoulli(logits=out, validate_args=False)

    def mean(self, out: Tensor) -> Tensor:
        return self._distribution(out).mean

    def nll(self, out: Tensor, x: Tensor) -> Tensor:
        return -self._distribution(out).log_prob(x).flatten(1).sum(1)


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


LIKELIHOODS = ("bernoulli", "continuous_bernoulli", "gaussian")


def make_likelihood(name: str, sigma: float = 1.0) -> Likelihood:
    if name == "bernoulli":
        return Bernoulli()
    if name == "continuous_bernoulli":
        return ContinuousBernoulli()
    if name == "gaussian":
        return Gaussian(sigma)
    from aelab.errors import ConfigError

    raise ConfigError(
        f"network.likelihood={name!r} is not allowed: use auto, {', '.join(LIKELIHOODS)}."
    )
