"""Latent priors beyond the standard Gaussian (mixtures, swiss roll, uniform box), and the
latent yardstick measured against them (``aelab.metrics.latent``)."""

from __future__ import annotations

import math

import pytest
import torch

from aelab.errors import ConfigError
from aelab.metrics import mode_coverage, prior_distances
from aelab.priors import GaussianMixture, Prior, StandardGaussian, SwissRoll, UniformBox


def _grid(lo: float, hi: float, h: float) -> tuple[torch.Tensor, float]:
    ticks = torch.arange(lo + h / 2, hi, h, dtype=torch.float64)  # cell midpoints
    return torch.cartesian_prod(ticks, ticks), h * h


# --- GaussianMixture -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("layout", "k", "radius", "std"),
    [
        ("circle", 10, 4.0, 0.5),
        ("circle", 3, 2.0, 1.0),
        ("grid", 9, 3.0, 0.4),
        ("random", 5, 2.0, 0.7),
    ],
)
def test_mixture_density_integrates_to_one(layout, k, radius, std):
    prior = GaussianMixture(2, k=k, layout=layout, radius=radius, std=std)
    reach = float(prior.means.abs().max()) + 8 * std
    z, cell = _grid(-reach, reach, 0.05)
    mass = float(prior.log_prob(z.float()).double().exp().sum()) * cell
    assert mass == pytest.approx(1.0, abs=1e-2)


def test_mixture_log_prob_matches_torch_distributions():
    torch.manual_seed(0)
    prior = GaussianMixture(3, k=6, layout="random", radius=3.0, std=0.8)
    ref = torch.distributions.MixtureSameFamily(
        torch.distributions.Categorical(torch.full((6,), 1 / 6)),
        torch.distributions.Independent(
            torch.distributions.Normal(prior.means, torch.full((6, 3), 0.8)), 1
        ),
    )
    z = torch.randn(50, 3) * 4
    lp = prior.log_prob(z)
    assert lp.shape == (50,)
    assert torch.allclose(lp, ref.log_prob(z), atol=1e-4)


def test_mixture_sample_shape_and_modes():
    torch.manual_seed(1)
    prior = GaussianMixture(2, k=10, radius=4.0, std=0.5)
    z = prior.sample(20000)
    assert z.shape == (20000, 2)
    assert z.dtype == torch.float32
    dist = torch.cdist(z, prior.means)
    nearest = dist.argmin(1)
    shares = torch.bincount(nearest, minlength=10).float() / len(z)
    assert torch.allclose(shares, torch.full((10,), 0.1), atol=0.01)  # equal weights
    # the offset from the nearest mean is N(0, std^2 I) (modes 2.47 apart: hardly ever mixed up)
    offset = z - prior.means[nearest]
    assert torch.allclose(offset.std(0), torch.full((2,), 0.5), rtol=0.03)
    assert torch.allclose(offset.mean(0), torch.zeros(2), atol=0.02)


@pytest.mark.parametrize(("k", "radius"), [(10, 4.0), (7, 2.5), (1, 1.0)])
def test_circle_means_lie_on_the_circle(k, radius):
    prior = GaussianMixture(2, k=k, layout="circle", radius=radius)
    assert prior.means.shape == (k, 2)
    assert torch.allclose(prior.means.norm(dim=1), torch.full((k,), radius), atol=1e-5)
    angles = torch.atan2(prior.means[:, 1], prior.means[:, 0]) % (2 * math.pi)
    expected = torch.arange(k) * (2 * math.pi / k)
    assert torch.allclose(angles, expected, atol=1e-5)


def test_grid_means_are_a_centred_square_grid():
    prior = GaussianMixture(2, k=9, layout="grid", radius=2.0)
    expected = {(a, b) for a in (-2.0, 0.0, 2.0) for b in (-2.0, 0.0, 2.0)}
    assert {tuple(m) for m in prior.means.tolist()} == expected
    prior = GaussianMixture(2, k=4, layout="grid", radius=3.0)
    assert {tuple(m) for m in prior.means.tolist()} == {
        (a, b) for a in (-1.5, 1.5) for b in (-1.5, 1.5)
    }


@pytest.mark.parametrize("k", [2, 3, 5, 8, 10, 15])
def test_grid_needs_a_square_k(k):
    with pytest.raises(ConfigError, match="square"):
        GaussianMixture(2, k=k, layout="grid")


@pytest.mark.parametrize("layout", ["circle", "grid"])
@pytest.mark.parametrize("dim", [1, 3, 8])
def test_two_dimensional_layouts_reject_other_dims(layout, dim):
    with pytest.raises(ConfigError, match="2-D"):
        GaussianMixture(dim, k=4, layout=layout)


def test_unknown_layout():
    with pytest.raises(ConfigError, match="layout"):
        GaussianMixture(2, layout="spiral")


