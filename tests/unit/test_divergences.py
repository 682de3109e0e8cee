"""Divergences: analytic and Monte-Carlo KL, the JS discriminator and the Wasserstein critic's
pieces, the unbiased MMD^2 and the sliced Wasserstein distance, each against an exact
expectation (a closed form, a direct implementation, or a statistical bound)."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from aelab.divergences.adversarial import (
    LOG2,
    clip_weights,
    critic_mlp,
    discriminator_value,
    generator_loss_jsd,
    gradient_penalty,
    jsd_estimate,
)
from aelab.divergences.kl import (
    gaussian_kl,
    gaussian_log_prob,
    kl_to_prior,
    monte_carlo_kl,
)
from aelab.divergences.mmd import SCALES, kernel_matrix, mmd2_unbiased
from aelab.divergences.sliced import sliced_wasserstein
from aelab.priors import GaussianMixture, StandardGaussian


def _mc_mean_and_se(values: torch.Tensor) -> tuple[float, float]:
    values = values.double()
    return float(values.mean()), float(values.std() / math.sqrt(len(values)))


# --- KL ------------------------------------------------------------------------------------


@pytest.mark.parametrize("scale", [1.0, 5.0])
def test_gaussian_kl_matches_torch_distributions(scale):
    torch.manual_seed(0)
    mu, logvar = torch.randn(7, 5), torch.randn(7, 5)
    q = torch.distributions.Normal(mu, (0.5 * logvar).exp())
    p = torch.distributions.Normal(torch.zeros(5), torch.full((5,), scale))
    ref = torch.distributions.kl_divergence(q, p).sum(-1)
    kl = gaussian_kl(mu, logvar, scale)
    assert kl.shape == (7,)
    assert torch.allclose(kl, ref, atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("scale", [1.0, 5.0])
def test_gaussian_kl_matches_monte_carlo(scale):
    torch.manual_seed(1)
    d, n = 4, 200_000
    mu, logvar = torch.randn(d), torch.randn(d)
    z = mu + (0.5 * logvar).exp() * torch.randn(n, d)
    mc = monte_carlo_kl(z, mu.expand(n, d), logvar.expand(n, d), StandardGaussian(d, scale))
    mean, se = _mc_mean_and_se(mc)
    exact = float(gaussian_kl(mu, logvar, scale))
    assert abs(mean - exact) < 3 * se


@pytest.mark.parametrize("scale", [0.3, 1.0, 5.0])
def test_gaussian_kl_is_zero_when_q_is_p(scale):
    mu = torch.zeros(3, 6)
    logvar = torch.full((3, 6), 2 * math.log(scale))
    assert torch.allclose(gaussian_kl(mu, logvar, scale), torch.zeros(3), atol=1e-5)
    # and positive as soon as q moves away
    assert (gaussian_kl(mu + 0.1, logvar, scale) > 0).all()
    assert (gaussian_kl(mu, logvar + 0.1, scale) > 0).all()


def test_gaussian_log_prob_matches_normal():
    torch.manual_seed(2)
    z, mu, logvar = torch.randn(5, 3), torch.randn(5, 3), torch.randn(5, 3)
    ref = torch.distributions.Normal(mu, (0.5 * logvar).exp()).log_prob(z).sum(-1)
    assert torch.allclose(gaussian_log_prob(z, mu, logvar), ref, atol=1e-5)


def test_kl_to_prior_is_analytic_for_a_gaussian_prior():
    torch.manual_seed(3)
    mu, logvar = torch.randn(6, 3), torch.randn(6, 3)
    prior = StandardGaussian(3, 2.0)
    z = torch.randn(6, 3) * 100  # the sample plays no part in the analytic KL
    assert torch.equal(kl_to_prior(z, mu, logvar, prior), gaussian_kl(mu, logvar, 2.0))


def test_kl_to_prior_is_monte_carlo_for_a_mixture():
    torch.manual_seed(4)
    prior = GaussianMixture(2, k=10)
    mu, logvar = torch.randn(6, 2), torch.randn(6, 2)
    z = mu + (0.5 * logvar).exp() * torch.randn(6, 2)
    kl = kl_to_prior(z, mu, logvar, prior)
    assert kl.shape == (6,)
    assert torch.isfinite(kl).all()
    assert torch.equal(kl, monte_carlo_kl(z, mu, logvar, prior))


@pytest.mark.parametrize("s", [0.5, 2.0])
def test_one_component_mixture_monte_carlo_kl_matches_analytic(s):
    """A 1-mode mixture at the origin with std s is N(0, s^2 I): the MC KL of kl_to_prior,
    averaged, must match the analytic KL to StandardGaussian(scale=s)."""
    torch.manual_seed(5)
    d, n = 3, 200_000
    mixture = GaussianMixture(d, k=1, layout="random", radius=0.0, std=s)
    assert torch.equal(mixture.means, torch.zeros(1, d))
    mu, logvar = torch.randn(d), torch.randn(d)
    z = mu + (0.5 * logvar).exp() * torch.randn(n, d)
    mc = kl_to_prior(z, mu.expand(n, d), logvar.expand(n, d), mixture)
    analytic = kl_to_prior(z[:1], mu[None], logvar[None], StandardGaussian(d, s))
    mean, se = _mc_mean_and_se(mc)
    assert abs(mean - float(analytic)) < 3 * se


def test_mixture_monte_carlo_kl_is_unbiased_against_numerical_integration():
    """KL(q || p) = -H(q) - E_q[log p]: the cross-entropy by quadrature on a fine 2-D grid."""
    torch.manual_seed(6)
    prior = GaussianMixture(2, k=10, radius=4.0, std=0.5)
    mu, logvar = torch.tensor([3.0, 1.0]), torch.tensor([-0.5, 0.3])
    # quadrature of E_q[log p] over mu +- 8 sigma
    sigma = (0.5 * logvar).exp().double()
    h = 0.02
    ticks = [
        torch.arange(-8, 8 + h / 2, h, dtype=torch.float64) * s + m
        for s, m in zip(sigma, mu, strict=True)
    ]
    grid = torch.cartesian_prod(*ticks)
    log_q = gaussian_log_prob(grid, mu.double(), logvar.double())
    log_p = GaussianMixture(2, k=10, radius=4.0, std=0.5).double().log_prob(grid)
    cell = h * h * float(sigma.prod())
    assert abs(float(log_q.exp().sum()) * cell - 1) < 1e-3
    cross_entropy = -float((log_q.exp() * log_p).sum()) * cell
    neg_entropy = -0.5 * float((1 + logvar + math.log(2 * math.pi)).sum())
    reference = neg_entropy + cross_entropy
    n = 200_000
    z = mu + (0.5 * logvar).exp() * torch.randn(n, 2)
    mc = kl_to_prior(z, mu.expand(n, 2), logvar.expand(n, 2), prior)
    mean, se = _mc_mean_and_se(mc)
    assert abs(mean - reference) < 3 * se + 1e-3


# --- JS discriminator ------------------------------------------------------------------------


def test_discriminator_value_at_half_is_minus_two_log_two():
    zeros = torch.zeros(13)
    value = discriminator_value(zeros, torch.zeros(7))
    assert torch.allclose(value, torch.tensor(-2 * math.log(2.0)), atol=1e-7, rtol=0)
    assert torch.allclose(jsd_estimate(value), torch.tensor(0.0), atol=1e-7)
    assert math.log(2.0) == LOG2


def test_discriminator_value_by_hand():
    torch.manual_seed(7)
    real, fake = torch.randn(9) * 3, torch.randn(11) * 3
    ref = torch.log(torch.sigmoid(real)).mean() + torch.log(1 - torch.sigmoid(fake)).mean()
    assert torch.allclose(discriminator_value(real, fake), ref, atol=1e-5)
    # V <= 0 always, so the JSD estimate is at most log 2
    assert jsd_estimate(discriminator_value(real, fake)) <= LOG2


def test_generator_losses_by_hand():
    torch.manual_seed(8)
    logits = torch.randn(17) * 3
    d = torch.sigmoid(logits)
    saturating = torch.log(1 - d).mean()  # E_q[log(1 - D)]
    non_saturating = -torch.log(d).mean()  # -E_q[log D]
    assert torch.allclose(generator_loss_jsd(logits, non_saturating=False), saturating, atol=1e-5)
    assert torch.allclose(
        generator_loss_jsd(logits, non_saturating=True), non_saturating, atol=1e-5
    )
    assert torch.allclose(generator_loss_jsd(logits), non_saturating, atol=1e-5)


def _train_discriminator(shift: float, steps: int = 300, seed: int = 0) -> float:
    torch.manual_seed(seed)
    critic = critic_mlp(2, [32, 32])
    opt = torch.optim.Adam(critic.parameters(), lr=2e-3)
    offset = torch.tensor([shift, 0.0])
    for _ in range(steps):
        real, fake = torch.randn(128, 2), torch.randn(128, 2) + offset
        loss = -discriminator_value(critic(real), critic(fake))
        opt.zero_grad()
        loss.backward()
        opt.step()
    with torch.no_grad():  # scored on fresh draws
        real, fake = torch.randn(4096, 2), torch.randn(4096, 2) + offset
        return float(jsd_estimate(discriminator_value(critic(real), critic(fake))))


def test_discriminator_on_identical_distributions_stays_at_chance():
    jsd = _train_discriminator(0.0)
    assert abs(jsd) < 0.05


def test_discriminator_on_separated_distributions_approaches_log_two():
    jsd = _train_discriminator(20.0)
    assert 0.65 < jsd <= LOG2 + 1e-6


# --- Wasserstein critic pieces ---------------------------------------------------------------


def _unit_linear(d: int) -> nn.Linear:
    critic = nn.Linear(d, 1)
    with torch.no_grad():
        critic.weight /= critic.weight.norm()
    return critic


@pytest.mark.parametrize("d", [1, 2, 8])
def test_gradient_penalty_is_zero_for_a_unit_norm_linear_critic(d):
    torch.manual_seed(9)
    critic = _unit_linear(d)
    gp = gradient_penalty(critic, torch.randn(32, d), torch.randn(32, d) + 3)
    assert float(gp.detach()) < 1e-6


def test_gradient_penalty_of_a_linear_critic_is_the_norm_gap_squared():
    torch.manual_seed(10)
    critic = nn.Linear(4, 1)
    with torch.no_grad():
        critic.weight.copy_(torch.tensor([[3.0, 0.0, 4.0, 0.0]]))  # norm 5
    gp = gradient_penalty(critic, torch.randn(16, 4), torch.randn(16, 4))
    assert torch.allclose(gp, torch.tensor(16.0), atol=1e-5)


class _Recorder(nn.Module):
    def __init__(self, d: int) -> None:
        super().__init__()
        self.linear = _unit_linear(d)
        self.inputs: list[torch.Tensor] = []

    def forward(self, z):
        self.inputs.append(z.detach().clone())
        return self.linear(z)


def test_gradient_penalty_draws_one_coefficient_per_sample():
    torch.manual_seed(11)
    n, d = 64, 5
    real, fake = torch.randn(n, d), torch.randn(n, d) + 4
    critic = _Recorder(d)
    gradient_penalty(critic, real, fake)
    (z_hat,) = critic.inputs
    assert z_hat.shape == (n, d)
    # z_hat = a real + (1 - a) fake  =>  a = (z_hat - fake) / (real - fake), per coordinate
    alpha = (z_hat - fake) / (real - fake)
    a = alpha.median(1, keepdim=True).values
    assert torch.allclose(alpha, a.expand(n, d), atol=1e-3)  # one alpha across coordinates
    assert ((a >= 0) & (a <= 1)).all()  # on the segment
    assert float(a.std()) > 0.1  # a different alpha for each sample
    assert torch.allclose(z_hat, a * real + (1 - a) * fake, atol=1e-5)


def test_gradient_penalty_by_hand_for_a_nonlinear_critic():
    torch.manual_seed(12)
    critic = critic_mlp(3, [16])
    real, fake = torch.randn(20, 3), torch.randn(20, 3) * 2
    torch.manual_seed(13)
    gp = gradient_penalty(critic, real, fake)
    torch.manual_seed(13)
    alpha = torch.rand(20, 1)
    norms = []
    for i in range(20):
        z = (alpha[i] * real[i] + (1 - alpha[i]) * fake[i]).requires_grad_(True)
        (g,) = torch.autograd.grad(critic(z[None]).sum(), z)
        norms.append(g.norm())
    ref = (torch.stack(norms) - 1).pow(2).mean()
    assert torch.allclose(gp, ref, atol=1e-5)
    # the penalty is differentiable in the critic's weights (create_graph=True); the last
    # bias does not move the input gradient, so it gets none
    gp.backward()
    assert float(critic[0].weight.grad.abs().sum()) > 0
    assert float(critic[2].weight.grad.abs().sum()) > 0


def test_clip_weights_clamps_every_parameter():
    torch.manual_seed(14)
    critic = critic_mlp(2, [8, 8])
    before = [p.detach().clone() for p in critic.parameters()]
    clip_weights(critic, 0.05)
    for p, b in zip(critic.parameters(), before, strict=True):
        assert (p.abs() <= 0.05).all()
        assert torch.equal(p, b.clamp(-0.05, 0.05))


def test_critic_mlp_shapes_and_spectral_norm():
    plain = critic_mlp(3, [8, 4])
    assert [type(m) for m in plain] == [nn.Linear, nn.LeakyReLU, nn.Linear, nn.LeakyReLU, nn.Linear]
    assert plain(torch.zeros(5, 3)).shape == (5, 1)
    sn = critic_mlp(3, [8, 4], spectral_norm=True)
    linears = [m for m in sn if isinstance(m, nn.Linear)]
    assert len(linears) == 3
    assert all(nn.utils.parametrize.is_parametrized(m, "weight") for m in linears)


# --- MMD -------------------------------------------------------------------------------------


@pytest.mark.parametrize("kernel", ["imq", "rbf"])
def test_mmd_near_zero_for_one_distribution_positive_for_a_shift(kernel):
    torch.manual_seed(15)
    n = 1000  # the null standard deviation is about 0.003 here (0.006 at n=500)
    x, y = torch.randn(n, 2), torch.randn(n, 2)
    assert abs(float(mmd2_unbiased(x, y, kernel))) < 0.01
    shifted = y + torch.tensor([2.0, 0.0])
    assert float(mmd2_unbiased(x, shifted, kernel)) > 0.1


@pytest.mark.parametrize("kernel", ["imq", "rbf"])
def test_mmd_is_unbiased(kernel):
    torch.manual_seed(0)  # no bias over 2000 repetitions x 3 seeds either (checked)
    values = torch.stack(
        [mmd2_unbiased(torch.randn(50, 3), torch.randn(50, 3), kernel) for _ in range(200)]
    )
    mean, se = _mc_mean_and_se(values)
    assert abs(mean) < 3 * se


def _mmd_double_loop(x, y, kernel, c0):
    def k(a, b, c):
        sq = float(((a - b) ** 2).sum())
        return c / (c + sq) if kernel == "imq" else math.exp(-sq / c)

    n, m = len(x), len(y)
    total = 0.0
    for s in SCALES:
        c = c0 * s
        total += sum(k(x[i], x[j], c) for i in range(n) for j in range(n) if i != j) / (n * (n - 1))
        total += sum(k(y[i], y[j], c) for i in range(m) for j in range(m) if i != j) / (m * (m - 1))
        total -= 2 * sum(k(x[i], y[j], c) for i in range(n) for j in range(m)) / (n * m)
    return total


@pytest.mark.parametrize("kernel", ["imq", "rbf"])
@pytest.mark.parametrize("base_scale", [None, 0.7])
def test_mmd_matches_a_double_loop(kernel, base_scale):
    torch.manual_seed(17)
    x, y = torch.randn(5, 3, dtype=torch.float64), torch.randn(4, 3, dtype=torch.float64) + 0.5
    c0 = 2.0 * 3 if base_scale is None else base_scale
    ref = _mmd_double_loop(x, y, kernel, c0)
    assert abs(float(mmd2_unbiased(x, y, kernel, base_scale=base_scale)) - ref) < 1e-6


def test_mmd_unknown_kernel():
    with pytest.raises(ValueError, match="kernel"):
        kernel_matrix(torch.zeros(2, 2), torch.zeros(2, 2), "laplace", 1.0)


# --- sliced Wasserstein ----------------------------------------------------------------------


def test_sliced_wasserstein_zero_for_identical_samples():
    torch.manual_seed(18)
    x = torch.randn(100, 4)
    assert float(sliced_wasserstein(x, x.clone())) == 0.0
    # a permutation of the same sample is the same empirical distribution
    assert float(sliced_wasserstein(x, x[torch.randperm(100)])) < 1e-5


def test_sliced_wasserstein_of_a_shift_is_exact():
    """x vs x + c e_1: every direction theta sees a shift c theta_1, so
    SW_2 = c * sqrt(mean_theta theta_1^2), about c / sqrt(d) for many directions."""
    torch.manual_seed(19)
    d, p = 4, 2000
    x = torch.randn(200, d)
    e = torch.zeros(d)
    e[0] = 1.0
    theta = torch.randn(d, p, generator=torch.Generator().manual_seed(0))
    theta = theta / theta.norm(dim=0, keepdim=True)
    expected = theta[0].pow(2).mean().sqrt()
    values = []
    for c in [0.5, 1.0, 2.0, 4.0]:
        g = torch.Generator().manual_seed(0)
        sw = sliced_wasserstein(x, x + c * e, n_projections=p, generator=g)
        assert torch.allclose(sw, c * expected, rtol=1e-3)
        values.append(float(sw))
    assert values[0] > 0
    assert all(a < b for a, b in zip(values[:-1], values[1:], strict=True))  # grows with c
    assert abs(values[1] - 1 / math.sqrt(d)) < 0.03  # E[theta_1^2] = 1/d


def test_sliced_wasserstein_in_one_dimension_is_the_exact_w2():
    torch.manual_seed(20)
    x, y = torch.randn(300, 1), torch.randn(300, 1) * 2 + 1
    w2 = (x.sort(0).values - y.sort(0).values).pow(2).mean().sqrt()
    assert torch.allclose(sliced_wasserstein(x, y, n_projections=8), w2, rtol=1e-5)
    # p = 1: the mean absolute difference of the sorted samples
    w1 = (x.sort(0).values - y.sort(0).values).abs().mean()
    assert torch.allclose(sliced_wasserstein(x, y, n_projections=8, p=1), w1, rtol=1e-5)


def test_sliced_wasserstein_is_seeded_by_the_generator():
    torch.manual_seed(21)
    x, y = torch.randn(50, 3), torch.randn(50, 3) + 1
    a = sliced_wasserstein(x, y, generator=torch.Generator().manual_seed(3))
    b = sliced_wasserstein(x, y, generator=torch.Generator().manual_seed(3))
    assert torch.equal(a, b)


def test_kl_functions_are_differentiable():
    mu = torch.zeros(2, 3, requires_grad=True)
    logvar = torch.zeros(2, 3, requires_grad=True)
    gaussian_kl(mu + 1, logvar, 1.0).sum().backward()
    assert torch.allclose(mu.grad, torch.ones(2, 3))  # d/dmu 0.5 mu^2 = mu
    assert torch.allclose(logvar.grad, torch.zeros(2, 3))  # 0.5 (exp(lv) - 1) at lv = 0
