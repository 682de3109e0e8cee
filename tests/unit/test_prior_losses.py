"""Prior-matching losses: their values against the divergences they wrap, their validation,
the adversarial losses' critics, constraints and default optimizers."""

from __future__ import annotations

import math
from functools import partial

import pytest
import torch
from torch import nn

from aelab.divergences.adversarial import discriminator_value, generator_loss_jsd, jsd_estimate
from aelab.divergences.kl import gaussian_kl, monte_carlo_kl
from aelab.divergences.mmd import mmd2_unbiased
from aelab.errors import ConfigError
from aelab.prior_losses import JSD, KL, MMD, PriorLoss, Wasserstein
from aelab.priors import GaussianMixture, StandardGaussian


def _linears(critic: nn.Module) -> list[nn.Linear]:
    return [m for m in critic.modules() if isinstance(m, nn.Linear)]


# --- validation ----------------------------------------------------------------------------


def test_negative_weight_is_a_config_error():
    with pytest.raises(ConfigError, match="weight"):
        KL(weight=-0.1)
    with pytest.raises(ConfigError, match="weight"):
        JSD(2, weight=-1.0)
    assert KL(weight=0.0).weight == 0.0


def test_mmd_rejects_unknown_kernel():
    with pytest.raises(ConfigError, match="kernel"):
        MMD(kernel="laplace")


def test_adversarial_rejects_n_critic_below_one():
    with pytest.raises(ConfigError, match="n_critic"):
        Wasserstein(2, n_critic=0)


def test_wasserstein_rejects_unknown_constraint_and_bad_clip():
    with pytest.raises(ConfigError, match="constraint"):
        Wasserstein(2, constraint="lipschitz")
    with pytest.raises(ConfigError, match="clip"):
        Wasserstein(2, constraint="clip", clip=0.0)
    Wasserstein(2, constraint="gp", clip=0.0)  # clip only matters for constraint=clip


def test_names_and_defaults():
    assert (KL.name, MMD.name, JSD.name, Wasserstein.name) == ("kl", "mmd", "jsd", "wasserstein")
    assert all(issubclass(c, PriorLoss) for c in (KL, MMD, JSD, Wasserstein))
    assert KL().weight == 1.0
    assert MMD().weight == 10.0 and MMD().kernel == "imq"
    w = Wasserstein(2)
    assert (w.constraint, w.gp_weight, w.clip, w.n_critic, w.weight) == ("gp", 10.0, 0.01, 1, 1.0)


# --- KL, MMD ---------------------------------------------------------------------------------


def test_kl_loss_is_the_batch_mean_of_the_analytic_kl():
    torch.manual_seed(0)
    mu, logvar = torch.randn(8, 3), torch.randn(8, 3)
    loss = KL(weight=4.0)(torch.randn(8, 3), StandardGaussian(3, 2.0), mu, logvar)
    # the weight is the family's to apply, not the loss's
    assert torch.allclose(loss, gaussian_kl(mu, logvar, 2.0).mean(), atol=1e-6)


def test_kl_loss_is_monte_carlo_for_a_mixture():
    torch.manual_seed(1)
    prior = GaussianMixture(2, k=4, layout="grid")
    mu, logvar = torch.randn(8, 2), torch.randn(8, 2)
    z = torch.randn(8, 2)
    loss = KL()(z, prior, mu, logvar)
    assert torch.allclose(loss, monte_carlo_kl(z, mu, logvar, prior).mean())


@pytest.mark.parametrize("kernel", ["imq", "rbf"])
@pytest.mark.parametrize(
    "prior", [StandardGaussian(3, 2.0), GaussianMixture(3, k=5, layout="random", radius=2.0)]
)
def test_mmd_loss_is_mmd_against_as_many_prior_draws(kernel, prior):
    torch.manual_seed(2)
    z = torch.randn(40, 3)
    loss = MMD(kernel=kernel)
    torch.manual_seed(3)
    value = loss(z, prior)
    torch.manual_seed(3)
    c = 2.0 * 3 * prior.variance()
    ref = mmd2_unbiased(z, prior.sample(40), kernel, base_scale=c)
    assert torch.allclose(value, ref, atol=1e-6)
    assert loss._variance == pytest.approx(prior.variance())


def test_mmd_kernel_scale_follows_the_prior_variance():
    """C = 2 d sigma^2: codes of N(0, 25 I) against the prior N(0, 25 I) are a null sample,
    while the unit-variance default scale would treat them as far apart."""
    torch.manual_seed(4)
    prior = StandardGaussian(2, 5.0)
    z = prior.sample(1000)
    assert abs(float(MMD()(z, prior))) < 0.01
    assert float(MMD()(z / 5.0, prior)) > 0.1


# --- JSD -------------------------------------------------------------------------------------


