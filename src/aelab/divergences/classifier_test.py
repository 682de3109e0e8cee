"""The classifier two-sample test (Lopez-Paz & Oquab 2017): a new classifier, trained after
training on one half of two samples and scored on the other half, tells them apart better
than chance only if their distributions differ.

- ``accuracy``: held-out accuracy (balanced classes, so chance is 1/2);
- ``p_value``: P(Binomial(n_test, 1/2) >= correct), exact, one-sided (the paper uses the
  normal approximation N(1/2, 1/(4 n_test)) of the same null);
- ``jsd_lower_bound``: log 2 - (mean held-out binary cross-entropy, nats). For any classifier
  D, (E_P log D + E_Q log(1 - D)) / 2 <= JSD(P, Q) - log 2 (Goodfellow et al. 2014, Thm. 1), with
  JSD(P, Q) = (KL(P || M) + KL(Q || M)) / 2, M = (P + Q) / 2, in [0, log 2]. Held out, the bound
  holds for the classifier as trained; it is not clipped at 0, so it reads slightly negative
  when the samples agree (and a mean over seeds stays unbiased).

The classifier is a small MLP fitted full-batch with Adam on 4/5 of the training half, keeping
the weights of the step (checked every 5) with the lowest cross-entropy on the other 1/5:
without that early stop an over-confident classifier's held-out cross-entropy exceeds log 2
and the bound says nothing. It runs from a fixed seed on a forked random stream: a run
repeats, and the training's random stream is not moved.
"""

from __future__ import annotations

import copy
import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from aelab.divergences.adversarial import critic_mlp


def binomial_tail(k: int, n: int) -> Tensor:
    """P(Binomial(n, 1/2) >= k), exactly: the log-sum of the terms C(n, i) / 2^n, i >= k."""
    i = torch.arange(k, n + 1, dtype=torch.float64)
    log_terms = (
        math.lgamma(n + 1) - torch.lgamma(i + 1) - torch.lgamma(n - i + 1) - n * math.log(2.0)
    )
    return log_terms.logsumexp(0).exp().clamp_max(1.0) if k <= n else torch.tensor(0.0)


def _balanced(p: Tensor, q: Tensor) -> tuple[Tensor, Tensor]:
    """Points of ``p`` (label 1) and ``q`` (label 0), and their labels."""
    labels = torch.cat([torch.ones(len(p)), torch.zeros(len(q))]).to(p)
    return torch.cat([p, q]), labels


def classifier_two_sample_test(
    p: Tensor,
    q: Tensor,
    steps: int = 100,
    hidden: tuple[int, ...] = (64, 64),
    lr: float = 1e-2,
    seed: int = 0,
) -> dict[str, Tensor]:
    """``accuracy``, ``p_value`` and ``jsd_lower_bound`` (nats) of a fresh classifier between
    samples ``p`` and ``q`` (n x d each; the smaller size is used for both, so classes balance)."""
    n = min(len(p), len(q))
    half = n // 2
    devices = [p.device] if p.device.type == "cuda" else []
    with torch.random.fork_rng(devices=devices), torch.inference_mode(False), torch.enable_grad():
        torch.manual_seed(seed)
        # clones: codes gathered under inference mode cannot enter autograd as they are
        p, q = p[:n].detach().float().clone(), q[:n].detach().float().clone()
        order_p, order_q = torch.randperm(n, device=p.device), torch.randperm(n, device=p.device)
        p, q = p[order_p], q[order_q]
        # standardise by the training half, so one learning rate fits any code scale
        mean = torch.cat([p[:half], q[:half]]).mean(0)
        std = torch.cat([p[:half], q[:half]]).std(0).clamp_min(1e-6)
        p, q = (p - mean) / std, (q - mean) / std
        fit, stop = (half * 4) // 5, half  # the training half: 4/5 fit, 1/5 picks the step
        x_fit, y_fit = _balanced(p[:fit], q[:fit])
        x_stop, y_stop = _balanced(p[fit:stop], q[fit:stop])
        x_test, y_test = _balanced(p[half:], q[half:])
        net: nn.Module = critic_mlp(p.shape[1], hidden).to(p.device)
        optimizer = torch.optim.Adam(net.parameters(), lr=lr)
        best, best_state = float("inf"), copy.deepcopy(net.state_dict())
        for step in range(steps):
            optimizer.zero_grad(set_to_none=True)
            F.binary_cross_entropy_with_logits(net(x_fit).squeeze(1), y_fit).backward()
            optimizer.step()
            if step % 5 == 4 or step == steps - 1:  # early stopping: a calibrated classifier
                with torch.no_grad():
                    held = float(F.binary_cross_entropy_with_logits(net(x_stop).squeeze(1), y_stop))
                if held < best:
                    best, best_state = held, copy.deepcopy(net.state_dict())
        net.load_state_dict(best_state)
        with torch.no_grad():
            logits = net(x_test).squeeze(1)
            bce = F.binary_cross_entropy_with_logits(logits, y_test)
            correct = int(((logits > 0).float() == y_test).sum())
    n_test = len(y_test)
    return {
        "accuracy": torch.tensor(correct / n_test),
        "p_value": binomial_tail(correct, n_test),
        "jsd_lower_bound": math.log(2.0) - bce.detach().cpu(),
    }
