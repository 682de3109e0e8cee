"""ReconstructionError: sums over a split, divided by images and by pixels."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from aelab.metrics import ReconstructionError


def _batches():
    torch.manual_seed(0)
    x1, x2 = torch.rand(3, 1, 4, 4), torch.rand(5, 1, 4, 4)
    h1, h2 = torch.rand(3, 1, 4, 4), torch.rand(5, 1, 4, 4)
    return (h1, x1), (h2, x2)


def test_recon_sse_and_mse_by_hand():
    metric = ReconstructionError()
    batches = _batches()
    for x_hat, x in batches:
        metric.update(x_hat, x)
    out = metric.compute()
    per_image = []
    for x_hat, x in batches:
        for i in range(len(x)):
            per_image.append(
                sum(
                    (a - b) ** 2
                    for a, b in zip(
                        x_hat[i].flatten().tolist(), x[i].flatten().tolist(), strict=True
                    )
                )
            )
    sse = sum(per_image) / len(per_image)  # mean over all 8 images, not mean of batch means
    assert len(per_image) == 8
    assert out["recon_sse"].item() == pytest.approx(sse, rel=1e-5)
    assert out["recon_mse"].item() == pytest.approx(sse / 16, rel=1e-5)
    assert out["recon_sse"].dtype == torch.float32
    # the mean of the two batch means would be a different number: make sure the test can tell
    batch_means = [(h - x).pow(2).flatten(1).sum(1).mean().item() for h, x in batches]
    assert abs(sum(batch_means) / 2 - sse) > 1e-3


def test_recon_bce_matches_torch():
    metric = ReconstructionError()
    batches = _batches()
    for x_hat, x in batches:
        metric.update(x_hat, x)
    x_hat = torch.cat([b[0] for b in batches])
    x = torch.cat([b[1] for b in batches])
    expected = F.binary_cross_entropy(x_hat, x, reduction="sum") / 8
    assert metric.compute()["recon_bce"].item() == pytest.approx(expected.item(), rel=1e-5)


def test_recon_bce_clamps_out_of_range_reconstructions():
    metric = ReconstructionError()
    x = torch.tensor([[0.0, 1.0, 0.5]])
    metric.update(torch.tensor([[-0.5, 1.5, 0.5]]), x)  # clamped to [0, 1]: 0, 1, 0.5
    out = metric.compute()
    assert torch.isfinite(out["recon_bce"])
    expected = F.binary_cross_entropy(torch.tensor([[0.0, 1.0, 0.5]]), x, reduction="sum")
    assert out["recon_bce"].item() == pytest.approx(expected.item(), rel=1e-5)
    assert out["recon_sse"].item() == pytest.approx(0.5, rel=1e-6)  # sse uses the raw values


def test_without_bce():
    metric = ReconstructionError(with_bce=False)
    x = torch.randn(4, 2)  # not in [0, 1]: BCE would be meaningless
    metric.update(x + 1, x)
    out = metric.compute()
    assert set(out) == {"recon_sse", "recon_mse"}
    assert out["recon_sse"].item() == pytest.approx(2.0)
    assert out["recon_mse"].item() == pytest.approx(1.0)


def test_reset_starts_a_new_split():
    metric = ReconstructionError()
    metric.update(torch.ones(2, 3), torch.zeros(2, 3))
    metric.reset()
    metric.update(torch.full((1, 3), 0.5), torch.zeros(1, 3))
    assert metric.compute()["recon_sse"].item() == pytest.approx(0.75)


def test_update_does_not_track_gradients():
    metric = ReconstructionError()
    x_hat = torch.rand(2, 3, requires_grad=True)
    metric.update(x_hat, torch.rand(2, 3))
    assert not metric.sse.requires_grad


@pytest.mark.parametrize("dim", [2, 8, 16])
def test_a_mixture_priors_own_draws_cover_every_mode_in_any_dimension(dim):
    """The mode ball holds 99% of a mode's draws in every dimension (a chi quantile, not a fixed
    3 std, which holds 9% in 16-d), so a perfect match reads as full coverage."""
    from aelab.metrics.latent import mode_coverage, mode_radius
    from aelab.priors import GaussianMixture

    torch.manual_seed(0)
    prior = GaussianMixture(dim, k=10, layout="random", radius=4.0, std=0.5)
    out = mode_coverage(prior.sample(5000), prior.means, prior.std)
    assert float(out["mode_coverage"]) == 1.0
    assert float(out["near_mode_share"]) == pytest.approx(0.99, abs=0.01)
    assert mode_radius(1.0, 2) == pytest.approx(3.035, abs=1e-3)  # about the old 3 std in 2-D
    # codes collapsed onto three modes: coverage 0.3
    collapsed = prior.means[:3].repeat_interleave(100, 0) + 0.1 * torch.randn(300, dim)
    assert float(
        mode_coverage(collapsed, prior.means, prior.std)["mode_coverage"]
    ) == pytest.approx(0.3)


def test_figure_rows_are_labelled_in_a_left_margin() -> None:
    from aelab.callbacks.images import image_grid, label_rows

    grid = image_grid(torch.zeros(32, 1, 8, 8), 16)  # two rows of black digits
    labelled = label_rows(grid, ["data", "recon"], width=40)
    assert labelled.shape[:2] == grid.shape[:2] and labelled.shape[2] == grid.shape[2] + 40
    margin = labelled[:, :, :40]
    assert margin.min() < 0.5 and margin.mean() > 0.8  # dark text on white
    assert torch.equal(labelled[:, :, 40:], grid)  # the images themselves untouched
    top, bottom = margin[:, : grid.shape[1] // 2], margin[:, grid.shape[1] // 2 :]
    assert top.min() < 0.5 and bottom.min() < 0.5  # one label per row