def test_jsd_losses_match_the_divergence_functions():
    torch.manual_seed(5)
    loss = JSD(2, hidden=[8])
    z_prior, z_code = torch.randn(16, 2), torch.randn(16, 2) + 1
    value = discriminator_value(loss.critic(z_prior), loss.critic(z_code))
    critic_loss, logs = loss.critic_loss(z_prior, z_code)
    assert torch.allclose(critic_loss, -value)
    assert set(logs) == {"jsd_estimate"}
    assert torch.allclose(logs["jsd_estimate"], jsd_estimate(value))
    assert not logs["jsd_estimate"].requires_grad
    assert torch.allclose(loss.estimate(z_prior, z_code)["jsd_estimate"], logs["jsd_estimate"])
    logits = loss.critic(z_code)
    assert torch.allclose(loss.encoder_loss(z_code), generator_loss_jsd(logits, True))
    saturating = JSD(2, hidden=[8], non_saturating=False)
    saturating.critic.load_state_dict(loss.critic.state_dict())
    assert torch.allclose(saturating.encoder_loss(z_code), torch.log(1 - logits.sigmoid()).mean())


def test_jsd_critic_loss_at_a_zero_critic_is_two_log_two():
    loss = JSD(3, hidden=[4])
    with torch.no_grad():
        for p in loss.critic.parameters():
            p.zero_()
    critic_loss, logs = loss.critic_loss(torch.randn(5, 3), torch.randn(7, 3))
    assert torch.allclose(critic_loss, torch.tensor(2 * math.log(2.0)))
    assert torch.allclose(logs["jsd_estimate"], torch.tensor(0.0), atol=1e-7)


def test_jsd_default_optimizer_and_architecture():
    loss = JSD(2)
    assert [m.out_features for m in _linears(loss.critic)] == [512, 512, 1]
    opt = loss.optimizer_factory(loss.critic.parameters())
    assert isinstance(opt, torch.optim.Adam)
    assert opt.param_groups[0]["lr"] == 1e-3
    assert opt.param_groups[0]["betas"] == (0.5, 0.9)


def test_a_given_optimizer_overrides_the_default():
    factory = partial(torch.optim.SGD, lr=0.3)
    for loss in (JSD(2, optimizer=factory), Wasserstein(2, constraint="clip", optimizer=factory)):
        assert loss.optimizer_factory is factory


# --- Wasserstein ---------------------------------------------------------------------------------


def test_wasserstein_default_optimizers_per_constraint():
    clip = Wasserstein(2, constraint="clip").optimizer_factory
    gp = Wasserstein(2, constraint="gp").optimizer_factory
    sn = Wasserstein(2, constraint="sn").optimizer_factory
    params = [nn.Parameter(torch.zeros(2))]
    opt = clip(params)
    assert type(opt) is torch.optim.RMSprop
    assert opt.param_groups[0]["lr"] == 5e-5
    opt = gp(params)
    assert type(opt) is torch.optim.Adam
    assert opt.param_groups[0]["lr"] == 1e-4
    assert opt.param_groups[0]["betas"] == (0.0, 0.9)
    opt = sn(params)
    assert type(opt) is torch.optim.Adam
    assert opt.param_groups[0]["lr"] == 1e-4
    assert opt.param_groups[0]["betas"] == (0.5, 0.9)


def test_wasserstein_clip_after_critic_step():
    torch.manual_seed(6)
    loss = Wasserstein(2, constraint="clip", clip=0.01, hidden=[16, 16])
    # the default init exceeds the clip value: the hook has work to do
    assert max(float(p.detach().abs().max()) for p in loss.critic.parameters()) > 0.1
    loss.after_critic_step()
    for p in loss.critic.parameters():
        assert (p.abs() <= 0.01).all()
    assert max(float(p.detach().abs().max()) for p in loss.critic.parameters()) == pytest.approx(
        0.01
    )


@pytest.mark.parametrize("constraint", ["gp", "sn"])
def test_wasserstein_hook_leaves_other_constraints_alone(constraint):
    torch.manual_seed(7)
    loss = Wasserstein(2, constraint=constraint, hidden=[16])
    before = {k: v.clone() for k, v in loss.critic.state_dict().items()}
    loss.after_critic_step()
    after = loss.critic.state_dict()
    assert all(torch.equal(before[k], after[k]) for k in before)


def test_wasserstein_sn_parametrizes_every_layer():
    loss = Wasserstein(3, constraint="sn", hidden=[16, 8])
    linears = _linears(loss.critic)
    assert len(linears) == 3
    assert all(nn.utils.parametrize.is_parametrized(m, "weight") for m in linears)
    assert loss.spectral_norm is True
    for constraint in ("gp", "clip"):
        plain = Wasserstein(3, constraint=constraint, hidden=[16, 8])
        assert plain.spectral_norm is False
        assert not any(nn.utils.parametrize.is_parametrized(m) for m in _linears(plain.critic))


def test_wasserstein_sn_layers_have_unit_spectral_norm():
    torch.manual_seed(8)
    loss = Wasserstein(4, constraint="sn", hidden=[32])
    loss.critic.train()
    for _ in range(50):  # power iterations run in training forward passes
        loss.critic(torch.randn(8, 4))
    loss.critic.eval()
    for m in _linears(loss.critic):
        assert float(torch.linalg.matrix_norm(m.weight.detach(), ord=2)) == pytest.approx(
            1.0, abs=1e-3
        )


