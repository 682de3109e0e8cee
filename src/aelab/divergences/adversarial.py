"""Discriminators and critics on the latent, and the objectives that train them.

Convention: samples of the prior p(z) are "real", codes of the encoder q(z) are "fake".

JS discriminator (Goodfellow et al. 2014, Eq. 1; Makhzani et al. 2015, Eq. 2): D(z) =
sigmoid(logit). The discriminator maximises V(D) = E_p[log D(z)] + E_q[log(1 - D(z))];
at the optimum D* = p / (p + q), V(D*) = 2 JSD(p || q) - 2 log 2 (Goodfellow et al. 2014,
Thm. 1), so (V + 2 log 2) / 2 estimates JSD, in [0, log 2].

Wasserstein critic (Arjovsky et al. 2017, Eq. 3): f 1-Lipschitz maximises
E_p[f(z)] - E_q[f(z)], which estimates W1(p, q) by Kantorovich-Rubinstein duality. The
Lipschitz constraint: weight clipping to [-c, c] (Arjovsky et al. 2017, Alg. 1), the
gradient penalty lambda E[(||grad f(z_hat)||_2 - 1)^2] at z_hat = a z_p + (1 - a) z_q with
a ~ U[0, 1] per sample (Gulrajani et al. 2017, Eq. 3, Alg. 1), or spectral normalisation of
every layer (Miyato et al. 2018).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, autograd, nn

LOG2 = math.log(2.0)


def critic_mlp(
    latent_dim: int, hidden: Sequence[int], spectral_norm: bool = False
) -> nn.Sequential:
    """z -> hidden... -> one score; LeakyReLU(0.2), no batch norm (it breaks the gradient penalty)."""
    wrap = nn.utils.parametrizations.spectral_norm if spectral_norm else (lambda m: m)
    sizes = [latent_dim, *hidden, 1]
    layers: list[nn.Module] = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:], strict=True)):
        layers.append(wrap(nn.Linear(a, b)))
        if i < len(sizes) - 2:
            layers.append(nn.LeakyReLU(0.2))
    return nn.Sequential(*layers)


def discriminator_value(logit_real: Tensor, logit_fake: Tensor) -> Tensor:
    """V(D) = E_p[log D] + E_q[log(1 - D)], with log D = -softplus(-l), log(1 - D) = -softplus(l)."""
    return -F.softplus(-logit_real).mean() - F.softplus(logit_fake).mean()


def jsd_estimate(value: Tensor) -> Tensor:
    """JSD implied by the discriminator's value: (V + 2 log 2) / 2 (exact at the optimum D*)."""
    return (value + 2 * LOG2) / 2


def generator_loss_jsd(logit_fake: Tensor, non_saturating: bool = True) -> Tensor:
    """Encoder's loss against the discriminator: -E_q[log D] (non-saturating, Goodfellow 2014
    Sec. 3) or E_q[log(1 - D)] (saturating, the minimax objective itself)."""
    if non_saturating:
        return F.softplus(-logit_fake).mean()
    return -F.softplus(logit_fake).mean()


def interpolates(real: Tensor, fake: Tensor) -> Tensor:
    """a z_p + (1 - a) z_q with a ~ U[0, 1] drawn per sample (Gulrajani et al. 2017, Alg. 1)."""
    alpha = torch.rand(len(real), 1, device=real.device, dtype=real.dtype)
    return alpha * real + (1 - alpha) * fake


def gradient_penalty(critic: nn.Module, real: Tensor, fake: Tensor) -> Tensor:
    """E[(||grad_z f(z_hat)||_2 - 1)^2], one interpolation coefficient per sample (Gulrajani 2017)."""
    z_hat = interpolates(real, fake).requires_grad_(True)
    (grad,) = autograd.grad(critic(z_hat).sum(), z_hat, create_graph=True)
    return (grad.norm(2, dim=1) - 1).pow(2).mean()


@torch.no_grad()
def clip_weights(module: nn.Module, c: float) -> None:
    """Clamp every parameter to [-c, c] (Arjovsky et al. 2017, Alg. 1, line 7)."""
    for p in module.parameters():
        p.clamp_(-c, c)