def test_random_layout_any_dim_fixed_means():
    a = GaussianMixture(8, k=10, layout="random", radius=3.0)
    b = GaussianMixture(8, k=10, layout="random", radius=3.0)
    assert a.means.shape == (10, 8)
    assert torch.equal(a.means, b.means)  # drawn from a fixed seed, not the global RNG
    ref = 3.0 * torch.randn(10, 8, generator=torch.Generator().manual_seed(0))
    assert torch.allclose(a.means, ref)
    assert a.sample(5).shape == (5, 8)
    assert "means" in a.state_dict()


def test_mixture_variance_is_the_law_of_total_variance():
    prior = GaussianMixture(2, k=10, layout="circle", radius=4.0, std=0.5)
    # per dimension: std^2 + the mean's variance over the circle, radius^2 / 2
    assert prior.variance() == pytest.approx(0.25 + 8.0, rel=0.03)


def test_variance_does_not_move_the_global_rng():
    prior = GaussianMixture(2, k=4, layout="grid")
    torch.manual_seed(2)
    expected = torch.rand(3)
    torch.manual_seed(2)
    prior.variance()
    assert torch.equal(torch.rand(3), expected)


def test_mixture_log_prob_keeps_leading_dims():
    torch.manual_seed(3)
    prior = GaussianMixture(2, k=10)
    z = torch.randn(4, 6, 2) * 3
    expected = torch.stack([prior.log_prob(row) for row in z])  # 4 x 6
    lp = prior.log_prob(z)
    assert lp.shape == (4, 6)
    assert torch.allclose(lp, expected, atol=1e-5)


# --- SwissRoll ---------------------------------------------------------------------------------


def test_swiss_roll_has_no_density():
    prior = SwissRoll()
    with pytest.raises(NotImplementedError, match="SwissRoll"):
        prior.log_prob(torch.zeros(3, 2))


@pytest.mark.parametrize("dim", [1, 3, 10])
def test_swiss_roll_is_two_dimensional(dim):
    with pytest.raises(ConfigError, match="2-D"):
        SwissRoll(dim)


def test_swiss_roll_samples_lie_on_the_spiral():
    torch.manual_seed(4)
    z = SwissRoll(scale=2.0, noise=0.0).sample(5000)
    assert z.shape == (5000, 2)
    # z = scale * t (cos t, sin t) / (3 pi), t in [1.5 pi, 4.5 pi]: the radius gives t back
    t = z.norm(dim=1) / 2.0 * 3 * math.pi
    assert float(t.min()) >= 1.5 * math.pi - 1e-4
    assert float(t.max()) <= 4.5 * math.pi + 1e-4
    assert torch.allclose(
        z / 2.0, t[:, None] * torch.stack([t.cos(), t.sin()], 1) / (3 * math.pi), atol=1e-4
    )
    # t is uniform on its range
    assert float(t.mean()) == pytest.approx(3 * math.pi, rel=0.02)


def test_swiss_roll_noise():
    torch.manual_seed(5)
    z_clean = SwissRoll(noise=0.0).sample(2000)
    torch.manual_seed(5)
    z_noisy = SwissRoll(noise=0.05).sample(2000)
    # the same arm positions (t is drawn first), plus N(0, 0.05^2) noise
    assert torch.allclose((z_noisy - z_clean).std(), torch.tensor(0.05), rtol=0.05)


# --- UniformBox --------------------------------------------------------------------------------


@pytest.mark.parametrize(("dim", "low", "high"), [(1, -1.0, 1.0), (3, 0.0, 4.0), (5, -2.0, -0.5)])
def test_uniform_box_log_prob(dim, low, high):
    prior = UniformBox(dim, low, high)
    inside = torch.full((1, dim), (low + high) / 2)
    corner = torch.full((1, dim), high)  # the boundary belongs to the box
    outside = inside.clone()
    outside[0, -1] = high + 0.1
    below = inside.clone()
    below[0, 0] = low - 0.1
    lp = prior.log_prob(torch.cat([inside, corner, outside, below]))
    value = -dim * math.log(high - low)
    assert lp[:2].tolist() == pytest.approx([value, value])
    assert lp[2:].tolist() == [-math.inf, -math.inf]


def test_uniform_box_samples_fill_the_box():
    torch.manual_seed(6)
    prior = UniformBox(3, -2.0, 1.0)
    z = prior.sample(20000)
    assert z.shape == (20000, 3)
    assert float(z.min()) >= -2.0 and float(z.max()) <= 1.0
    assert torch.allclose(z.mean(0), torch.full((3,), -0.5), atol=0.03)
    assert torch.isfinite(prior.log_prob(z)).all()


@pytest.mark.parametrize(("low", "high"), [(1.0, 1.0), (2.0, -1.0)])
def test_uniform_box_needs_high_above_low(low, high):
    with pytest.raises(ConfigError, match="high"):
        UniformBox(2, low, high)


