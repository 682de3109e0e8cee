"""The evaluation metrics against closed forms: Parzen windows, FID/KID, probes and
clustering accuracy, class coverage, and the IWAE bound of a linear-Gaussian VAE."""

from __future__ import annotations

import functools
import math

import numpy as np
import pytest
import torch
from scipy import linalg

from aelab.metrics.fid import feature_distances
from aelab.metrics.parzen import (
    GOODFELLOW_GRID,
    parzen_log_density,
    parzen_log_likelihood,
    select_bandwidth,
)
from aelab.metrics.probes import clustering_accuracy, code_probes
from aelab.metrics.sample_classes import class_coverage, feature_diversity


def test_parzen_density_of_one_center_is_the_gaussian_density() -> None:
    x, c = torch.randn(5, 3), torch.randn(1, 3)
    expected = torch.distributions.Normal(c, 0.3).log_prob(x).sum(1)
    assert torch.allclose(parzen_log_density(x, c, 0.3), expected, atol=1e-4)


def test_parzen_estimate_approaches_the_true_log_density_as_samples_grow() -> None:
    """Samples and test points from N(0, I_2): the true mean log-density is -log(2 pi) - 1."""
    g = torch.Generator().manual_seed(0)
    test, val = torch.randn(2000, 2, generator=g), torch.randn(2000, 2, generator=g)
    truth = -math.log(2 * math.pi) - 1.0
    grid = torch.logspace(-1.5, 0, 16).tolist()
    errors = []
    for n in (30, 300, 3000, 10000):
        samples = torch.randn(n, 2, generator=g)
        errors.append(
            abs(parzen_log_likelihood(samples, test, val[:500], grid)["parzen_ll"] - truth)
        )
    assert errors[-1] < 0.03, errors
    assert errors[-1] < errors[1] < errors[0], errors


def test_the_chosen_bandwidth_is_the_grid_point_with_the_best_validation_score() -> None:
    g = torch.Generator().manual_seed(1)
    samples, val = torch.randn(500, 4, generator=g), torch.randn(300, 4, generator=g)
    sigma, scores = select_bandwidth(samples, val, GOODFELLOW_GRID)
    assert sigma == GOODFELLOW_GRID[int(np.argmax(scores))]
    assert scores == pytest.approx(
        [parzen_log_density(val, samples, s).mean().item() for s in GOODFELLOW_GRID]
    )
    assert len(GOODFELLOW_GRID) == 10 and GOODFELLOW_GRID[0] == pytest.approx(0.1)


def _scipy_fid(a: np.ndarray, b: np.ndarray) -> float:
    mu_a, mu_b = a.mean(0), b.mean(0)
    cov_a, cov_b = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    covmean = linalg.sqrtm(cov_a @ cov_b).real
    return float(((mu_a - mu_b) ** 2).sum() + np.trace(cov_a + cov_b - 2 * covmean))


def test_fid_is_zero_for_identical_features_and_matches_scipy() -> None:
    g = torch.Generator().manual_seed(0)
    real = torch.randn(600, 8, generator=g)
    same = feature_distances(real, real.clone(), kid_subset=200, kid_subsets=10)
    assert abs(same["fid"]) < 1e-4
    fake = 0.7 * torch.randn(500, 8, generator=g) + 0.3
    got = feature_distances(real, fake, kid_subset=200, kid_subsets=10)
    assert got["fid"] == pytest.approx(
        _scipy_fid(real.double().numpy(), fake.double().numpy()), rel=1e-4
    )
    assert got["kid"] > 10 * abs(same["kid"])  # KID: unbiased, about 0 for one distribution


def test_clustering_accuracy_is_one_for_any_relabelling_of_the_truth() -> None:
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 10, 500)
    for _ in range(5):
        perm = rng.permutation(10) + 100  # other names too
        assert clustering_accuracy(perm[labels], labels) == 1.0
    half = labels.copy()
    half[:250] = 0
    assert clustering_accuracy(half, labels) < 1.0
    # more clusters than classes: unmatched clusters count as errors
    split = np.where(labels == 0, 10 + rng.integers(0, 2, 500), labels)
    smaller = min((split == 10).sum(), (split == 11).sum())  # the larger one is matched to 0
    assert clustering_accuracy(split, labels) == pytest.approx(1 - smaller / 500, abs=1e-9)


