"""Networks: encoders and decoders, built by the ``network`` config group's builders."""

from aelab.nets.conv import conv
from aelab.nets.likelihood import Bernoulli, Gaussian, Likelihood
from aelab.nets.mlp import mlp
from aelab.nets.networks import Decoder, Encoder, Networks

__all__ = ["Bernoulli", "Decoder", "Encoder", "Gaussian", "Likelihood", "Networks", "conv", "mlp"]
