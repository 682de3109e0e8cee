"""Networks: encoder / decoder shapes of both builders, config errors, likelihood NLLs."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from aelab.errors import ConfigError
from aelab.nets import Bernoulli, Gaussian, conv, mlp
from aelab.nets.likelihood import make_likelihood

B, LATENT = 3, 5


def _check_shapes(nets, data_shape, n_params):
    torch.manual_seed(0)
    x = torch.rand(B, *data_shape)
    code = nets.encoder(x)
    assert code.shape == (B, LATENT * n_params)
    assert nets.encoder.latent_dim == LATENT and nets.encoder.n_params == n_params
    out = nets.decoder(torch.randn(B, LATENT))
    assert out.shape == (B, *data_shape)
    assert nets.decoder.data_shape == tuple(data_shape)
    # the whole loop runs and back-propagates
    loss = nets.decoder.likelihood.nll(nets.decoder(code[:, :LATENT]), x).mean()
    loss.backward()
    assert all(p.grad is not None for p in nets.encoder.parameters())


@pytest.mark.parametrize("data_shape", [(1, 28, 28), (3, 32, 32), (3, 64, 64), (1, 8, 8)])
@pytest.mark.parametrize("n_params", [1, 2])
def test_conv_shapes(data_shape, n_params):
    nets = conv(data_shape, LATENT, channels=4, n_params=n_params)
    _check_shapes(nets, data_shape, n_params)


@pytest.mark.parametrize("data_shape", [(1, 28, 28), (3, 32, 32)])
def test_conv_shapes_without_batch_norm(data_shape):
    nets = conv(data_shape, LATENT, channels=4, batch_norm=False)
    assert not any(isinstance(m, torch.nn.BatchNorm2d) for m in nets.encoder.modules())
    _check_shapes(nets, data_shape, 1)


def test_conv_halves_down_to_side_four():
    enc = conv((3, 64, 64), LATENT, channels=4).encoder
    convs = [m for m in enc.modules() if isinstance(m, torch.nn.Conv2d)]
    assert [c.out_channels for c in convs] == [4, 8, 16, 32]  # 64 -> 32 -> 16 -> 8 -> 4
    linear = [m for m in enc.modules() if isinstance(m, torch.nn.Linear)][-1]
    assert linear.in_features == 32 * 4 * 4
    enc28 = conv((1, 28, 28), LATENT, channels=4).encoder
    linear = [m for m in enc28.modules() if isinstance(m, torch.nn.Linear)][-1]
    assert linear.in_features == 8 * 7 * 7  # 28 -> 14 -> 7


@pytest.mark.parametrize("data_shape", [(1, 28, 32), (3, 32, 16), (2,), (1, 7, 7), (1, 4, 4)])
def test_conv_rejects_shapes_it_cannot_take(data_shape):
    with pytest.raises(ConfigError, match="network=conv"):
        conv(data_shape, LATENT)


@pytest.mark.parametrize("data_shape", [(2,), (1, 8, 8), (3, 5, 7)])
@pytest.mark.parametrize("n_params", [1, 2])
def test_mlp_shapes(data_shape, n_params):
    nets = mlp(data_shape, LATENT, hidden=(16, 8), n_params=n_params)
    _check_shapes(nets, data_shape, n_params)


def test_mlp_layer_sizes_and_linear_code():
    nets = mlp((1, 8, 8), 4, hidden=(32, 16), activation="tanh")
    enc = [m for m in nets.encoder.net if not isinstance(m, torch.nn.Flatten)]
    assert [(m.in_features, m.out_features) for m in enc if isinstance(m, torch.nn.Linear)] == [
        (64, 32),
        (32, 16),
        (16, 4),
    ]
    assert isinstance(enc[-1], torch.nn.Linear)  # linear code units
    dec = list(nets.decoder.net)
    assert [(m.in_features, m.out_features) for m in dec if isinstance(m, torch.nn.Linear)] == [
        (4, 16),
        (16, 32),
        (32, 64),
    ]
    assert sum(isinstance(m, torch.nn.Tanh) for m in enc) == 2
    assert isinstance(dec[-2], torch.nn.Linear)  # raw output (logits), then unflatten


@pytest.mark.parametrize("builder", [mlp, conv])
def test_bad_likelihood(builder):
    with pytest.raises(ConfigError, match="network.likelihood='poisson'"):
        builder((1, 8, 8), LATENT, likelihood="poisson")


def test_bad_activation():
    with pytest.raises(ConfigError, match="network.activation='swish'"):
        mlp((2,), LATENT, hidden=(8,), activation="swish")


@pytest.mark.parametrize("builder", [mlp, conv])
def test_likelihood_choice(builder):
    assert isinstance(builder((1, 8, 8), LATENT).decoder.likelihood, Bernoulli)
    lik = builder((1, 8, 8), LATENT, likelihood="gaussian", sigma=0.5).decoder.likelihood
    assert isinstance(lik, Gaussian) and lik.sigma == 0.5


def test_bernoulli_nll_is_summed_bce_with_logits():
    torch.manual_seed(0)
    out = torch.randn(4, 1, 3, 3)
    x = torch.rand(4, 1, 3, 3)
    nll = Bernoulli().nll(out, x)
    assert nll.shape == (4,)
    by_hand = torch.stack(
        [F.binary_cross_entropy_with_logits(out[i], x[i], reduction="sum") for i in range(4)]
    )
    assert torch.allclose(nll, by_hand, atol=1e-5)
    # the formula itself: -x log p - (1 - x) log(1 - p)
    p = out.sigmoid()
    explicit = -(x * p.log() + (1 - x) * (1 - p).log()).flatten(1).sum(1)
    assert torch.allclose(nll, explicit, atol=1e-4)
    assert torch.allclose(Bernoulli().mean(out), p)


def test_gaussian_nll_by_hand():
    torch.manual_seed(1)
    out = torch.randn(5, 2, 3)
    x = torch.randn(5, 2, 3)
    d = 6
    sse = [
        sum((float(x[i].flatten()[j]) - float(out[i].flatten()[j])) ** 2 for j in range(d))
        for i in range(5)
    ]
    expected = torch.tensor([0.5 * s + 0.5 * d * math.log(2 * math.pi) for s in sse])
    nll = Gaussian(1.0).nll(out, x)
    assert nll.shape == (5,)
    assert torch.allclose(nll, expected, atol=1e-5)
    assert torch.equal(Gaussian().mean(out), out)


def test_gaussian_nll_matches_torch_normal_for_any_sigma():
    torch.manual_seed(2)
    out, x = torch.randn(4, 7), torch.randn(4, 7)
    for sigma in (0.3, 1.0, 2.5):
        ref = -torch.distributions.Normal(out, sigma).log_prob(x).sum(1)
        assert torch.allclose(Gaussian(sigma).nll(out, x), ref, atol=1e-5)


def test_make_likelihood():
    assert isinstance(make_likelihood("bernoulli"), Bernoulli)
    assert make_likelihood("gaussian", 2.0).sigma == 2.0
    with pytest.raises(ConfigError):
        make_likelihood("laplace")


@pytest.mark.parametrize("builder", [mlp, conv], ids=["mlp", "conv"])
def test_networks_conditioned_on_extra_inputs(builder) -> None:
    """cond_dim numbers per example (a DAE's log sigma) enter beside the input and the code."""
    torch.manual_seed(0)
    nets = builder((1, 28, 28), 8, cond_dim=1)
    nets.encoder.eval(), nets.decoder.eval()
    x = torch.rand(4, 1, 28, 28)
    low, high = torch.full((4, 1), -4.0), torch.zeros(4, 1)
    z = nets.encoder(x, low)
    assert z.shape == (4, 8) and not torch.equal(z, nets.encoder(x, high))
    out = nets.decoder(z, low)
    assert out.shape == (4, 1, 28, 28) and not torch.equal(out, nets.decoder(z, high))
    with pytest.raises(RuntimeError):  # a conditioned network needs its condition
        nets.decoder(z)
