"""PCA fitted from accumulated moments agrees with scikit-learn's PCA."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from sklearn.decomposition import PCA as SkPCA

from aelab.models import PCA

N, D, K = 600, 8, 3


def _data() -> torch.Tensor:
    torch.manual_seed(0)
    scales = torch.tensor([5.0, 3.0, 2.0, 1.0, 0.5, 0.3, 0.2, 0.1])
    mix = torch.linalg.qr(torch.randn(D, D))[0]  # a random rotation: correlated coordinates
    return (torch.randn(N, D) * scales) @ mix.T + torch.linspace(-1, 2, D)


def _fit(x: torch.Tensor, batch_sizes=(100, 250, 250), data_shape=(D,)) -> PCA:
    model = PCA(data_shape, K)
    start = 0
    for b in batch_sizes:  # several updates, as training batches would arrive
        model.moments.update(x[start : start + b].view(-1, *data_shape))
        start += b
    assert start == len(x)
    model.fit_components()
    return model


def _projector(components: np.ndarray) -> np.ndarray:
    """D x D projection onto the span of the (orthonormal) columns."""
    return components @ components.T


def test_components_span_sklearn_subspace():
    x = _data()
    model = _fit(x)
    sk = SkPCA(n_components=K, svd_solver="full").fit(x.numpy().astype(np.float64))
    w = model.components.numpy().astype(np.float64)
    assert w.shape == (D, K)
    np.testing.assert_allclose(w.T @ w, np.eye(K), atol=1e-5)  # orthonormal columns
    np.testing.assert_allclose(_projector(w), _projector(sk.components_.T), atol=1e-4)
    # each direction itself matches up to sign (the spectrum has distinct eigenvalues)
    np.testing.assert_allclose(np.abs(np.sum(w * sk.components_.T, axis=0)), np.ones(K), atol=1e-4)
    np.testing.assert_allclose(model.mean.numpy(), sk.mean_, rtol=1e-5, atol=1e-5)


def test_explained_variance_is_population_variance():
    x = _data()
    model = _fit(x)
    sk = SkPCA(n_components=K, svd_solver="full").fit(x.numpy().astype(np.float64))
    expected = sk.explained_variance_ * (N - 1) / N  # sklearn divides by n - 1, MomentSums by n
    np.testing.assert_allclose(model.explained_variance.numpy(), expected, rtol=1e-5)
    assert list(model.explained_variance) == sorted(model.explained_variance, reverse=True)


def test_reconstruction_matches_sklearn():
    x = _data()
    model = _fit(x)
    xn = x.numpy().astype(np.float64)
    sk = SkPCA(n_components=K, svd_solver="full").fit(xn)
    sk_hat = sk.inverse_transform(sk.transform(xn))
    x_hat = model.reconstruct(x)
    np.testing.assert_allclose(x_hat.numpy(), sk_hat, atol=1e-4)
    sk_err = ((xn - sk_hat) ** 2).sum(1).mean()
    loss, logs, step_hat = model.step(x)
    assert logs == {}
    assert loss.item() == pytest.approx(sk_err, rel=1e-4)
    assert torch.equal(step_hat, x_hat)
    # codes are the sklearn scores up to each component's sign
    z = model.encode(x).numpy()
    np.testing.assert_allclose(np.abs(z), np.abs(sk.transform(xn)), atol=1e-3)


def test_image_shaped_data():
    x = _data()[:, :4]  # 600 x 4, seen as 1 x 2 x 2 images
    model = PCA((1, 2, 2), 2)
    model.moments.update(x.view(-1, 1, 2, 2))
    model.fit_components()
    x_img = x.view(-1, 1, 2, 2)
    assert model.reconstruct(x_img).shape == (N, 1, 2, 2)
    sk = SkPCA(n_components=2, svd_solver="full").fit(x.numpy().astype(np.float64))
    sk_hat = sk.inverse_transform(sk.transform(x.numpy().astype(np.float64)))
    np.testing.assert_allclose(model.reconstruct(x_img).reshape(N, 4).numpy(), sk_hat, atol=1e-4)


def test_encode_refits_when_stale():
    x = _data()
    model = PCA((D,), K)
    model.training_step((x, torch.zeros(N)), 0)  # what Lightning calls: accumulate only
    assert torch.equal(model.components, torch.zeros(D, K))
    model.encode(x[:2])  # stale components are refitted on first use
    ref = _fit(x)
    np.testing.assert_allclose(
        _projector(model.components.numpy()), _projector(ref.components.numpy()), atol=1e-5
    )


def test_full_rank_pca_reconstructs_exactly():
    x = _data()
    model = PCA((D,), D)
    model.moments.update(x)
    model.fit_components()
    assert torch.allclose(model.reconstruct(x), x, atol=1e-4)
