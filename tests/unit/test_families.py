"""Model families on tiny MLPs: the VAE's bounds (ELBO, IWAE) and Gaussian encoder, the plain /
MMD autoencoder's loss, and the adversarial family's joint step and Makhzani's phases, driven
through a real Lightning Trainer."""

from __future__ import annotations

import functools
import math
import warnings

import pytest
import pytorch_lightning as pl
import torch

import aelab.nets
from aelab.data import TensorBatches
from aelab.divergences.kl import gaussian_log_prob, kl_to_prior
from aelab.models import VAE, AdversarialAutoencoder, Autoencoder
from aelab.models.base import reparameterize
from aelab.prior_losses import JSD, KL, MMD, Wasserstein
from aelab.priors import GaussianMixture, StandardGaussian

IMAGE = (1, 8, 8)


def _network(likelihood: str = "bernoulli"):
    return functools.partial(aelab.nets.mlp, hidden=[32], likelihood=likelihood)


def _adam(lr: float = 1e-3):
    return functools.partial(torch.optim.Adam, lr=lr)


def _binary_images(n: int, seed: int = 0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return (torch.rand(n, *IMAGE, generator=g) > 0.5).float()


def _vae(latent_dim: int = 2, prior=None, prior_loss=None, seed: int = 0, sharpen: float = 10.0):
    """An untrained VAE whose decoder depends strongly on z (first layer scaled by ``sharpen``):
    its true posterior is much narrower than q(z|x), so the IWAE bound has room to tighten."""
    torch.manual_seed(seed)
    model = VAE(
        IMAGE,
        latent_dim,
        network=_network(),
        optimizer=_adam(),
        prior=prior or StandardGaussian(latent_dim),
        prior_loss=prior_loss or KL(),
    )
    with torch.no_grad():
        model.decoder.net[0].weight.mul_(sharpen)
    model.data_is_binary = True  # scored on binary images: the Bernoulli NLL is a likelihood
    return model


def _elbo_per_example(model: VAE, x: torch.Tensor) -> torch.Tensor:
    """One-sample ELBO per example, as VAE.step computes it: -nll(x | z) - KL(q || p)."""
    mu, logvar = model.posterior(x)
    z = reparameterize(mu, logvar)
    recon = model.decoder.likelihood.nll(model.decode(z), x)
    return -(recon + kl_to_prior(z, mu, logvar, model.prior))


# --- VAE -------------------------------------------------------------------------------------


def test_vae_posterior_shapes():
    model = _vae(latent_dim=3)
    x = _binary_images(5)
    mu, logvar = model.posterior(x)
    assert mu.shape == (5, 3) and logvar.shape == (5, 3)
    assert model.encoder.net[-1].out_features == 6  # mean and log-variance
    assert torch.equal(model.encode(x), mu)
    assert model.sample_code(x).shape == (5, 3)
    assert model.reconstruct(x).shape == (5, *IMAGE)
    r = model.reconstruct(x)
    assert ((r >= 0) & (r <= 1)).all()  # Bernoulli means


def test_reparameterize_mean_and_std():
    torch.manual_seed(1)
    mu = torch.tensor([[1.0, -2.0, 0.0]])
    logvar = torch.tensor([[0.0, math.log(4.0), math.log(0.01)]])
    n = 40000
    z = reparameterize(mu.expand(n, 3), logvar.expand(n, 3))
    se = torch.tensor([1.0, 2.0, 0.1]) / math.sqrt(n)
    assert ((z.mean(0) - mu[0]).abs() < 4 * se).all()
    assert torch.allclose(z.std(0), torch.tensor([1.0, 2.0, 0.1]), rtol=0.02)
    # differentiable in mu and logvar: dz/dmu = 1
    mu_ = mu.clone().requires_grad_(True)
    reparameterize(mu_, logvar).sum().backward()
    assert torch.equal(mu_.grad, torch.ones(1, 3))


def test_vae_step_loss_and_logs_by_hand():
    model = _vae(latent_dim=2, prior_loss=KL(weight=3.0))
    x = _binary_images(16)
    torch.manual_seed(2)
    loss, logs, x_hat = model.step(x)
    torch.manual_seed(2)
    mu, logvar = model.posterior(x)
    z = reparameterize(mu, logvar)
    out = model.decode(z)
    recon = model.decoder.likelihood.nll(out, x)
    kl = kl_to_prior(z, mu, logvar, model.prior)
    assert set(logs) == {"elbo", "kl", "recon_nll"}
    assert torch.allclose(loss, recon.mean() + 3.0 * kl.mean())  # beta-VAE
    assert torch.allclose(logs["elbo"], -(recon + kl).mean())  # beta = 1 in the ELBO
    assert torch.allclose(logs["kl"], kl.mean())
    assert torch.allclose(logs["recon_nll"], recon.mean())
    assert torch.allclose(x_hat, out)  # step returns the raw decoder output


def test_vae_with_mmd_logs_both():
    model = _vae(latent_dim=2, prior_loss=MMD(weight=5.0))
    x = _binary_images(16)
    torch.manual_seed(3)
    loss, logs, _ = model.step(x)
    assert set(logs) == {"elbo", "kl", "recon_nll", "mmd"}
    assert torch.allclose(loss, logs["recon_nll"] + 5.0 * logs["mmd"])


def test_iwae_with_one_sample_is_the_elbo_in_expectation():
    model = _vae()
    x = _binary_images(64).repeat(40, 1, 1, 1)  # 2560 draws
    torch.manual_seed(4)
    iwae1 = model.iwae_log_likelihood(x, 1)
    with torch.no_grad():
        elbo = _elbo_per_example(model, x)
    diff = (iwae1 - elbo).double()  # paired by example: the example-to-example spread cancels
    se = float(diff.std()) / math.sqrt(len(diff))
    assert abs(float(diff.mean())) < 3 * se


def test_iwae_bound_is_above_the_elbo_and_grows_with_k():
    model = _vae()
    x = _binary_images(256)
    with torch.no_grad():
        torch.manual_seed(5)
        elbo = torch.stack([_elbo_per_example(model, x) for _ in range(20)]).mean()
    torch.manual_seed(6)
    bounds = {k: float(model.iwae_log_likelihood(x, k).mean()) for k in (1, 10, 50, 100)}
    assert bounds[50] >= float(elbo)
    assert bounds[1] < bounds[10] < bounds[100]
    assert bounds[1] == pytest.approx(float(elbo), abs=3.0)  # the same bound, MC noise apart
    assert math.isfinite(bounds[100])


def test_iwae_chunking_gives_the_same_bound():
    model = _vae()
    x = _binary_images(32)
    torch.manual_seed(7)
    whole = model.iwae_log_likelihood(x, 200)
    model.iwae_chunk = 100  # 3 samples of z per decoder pass
    torch.manual_seed(8)
    chunked = model.iwae_log_likelihood(x, 200)
    assert chunked.shape == whole.shape == (32,)
    assert float((chunked - whole).mean().abs()) < 0.3


def test_iwae_matches_a_direct_computation():
    """log (1/k) sum_i p(x|z_i) p(z_i) / q(z_i|x), the draws z_i reproduced from the seed."""
    model = _vae(latent_dim=3)
    x = _binary_images(4)
    k = 6
    torch.manual_seed(9)
    iwae = model.iwae_log_likelihood(x, k)
    torch.manual_seed(9)
    with torch.no_grad():
        mu, logvar = model.posterior(x)
        eps = torch.randn(k, *mu.shape)
        ref = []
        for b in range(len(x)):
            log_w = []
            for i in range(k):
                z = mu[b] + (0.5 * logvar[b]).exp() * eps[i, b]
                log_px = -model.decoder.likelihood.nll(model.decode(z[None]), x[b : b + 1])[0]
                log_w.append(
                    log_px
                    + model.prior.log_prob(z[None])[0]
                    - gaussian_log_prob(z, mu[b], logvar[b])
                )
            ref.append(torch.logsumexp(torch.stack(log_w), 0) - math.log(k))
    assert torch.allclose(iwae, torch.stack(ref), atol=1e-4)


def test_iwae_with_a_one_mode_mixture_equals_the_gaussian_prior():
    # N(0, I) twice: a mixture of one mode at the origin with std 1, and the standard Gaussian
    mixture = GaussianMixture(2, k=1, layout="grid", std=1.0)
    assert torch.equal(mixture.means, torch.zeros(1, 2))
    x = _binary_images(8)
    model = _vae(prior=StandardGaussian(2))
    torch.manual_seed(10)
    ref = model.iwae_log_likelihood(x, 5)
    model.prior = mixture
    torch.manual_seed(10)
    assert torch.allclose(model.iwae_log_likelihood(x, 5), ref, atol=1e-4)


def test_iwae_with_a_mixture_prior():
    model = _vae(prior=GaussianMixture(2, k=10), prior_loss=KL())
    out = model.iwae_log_likelihood(_binary_images(8), 5)
    assert out.shape == (8,)


# --- Autoencoder ---------------------------------------------------------------------------


def test_autoencoder_is_deterministic_without_prior_loss():
    torch.manual_seed(11)
    model = Autoencoder(IMAGE, 3, network=_network(), optimizer=_adam())
    x = _binary_images(8)
    mu, logvar = model.posterior(x)
    assert logvar is None and mu.shape == (8, 3)
    assert torch.equal(model.sample_code(x), model.encode(x))
    loss, logs, x_hat = model.step(x)
    out = model.decode(model.encode(x))
    assert logs == {}
    assert torch.allclose(loss, model.decoder.likelihood.nll(out, x).mean())
    assert torch.allclose(x_hat, out)  # step returns the raw decoder output


def test_vae_on_grey_levels_logs_cross_entropy_not_nats():
    """A Bernoulli decoder on grey levels is a cross-entropy, not a likelihood: no ``elbo``,
    ``recon_xent`` instead of ``recon_nll``, ``iwae_xent`` instead of ``nll_iwae``."""
    model = _vae(prior_loss=MMD(weight=5.0))
    model.data_is_binary = False
    x = torch.rand(16, *IMAGE)
    _, logs, _ = model.step(x)
    assert set(logs) == {"kl", "recon_xent", "mmd"}
    model.iwae_samples = 3
    model.test_step((x, torch.zeros(16)), 0)
    assert set(model.epoch_values("test")) >= {"iwae_xent"}
    # a Gaussian or continuous Bernoulli decoder is a density of grey levels: nats again
    for likelihood in ("gaussian", "continuous_bernoulli"):
        torch.manual_seed(0)
        vae = VAE(
            IMAGE, 2, network=_network(likelihood), prior=StandardGaussian(2), prior_loss=KL()
        )
        assert set(vae.step(x)[1]) == {"elbo", "kl", "recon_nll"}


def test_continuous_bernoulli_is_a_normalised_density():
    """Loaiza-Ganem & Cunningham (2019, Eq. 7): the density integrates to 1 over [0, 1] for any
    logit, and its mean is that of the density."""
    from aelab.nets.likelihood import ContinuousBernoulli

    cb = ContinuousBernoulli()
    logits = torch.tensor([[-4.0], [-0.5], [0.0], [1e-4], [3.0]])
    grid = torch.linspace(0, 1, 20001)
    dens = torch.stack([(-cb.nll(logits, x.expand(5, 1))).exp() for x in grid], 1)
    integral = torch.trapezoid(dens, grid, dim=1)
    assert torch.allclose(integral, torch.ones(5), atol=1e-4)
    mean = torch.trapezoid(dens * grid, grid, dim=1)
    assert torch.allclose(cb.mean(logits).squeeze(1), mean, atol=1e-4)
    assert cb.is_density(binary_data=False)


def test_autoencoder_with_mmd_is_wae_mmd():
    torch.manual_seed(12)
    prior = StandardGaussian(3)
    model = Autoencoder(
        (2,), 3, network=_network("gaussian"), optimizer=_adam(), prior=prior, prior_loss=MMD(2.0)
    )
    x = torch.randn(32, 2)
    torch.manual_seed(13)
    loss, logs, _ = model.step(x)
    torch.manual_seed(13)
    z = model.encode(x)
    mmd = MMD(2.0)(z, prior)
    out = model.decode(z)
    recon = (0.5 * (x - out).pow(2).sum(1) + math.log(2 * math.pi)).mean()  # Gaussian, std 1
    assert set(logs) == {"recon_nll", "mmd"}
    assert torch.allclose(logs["mmd"], mmd, atol=1e-6)
    assert torch.allclose(logs["recon_nll"], recon, atol=1e-5)
    assert torch.allclose(loss, recon + 2.0 * mmd, atol=1e-5)


# --- adversarial family ----------------------------------------------------------------------


def _aae(
    prior_loss,
    stochastic: bool = False,
    optimizer=None,
    gradient_clip=None,
    seed: int = 0,
    update: str = "joint",
):
    torch.manual_seed(seed)
    return AdversarialAutoencoder(
        (2,),
        2,
        stochastic_encoder=stochastic,
        gradient_clip=gradient_clip,
        update=update,
        network=_network("gaussian"),
        optimizer=optimizer or _adam(),
        prior=StandardGaussian(2),
        prior_loss=prior_loss,
    )


def _fit(model, n_batches: int, batch_size: int = 64) -> None:
    torch.manual_seed(14)
    x = torch.randn(n_batches * batch_size, 2) * 3 + 1
    batches = TensorBatches(x, torch.full((len(x),), -1), batch_size=batch_size, shuffle=True)
    # every optimizer step counts as a step
    steps_per_batch = model.prior_loss.n_critic + (2 if model.update == "phases" else 1)
    trainer = pl.Trainer(
        max_steps=n_batches * steps_per_batch,
        max_epochs=1,
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        accelerator="cpu",
        devices=1,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        trainer.fit(model, train_dataloaders=batches)


def _snapshot(module: torch.nn.Module) -> list[torch.Tensor]:
    return [p.detach().clone() for p in module.parameters()]


def _changed(before: list[torch.Tensor], module: torch.nn.Module) -> bool:
    return any(not torch.equal(b, p) for b, p in zip(before, module.parameters(), strict=True))


def _param_ids(params) -> set[int]:
    return {id(p) for p in params}


@pytest.mark.parametrize(
    "make_loss",
    [lambda: JSD(2, hidden=[16]), lambda: Wasserstein(2, hidden=[16], constraint="gp")],
    ids=["jsd", "wasserstein"],
)
@pytest.mark.parametrize("update", ["joint", "phases"])
def test_adversarial_optimizers_hold_their_own_parameters(make_loss, update):
    loss = make_loss()
    loss.weight = 4.0
    model = _aae(loss, update=update)
    optimizers = model.configure_optimizers()
    ids = [_param_ids(p for g in o.param_groups for p in g["params"]) for o in optimizers]
    encoder = _param_ids(model.encoder.parameters())
    decoder = _param_ids(model.decoder.parameters())
    critic = _param_ids(model.prior_loss.critic.parameters())
    assert ids[:2] == [encoder | decoder, critic]
    assert _param_ids(model.parameters()) == encoder | decoder | critic
    # the critic's optimizer is the loss's (JSD: Adam 1e-3, WGAN-GP: Adam 1e-4), the others the model's
    opt_ae, opt_critic = optimizers[:2]
    assert opt_critic.param_groups[0]["lr"] == (1e-3 if isinstance(model.prior_loss, JSD) else 1e-4)
    assert opt_ae.param_groups[0]["lr"] == 1e-3
    if update == "joint":
        assert len(optimizers) == 2
    else:  # Makhzani's regularization phase: the encoder alone, lambda = its lr ratio
        assert ids[2] == encoder
        assert optimizers[2].param_groups[0]["lr"] == pytest.approx(4.0 * 1e-3)


def test_adversarial_family_rejects_other_prior_losses():
    with pytest.raises(TypeError, match="jsd or prior_loss=wasserstein"):
        _aae(KL())
    with pytest.raises(TypeError):
        _aae(None)


def _grads(module: torch.nn.Module) -> list[torch.Tensor | None]:
    return [None if p.grad is None else p.grad.detach().clone() for p in module.parameters()]


def _same_grads(before: list[torch.Tensor | None], module: torch.nn.Module) -> bool:
    after = _grads(module)
    return all(
        (a is None and b is None) or (a is not None and b is not None and torch.equal(a, b))
        for a, b in zip(before, after, strict=True)
    )


def _record_phases(model):
    """Wrap ``_optimizer_step``: which of encoder / decoder / critic each phase moved, and which
    received a new gradient (the docstring: "the other parameters get no gradient")."""
    phases: list[dict[str, bool]] = []
    touched: list[dict[str, bool]] = []
    parts = {
        "encoder": model.encoder,
        "decoder": model.decoder,
        "critic": model.prior_loss.critic,
    }
    inner = model._optimizer_step

    def step(optimizer, compute):
        before = {name: _snapshot(m) for name, m in parts.items()}
        grads = {name: _grads(m) for name, m in parts.items()}
        out = inner(optimizer, compute)
        phases.append({name: _changed(before[name], m) for name, m in parts.items()})
        touched.append({name: not _same_grads(grads[name], m) for name, m in parts.items()})
        return out

    model._optimizer_step = step
    return phases, touched


@pytest.mark.parametrize(
    ("make_loss", "stochastic"),
    [
        (lambda: JSD(2, hidden=[16], n_critic=2), False),
        (lambda: JSD(2, hidden=[16], non_saturating=False), True),
        (lambda: Wasserstein(2, hidden=[16], constraint="gp", n_critic=2), False),
        (lambda: Wasserstein(2, hidden=[16], constraint="sn"), True),
    ],
    ids=["jsd", "jsd-saturating-stochastic", "wgan-gp", "wgan-sn-stochastic"],
)
@pytest.mark.parametrize("update", ["joint", "phases"])
def test_each_step_moves_only_its_own_parameters(make_loss, stochastic, update):
    model = _aae(make_loss(), stochastic=stochastic, update=update)
    n_critic = model.prior_loss.n_critic
    phases, touched = _record_phases(model)
    before = {
        "encoder": _snapshot(model.encoder),
        "decoder": _snapshot(model.decoder),
        "critic": _snapshot(model.prior_loss.critic),
    }
    _fit(model, n_batches=1)
    autoencoder = {"encoder": True, "decoder": True, "critic": False}
    critic = {"encoder": False, "decoder": False, "critic": True}
    regularization = {"encoder": True, "decoder": False, "critic": False}
    if update == "joint":  # Tolstikhin et al. 2018, Alg. 1: the joint step, then the critic
        assert phases == [autoencoder, *[critic] * n_critic]
    else:  # Makhzani et al. 2015: reconstruction, critic, regularization
        assert phases == [autoencoder, *[critic] * n_critic, regularization]
    # no gradient reaches the parameters another optimizer owns (toggling, no_grad codes)
    assert touched == phases
    # across the whole training step, all three moved
    assert _changed(before["encoder"], model.encoder)
    assert _changed(before["decoder"], model.decoder)
    assert _changed(before["critic"], model.prior_loss.critic)
    # every parameter is trainable again once the step is over (the toggles were undone)
    assert all(p.requires_grad for p in model.parameters())


@pytest.mark.parametrize(
    "make_loss",
    [lambda: JSD(2, hidden=[16], weight=7.0), lambda: Wasserstein(2, hidden=[16], weight=7.0)],
    ids=["jsd", "wasserstein"],
)
def test_joint_step_gradient_is_that_of_the_documented_sum(make_loss):
    """The gradient the joint step hands the encoder and decoder's optimizer is the gradient of
    -log p(x | z) + lambda * encoder_loss(z) (Tolstikhin et al. 2018, Alg. 1), not of the
    reconstruction alone; none reaches the critic."""
    model = _aae(make_loss())
    x = torch.randn(32, 2)
    parts = [*model.encoder.parameters(), *model.decoder.parameters()]
    z = model.encode(x)
    recon = model.decoder.likelihood.nll(model.decode(z), x).mean()
    expected = torch.autograd.grad(
        recon + 7.0 * model.prior_loss.encoder_loss(z), parts, retain_graph=True
    )
    recon_only = torch.autograd.grad(recon, parts)
    recorded: dict[str, list] = {}
    configure = model.configure_optimizers

    def configure_and_record():
        optimizers = configure()
        step = optimizers[0].step

        def recording_step(*args, **kwargs):
            if not recorded:
                recorded["ae"] = [p.grad.clone() for p in parts]
                recorded["critic"] = [p.grad for p in model.prior_loss.critic.parameters()]
            return step(*args, **kwargs)

        optimizers[0].step = recording_step
        return optimizers

    model.configure_optimizers = configure_and_record
    trainer = pl.Trainer(
        max_steps=1 + model.prior_loss.n_critic,
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        accelerator="cpu",
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        trainer.fit(model, train_dataloaders=TensorBatches(x, torch.full((32,), -1), 32))
    for got, want in zip(recorded["ae"], expected, strict=True):
        assert torch.allclose(got, want, atol=1e-6)
    assert any(
        not torch.allclose(w, r, atol=1e-4) for w, r in zip(expected, recon_only, strict=True)
    )
    assert all(g is None for g in recorded["critic"])


def test_lambda_changes_the_joint_update_under_adam():
    """Adam takes the same step whatever the scale of its loss: in the joint step lambda still
    moves the encoder differently, because it weighs one term against the other."""
    after = []
    for weight in (1.0, 100.0):
        model = _aae(JSD(2, hidden=[16], weight=weight))
        _fit(model, n_batches=3)
        after.append(torch.cat([p.detach().flatten() for p in model.encoder.parameters()]))
    assert (after[0] - after[1]).abs().max() > 1e-3


def test_adversarial_loss_for_model_selection_ignores_the_adversary():
    """val/loss of the adversarial families is the reconstruction term: a different critic
    leaves it as it is (the critic's estimates move)."""
    model = _aae(JSD(2, hidden=[16], weight=3.0)).eval()
    x = torch.randn(64, 2)
    torch.manual_seed(1)
    loss, logs, _ = model.step(x)
    with torch.no_grad():
        for p in model.prior_loss.critic.parameters():
            p.mul_(5.0)
    torch.manual_seed(1)
    loss_other, logs_other, _ = model.step(x)
    assert torch.equal(loss, loss_other)
    assert torch.equal(loss, logs["recon_nll"])
    assert not torch.equal(logs["jsd_estimate"], logs_other["jsd_estimate"])


def test_a_frozen_critic_optimizer_keeps_the_critic_while_the_encoder_moves():
    loss = JSD(2, hidden=[16])
    factory = loss.optimizer_factory

    def no_step_factory(params):
        opt = factory(params)

        def no_step(closure=None):
            return closure() if closure is not None else None

        opt.step = no_step
        return opt

    loss.optimizer_factory = no_step_factory
    model = _aae(loss)
    critic_before = _snapshot(model.prior_loss.critic)
    encoder_before = _snapshot(model.encoder)
    decoder_before = _snapshot(model.decoder)
    _fit(model, n_batches=3)
    assert not _changed(critic_before, model.prior_loss.critic)
    assert _changed(encoder_before, model.encoder)
    assert _changed(decoder_before, model.decoder)


def test_wasserstein_clip_keeps_the_critic_in_the_box_through_training():
    c = 0.01
    loss = Wasserstein(
        2,
        hidden=[16],
        constraint="clip",
        clip=c,
        n_critic=3,
        optimizer=functools.partial(torch.optim.RMSprop, lr=1e-2),
    )
    model = _aae(loss)
    before = _snapshot(model.prior_loss.critic)
    assert max(float(p.abs().max()) for p in before) > 10 * c  # the init is far outside
    _fit(model, n_batches=4)
    assert _changed(before, model.prior_loss.critic)
    for p in model.prior_loss.critic.parameters():
        assert (p.detach().abs() <= c).all()


def test_gradient_clip_bounds_each_sgd_step():
    clip, lr = 1e-3, 1.0
    model = _aae(
        JSD(2, hidden=[16], optimizer=functools.partial(torch.optim.SGD, lr=lr)),
        optimizer=functools.partial(torch.optim.SGD, lr=lr),
        gradient_clip=clip,
    )
    sizes: list[float] = []
    inner = model._optimizer_step

    def step(optimizer, compute):
        params = [p for g in optimizer.param_groups for p in g["params"]]
        before = [p.detach().clone() for p in params]
        out = inner(optimizer, compute)
        delta = torch.cat([(p.detach() - b).flatten() for p, b in zip(params, before, strict=True)])
        sizes.append(float(delta.norm()))
        return out

    model._optimizer_step = step
    _fit(model, n_batches=1)
    assert len(sizes) == 2  # the joint step and one critic step
    assert all(0 < s <= lr * clip * (1 + 1e-4) for s in sizes)


def test_adversarial_evaluation_step():
    """Evaluation loss: the reconstruction NLL; the current critic's divergence estimate and
    the encoder's loss against the critic are logged beside it."""
    model = _aae(Wasserstein(2, hidden=[16], constraint="gp", weight=2.0))
    x = torch.randn(32, 2)
    torch.manual_seed(5)
    loss, logs, x_hat = model.step(x)
    z = model.encode(x)
    out = model.decode(z)
    recon = model.decoder.likelihood.nll(out, x).mean()
    critic = model.prior_loss.critic
    torch.manual_seed(5)
    w1 = critic(model.prior.sample(32)).mean() - critic(z).mean()
    assert set(logs) == {"recon_nll", "encoder_loss", "w1_estimate", "w1_normalized"}
    assert torch.allclose(logs["w1_estimate"], w1)
    assert torch.allclose(loss, recon)
    assert torch.allclose(logs["encoder_loss"], -critic(z).mean())
    assert torch.allclose(x_hat, out)


def test_compile_networks_keeps_the_checkpoint_keys():
    """``compile=true`` compiles encoder and decoder in place: state-dict keys do not change,
    so checkpoints of compiled and plain runs are interchangeable."""
    from aelab.models import Autoencoder
    from aelab.nets import mlp

    model = Autoencoder((1, 8, 8), 4, network=functools.partial(mlp, hidden=(16,)))
    keys = list(model.state_dict())
    model.compile_networks()
    assert list(model.state_dict()) == keys
    assert model.encoder._compiled_call_impl is not None


def test_check_finite_names_the_split_and_the_metric():
    """The divergence guard's sentence names the first non-finite value, train or val."""
    from aelab.errors import DivergedError

    model = Autoencoder((1, 8, 8), 4, network=functools.partial(aelab.nets.mlp, hidden=(16,)))
    model.check_finite({"loss": torch.tensor(1.0), "recon_sse": 2.0}, "val")  # finite: silent
    values = {"loss": torch.tensor(1.0), "recon_sse": torch.tensor([0.5, float("inf")])}
    with pytest.raises(DivergedError, match=r"step 0: val/recon_sse is not finite"):
        model.check_finite(values, "val")
    with pytest.raises(DivergedError, match=r"train/loss is not finite"):
        model.check_finite({"loss": torch.tensor(float("nan"))})


def test_evaluation_noise_repeats_across_evaluations_and_leaves_the_training_stream():
    """Evaluation draws from its own seeded stream: two validations of a VAE give the same
    val/loss (the same z draws, each batch its own), and the global RNG state after a
    validation is what it was before."""
    model = _vae()
    x = _binary_images(96)
    batches = TensorBatches(x, torch.full((96,), -1), batch_size=32)
    trainer = pl.Trainer(
        logger=False, enable_progress_bar=False, enable_model_summary=False, accelerator="cpu"
    )
    torch.manual_seed(123)
    state = torch.get_rng_state()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        first = trainer.validate(model, batches, verbose=False)[0]["val/loss"]
        assert torch.equal(torch.get_rng_state(), state)
        torch.manual_seed(7)  # another training stream: the evaluation draws do not move
        second = trainer.validate(model, batches, verbose=False)[0]["val/loss"]
    assert first == second
    # and the draws differ from batch to batch (one fixed seed per batch would repeat them)
    model._fork_eval_rng()
    mu, logvar = model.posterior(x[:32])
    z1 = reparameterize(mu, logvar)
    z2 = reparameterize(mu, logvar)
    model._restore_train_rng()
    assert not torch.equal(z1, z2)