def test_code_probes_on_separable_codes() -> None:
    g = torch.Generator().manual_seed(0)
    centers = 5 * torch.randn(4, 3, generator=g)
    y_train, y_test = torch.randint(4, (400,), generator=g), torch.randint(4, (200,), generator=g)
    x_train = centers[y_train] + 0.3 * torch.randn(400, 3, generator=g)
    x_test = centers[y_test] + 0.3 * torch.randn(200, 3, generator=g)
    probes = code_probes(x_train, y_train, x_test, y_test)
    assert probes == {"probe_linear_acc": 1.0, "probe_knn_acc": 1.0, "cluster_acc": 1.0}
    noise = code_probes(torch.randn(400, 3), y_train, torch.randn(200, 3), y_test)
    assert noise["probe_linear_acc"] < 0.45 and noise["probe_knn_acc"] < 0.45


def test_class_coverage_sees_mode_collapse() -> None:
    uniform = torch.eye(10).repeat(50, 1) * 10  # 50 confident samples of each class
    assert class_coverage(uniform, 10) == pytest.approx(
        {"sample_class_coverage": 1.0, "sample_class_entropy": 1.0, "sample_confidence": 1.0},
        abs=1e-3,
    )
    collapsed = class_coverage(torch.eye(10)[[3] * 500] * 10, 10)
    assert collapsed["sample_class_coverage"] == pytest.approx(0.1)
    assert collapsed["sample_class_entropy"] == 0.0
    real = torch.randn(500, 4)
    assert feature_diversity(real[250:], real[:250]) == pytest.approx(1.0, abs=0.1)
    assert feature_diversity(0.01 * real, real) < 0.05


def test_iwae_bound_of_a_linear_gaussian_vae_converges_to_the_exact_likelihood() -> None:
    """z ~ N(0, I_2), x | z ~ N(W z + b, s^2 I_4): log p(x) = log N(x; b, W W^T + s^2 I). The
    bound is below log p(x) in expectation for every k and tightens to it as k grows."""
    from aelab.models import VAE
    from aelab.nets import mlp
    from aelab.prior_losses import KL
    from aelab.priors import StandardGaussian

    torch.manual_seed(0)
    network = functools.partial(mlp, hidden=[], likelihood="gaussian", sigma=0.5)
    vae = VAE((4,), 2, network=network, prior=StandardGaussian(2), prior_loss=KL()).eval()
    dec, enc = vae.decoder.net[0], vae.encoder.net[0]
    w, b = dec.weight.detach(), dec.bias.detach()
    exact_dist = torch.distributions.MultivariateNormal(b, w @ w.T + 0.25 * torch.eye(4))
    # q(z|x): the exact posterior's mean M (x - b) and the diagonal of its covariance
    post_cov = torch.linalg.inv(torch.eye(2) + w.T @ w / 0.25)
    m = post_cov @ w.T / 0.25
    with torch.no_grad():
        enc.weight.copy_(torch.cat([m, torch.zeros(2, 4)]))
        enc.bias.copy_(torch.cat([-m @ b, post_cov.diagonal().log()]))
    x = exact_dist.sample((8,))
    exact = exact_dist.log_prob(x)
    gaps = []
    for k in (1, 10, 100, 2000):
        estimates = torch.stack([vae.iwae_log_likelihood(x, k) for _ in range(20)])
        assert (estimates.mean(0) <= exact + 3 * estimates.std(0) / math.sqrt(20) + 1e-4).all()
        gaps.append((exact - estimates.mean(0)).mean().item())
    assert gaps[0] > gaps[1] > gaps[2] > gaps[3] >= -0.01, gaps
    assert gaps[-1] < 0.05, gaps


def test_iwae_training_objective_is_the_k_sample_bound() -> None:
    from aelab.errors import ConfigError
    from aelab.models import VAE
    from aelab.nets import mlp
    from aelab.prior_losses import KL
    from aelab.priors import StandardGaussian

    # grey levels: a continuous Bernoulli decoder is their density, so the bounds are in nats
    network = functools.partial(mlp, hidden=[16], likelihood="continuous_bernoulli")
    make = functools.partial(VAE, (6,), 2, network=network, prior=StandardGaussian(2))
    vae = make(prior_loss=KL(), train_samples=5)
    x = torch.rand(7, 6)
    torch.manual_seed(0)
    loss, logs, out = vae.step(x)
    torch.manual_seed(0)
    mu, logvar = vae.posterior(x)
    log_w, _ = vae.log_weights(x, 5, mu, logvar)
    assert loss.item() == pytest.approx(-(torch.logsumexp(log_w, 0) - math.log(5)).mean().item())
    assert out.shape == (7, 6) and logs["iwae_bound"] >= logs["elbo"]  # L_k >= L_1 (Jensen)
    with pytest.raises(ConfigError, match="prior_loss=kl with prior_loss.weight=1"):
        make(prior_loss=KL(weight=4.0), train_samples=5)