def test_wasserstein_gp_critic_loss_by_hand():
    torch.manual_seed(9)
    loss = Wasserstein(2, constraint="gp", gp_weight=10.0, hidden=[8])
    z_prior, z_code = torch.randn(16, 2), torch.randn(16, 2) + 2
    f = loss.critic
    w1 = f(z_prior).mean() - f(z_code).mean()
    torch.manual_seed(10)
    critic_loss, logs = loss.critic_loss(z_prior, z_code)
    assert set(logs) == {"w1_estimate", "gradient_penalty"}
    assert torch.allclose(logs["w1_estimate"], w1)
    assert torch.allclose(critic_loss, -w1 + 10.0 * logs["gradient_penalty"], atol=1e-6)
    assert float(logs["gradient_penalty"]) > 0
    assert torch.allclose(loss.estimate(z_prior, z_code)["w1_estimate"], w1)
    assert torch.allclose(loss.encoder_loss(z_code), -f(z_code).mean())


@pytest.mark.parametrize("constraint", ["clip", "sn"])
def test_wasserstein_without_gp_has_no_penalty(constraint):
    torch.manual_seed(11)
    loss = Wasserstein(2, constraint=constraint, hidden=[8])
    loss.critic.eval()  # fixed spectral-norm estimates across the two calls
    z_prior, z_code = torch.randn(16, 2), torch.randn(16, 2) + 2
    critic_loss, logs = loss.critic_loss(z_prior, z_code)
    assert set(logs) == {"w1_estimate"}
    assert torch.allclose(critic_loss, -logs["w1_estimate"])


def test_wasserstein_unit_linear_critic_estimates_the_mean_shift():
    """f(z) = <w, z> with |w| = 1 along the shift is an optimal 1-Lipschitz critic between
    N(m, I) and N(0, I): E_p f - E_q f = W1 = |m|, and its gradient penalty is zero."""
    torch.manual_seed(12)
    loss = Wasserstein(2, constraint="gp", hidden=[])
    (linear,) = _linears(loss.critic)
    with torch.no_grad():
        linear.weight.copy_(torch.tensor([[0.6, 0.8]]))
        linear.bias.fill_(0.3)
    shift = torch.tensor([1.5, 2.0])  # |shift| = 2.5, along w
    z_prior, z_code = torch.randn(20000, 2) + shift, torch.randn(20000, 2)
    critic_loss, logs = loss.critic_loss(z_prior, z_code)
    assert float(logs["gradient_penalty"]) < 1e-6
    assert float(logs["w1_estimate"]) == pytest.approx(2.5, abs=0.03)
    assert torch.allclose(critic_loss, -logs["w1_estimate"], atol=1e-5)


def test_wasserstein_critic_learns_with_clipping():
    """A few RMSprop steps with clipping keep the critic in [-c, c] and the W1 estimate > 0."""
    torch.manual_seed(13)
    loss = Wasserstein(2, constraint="clip", clip=0.05, hidden=[16], optimizer=None)
    opt = loss.optimizer_factory(loss.critic.parameters())
    opt.param_groups[0]["lr"] = 5e-3
    loss.after_critic_step()
    for _ in range(50):
        z_prior, z_code = torch.randn(64, 2) + 3, torch.randn(64, 2)
        critic_loss, _ = loss.critic_loss(z_prior, z_code)
        opt.zero_grad()
        critic_loss.backward()
        opt.step()
        loss.after_critic_step()
        assert all((p.abs() <= 0.05).all() for p in loss.critic.parameters())
    est = loss.estimate(torch.randn(1000, 2) + 3, torch.randn(1000, 2))["w1_estimate"]
    assert float(est) > 0


def test_w1_normalized_divides_by_the_critics_slope():
    """A linear critic f(z) = a . z between two translated Gaussians: its estimate is |a| W1
    along a, the normalized estimate is W1 whatever |a| (the penalty's slope above 1 and
    clipping's below it both cancel)."""
    loss = Wasserstein(2, hidden=[], constraint="gp")
    with torch.no_grad():
        loss.critic[0].weight.copy_(torch.tensor([[3.0, 0.0]]))
        loss.critic[0].bias.zero_()
    torch.manual_seed(0)
    z_q = torch.randn(4000, 2)
    z_p = z_q + torch.tensor([2.0, 0.0])  # W1 = 2 exactly
    est = loss.estimate(z_p, z_q)
    assert float(est["w1_estimate"]) == pytest.approx(6.0, rel=1e-5)
    assert float(est["w1_normalized"]) == pytest.approx(2.0, rel=1e-5)
    with torch.inference_mode():  # as Lightning evaluates
        assert float(loss.estimate(z_p, z_q)["w1_normalized"]) == pytest.approx(2.0, rel=1e-5)