def test_uniform_box_log_prob_keeps_leading_dims():
    prior = UniformBox(2)
    z = torch.zeros(4, 6, 2)
    z[0, 0, 0] = 5.0
    lp = prior.log_prob(z)
    assert lp.shape == (4, 6)
    assert lp[0, 0] == -math.inf
    assert torch.allclose(lp.flatten()[1:], torch.full((23,), -2 * math.log(2.0)))


# --- variance ------------------------------------------------------------------------------


def test_variances():
    assert StandardGaussian(4, scale=3.0).variance() == 9.0
    assert UniformBox(2, -1.0, 1.0).variance() == pytest.approx(1 / 3, abs=0.02)
    assert UniformBox(2, 0.0, 6.0).variance() == pytest.approx(3.0, abs=0.1)  # (b - a)^2 / 12
    # the base class's estimate: per-dimension sample variance, from a fixed seed
    v = SwissRoll().variance()
    assert v == SwissRoll().variance()
    assert 0 < v < 1


def test_base_prior_is_abstract():
    prior = Prior(2)
    with pytest.raises(NotImplementedError):
        prior.sample(3)
    with pytest.raises(NotImplementedError):
        prior.log_prob(torch.zeros(1, 2))
    assert prior.device == torch.device("cpu")


# --- metrics.latent against the priors -------------------------------------------------------


def test_mode_coverage_seven_of_ten_modes():
    torch.manual_seed(7)
    prior = GaussianMixture(2, k=10, radius=4.0, std=0.5)
    idx = torch.randint(7, (2000,))  # modes 0..6 only
    codes = prior.means[idx] + 0.3 * prior.std * torch.randn(2000, 2)
    out = mode_coverage(codes, prior.means, prior.std)
    assert float(out["mode_coverage"]) == pytest.approx(0.7)
    assert float(out["near_mode_share"]) == 1.0


def test_near_mode_share_of_prior_draws():
    """A 2-D Gaussian offset exceeds 3 std with probability exp(-9/2) (modes far apart, so that
    no draw lands near another mode)."""
    torch.manual_seed(8)
    prior = GaussianMixture(2, k=10, radius=20.0, std=0.5)
    n = 40000
    out = mode_coverage(prior.sample(n), prior.means, prior.std)
    p = 1 - math.exp(-4.5)
    assert float(out["near_mode_share"]) == pytest.approx(p, abs=3 * math.sqrt(p * (1 - p) / n))
    assert float(out["mode_coverage"]) == 1.0


def test_mode_coverage_threshold_is_a_quarter_of_the_fair_share():
    means = torch.tensor([[0.0, 0.0], [10.0, 0.0], [0.0, 10.0], [10.0, 10.0]])
    # 16 codes, fair share 4, a quarter of it 1: mode 2 gets exactly 1, mode 3 none
    counts = [10, 5, 1, 0]
    codes = torch.cat([means[i].expand(c, 2) for i, c in enumerate(counts)])
    out = mode_coverage(codes, means, std=1.0)
    assert float(out["mode_coverage"]) == 0.75
    # codes far from every mode count toward the fair share but cover nothing
    far = torch.full((4, 2), 100.0)
    out = mode_coverage(torch.cat([codes, far]), means, std=1.0)
    assert float(out["near_mode_share"]) == pytest.approx(16 / 20)
    # 20 codes: a quarter of the fair share is 1.25, so mode 2's single code no longer covers it
    assert float(out["mode_coverage"]) == 0.5


@pytest.mark.parametrize(
    "prior", [StandardGaussian(2), StandardGaussian(5, 3.0), GaussianMixture(2, k=10)]
)
def test_prior_distances_small_for_prior_codes_larger_when_shifted(prior):
    torch.manual_seed(9)
    codes = prior.sample(2000)
    near = prior_distances(codes, prior)
    shift = torch.zeros(prior.dim)
    shift[0] = 2.0 * math.sqrt(prior.variance())
    far = prior_distances(codes + shift, prior)
    assert abs(float(near["mmd_prior"])) < 0.01
    assert float(far["mmd_prior"]) > 0.05
    assert float(far["swd_prior"]) > 3 * float(near["swd_prior"])
    has_modes = isinstance(prior, GaussianMixture)
    assert ("mode_coverage" in near) == has_modes
    assert ("near_mode_share" in near) == has_modes


def test_prior_distances_is_deterministic_and_leaves_the_rng_alone():
    torch.manual_seed(10)
    prior = GaussianMixture(2, k=10)
    codes = prior.sample(500) + 0.3
    torch.manual_seed(11)
    expected_next = torch.rand(3)
    torch.manual_seed(11)
    a = prior_distances(codes, prior)
    assert torch.equal(torch.rand(3), expected_next)
    b = prior_distances(codes, prior)
    assert set(a) == {"mmd_prior", "swd_prior", "mode_coverage", "near_mode_share"}
    assert all(torch.equal(a[k], b[k]) for k in a)
    c = prior_distances(codes, prior, seed=1)  # another seed: other prior draws
    assert not torch.equal(a["mmd_prior"], c["mmd_prior"])
