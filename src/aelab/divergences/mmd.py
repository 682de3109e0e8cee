"""Maximum mean discrepancy between two samples (Gretton et al. 2012), as WAE-MMD uses it.

The unbiased estimate of MMD^2 (Gretton et al. 2012, Lemma 6) drops the diagonal terms:

    MMD^2_u = 1/(n(n-1)) sum_{i!=j} k(x_i, x_j) + 1/(m(m-1)) sum_{i!=j} k(y_i, y_j)
              - 2/(nm) sum_{i,j} k(x_i, y_j)

It can be slightly negative when the two distributions agree. Kernels follow Tolstikhin et
al. (2018): the inverse multiquadratic k(x, y) = C / (C + ||x - y||^2) with
C = 2 * d_z * sigma_z^2 (sigma_z^2 the prior's variance), summed over the scales
C x {0.1, 0.2, 0.5, 1, 2, 5, 10} as in the paper's code; or the RBF exp(-||x - y||^2 / C).
"""

from __future__ import annotations

import torch
from torch import Tensor

SCALES = (0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0)


def kernel_of_squared_distance(sq: Tensor, kernel: str, c: float) -> Tensor:
    if kernel == "imq":
        return c / (c + sq)
    if kernel == "rbf":
        return torch.exp(-sq / c)
    raise ValueError(f"kernel {kernel!r}: use imq or rbf")


def kernel_matrix(a: Tensor, b: Tensor, kernel: str, c: float) -> Tensor:
    return kernel_of_squared_distance(torch.cdist(a, b).pow(2), kernel, c)


def mmd2_unbiased(
    x: Tensor, y: Tensor, kernel: str = "imq", base_scale: float | None = None, scales=SCALES
) -> Tensor:
    """Unbiased MMD^2 between samples ``x`` (n x d) and ``y`` (m x d), summed over kernel scales.

    ``base_scale`` defaults to C = 2 d (a unit-variance prior).
    """
    n, m = len(x), len(y)
    c0 = 2.0 * x.shape[1] if base_scale is None else base_scale
    # the squared distances once, the kernels at every scale from them (WAE-MMD's loss per step)
    sq_xx, sq_yy, sq_xy = (torch.cdist(a, b).pow(2) for a, b in ((x, x), (y, y), (x, y)))
    total = x.new_zeros(())
    for s in scales:
        c = c0 * s
        kxx, kyy, kxy = (kernel_of_squared_distance(sq, kernel, c) for sq in (sq_xx, sq_yy, sq_xy))
        total = total + (kxx.sum() - kxx.diagonal().sum()) / (n * (n - 1))
        total = total + (kyy.sum() - kyy.diagonal().sum()) / (m * (m - 1))
        total = total - 2 * kxy.mean()
    return total
