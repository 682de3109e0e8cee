"""How far the aggregated posterior q(z) is from the prior p(z): the common yardstick of every
family, measured on codes of the validation and test splits against fresh prior draws, by
the same code for every family (config group ``divergences``; a model without a prior, the
DAE, is measured against N(0, I)). Codes are draws z ~ q(z|x), one per example.

- ``mmd_prior``: unbiased MMD^2 (IMQ kernel, C = 2 d sigma_z^2 summed over the WAE scales)
  between the codes and as many prior draws (Gretton et al. 2012; Tolstikhin et al. 2018);
- ``swd_prior``: sliced Wasserstein-2 distance over 128 random directions;
- for mixture priors (which expose ``means`` and ``std``): ``mode_coverage``, the fraction of
  modes that receive at least a quarter of their fair share (1 / k) of the codes, and
  ``near_mode_share``, the share of codes near some mode (Srivastava et al. 2017 use the same
  two numbers for GAN samples, with a ball of 3 std in 2-D). Low coverage is mode collapse.
  "Near" is within the radius that holds 99% of a mode's own draws in d dimensions, std times
  the 0.99 quantile of the chi distribution with d degrees of freedom (3.03 std in 2-D, 4.4 in
  8-D, 5.6 in 16-D): a fixed 3 std would hold 99% of a mode's draws in 2-D but 9% in 16-D,
  and read a perfect match as collapse.

The ``divergences`` section adds estimators from samples alone:

- ``kl_qp_knn`` / ``kl_pq_knn``: k-NN estimates of KL(q || p) and KL(p || q) with standard
  errors ``*_se`` (:mod:`aelab.divergences.knn`; biased at small n and high dimension);
- ``c2st_accuracy``, ``c2st_p_value``, ``jsd_c2st``: a classifier two-sample test trained
  afresh, and the JSD lower bound (nats) its held-out cross-entropy implies
  (:mod:`aelab.divergences.classifier_test`), independent of any adversary the family trained;
- ``w1_prior``: W1 by exact optimal transport on subsamples (:mod:`aelab.divergences.transport`);
- ``active_units``, and for Gaussian encoders ``kl_posterior`` = ``mutual_info`` +
  ``kl_aggregate`` and the vector ``kl_per_dim`` (:mod:`aelab.metrics.collapse`).

Prior draws come from a fixed seed in a forked RNG, so the yardstick neither moves the
training's random stream nor adds noise between epochs.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor
from torchmetrics import Metric

from aelab.divergences.mmd import mmd2_unbiased
from aelab.divergences.sliced import sliced_wasserstein
from aelab.priors import Prior


class CodeSample(Metric):
    """Keeps the first ``max_codes`` codes z ~ q(z|x) each process sees, with the posterior's
    mean (and, for a Gaussian encoder, log-variance); ``compute`` gathers them all as
    ``(z, mu, logvar or None)``."""

    full_state_update = False

    def __init__(self, max_codes: int = 2000, gaussian: bool = False) -> None:
        super().__init__()
        self.max_codes, self.gaussian = max_codes, gaussian
        self.add_state("codes", default=[], dist_reduce_fx="cat")
        self.add_state("means", default=[], dist_reduce_fx="cat")
        if gaussian:
            self.add_state("logvars", default=[], dist_reduce_fx="cat")
        self.add_state("count", torch.tensor(0), dist_reduce_fx="sum")

    def update(self, z: Tensor, mu: Tensor | None = None, logvar: Tensor | None = None) -> None:
        room = self.max_codes - int(self.count)
        if room > 0:
            self.codes.append(z.detach()[:room])
            self.means.append((z if mu is None else mu).detach()[:room])
            if self.gaussian:
                self.logvars.append(logvar.detach()[:room])
            self.count += min(room, len(z))

    def compute(self) -> tuple[Tensor, Tensor, Tensor | None]:
        def cat(state: Tensor | list[Tensor]) -> Tensor:
            return torch.cat(state) if isinstance(state, list) else state

        logvar = cat(self.logvars) if self.gaussian else None
        return cat(self.codes), cat(self.means), logvar


def mode_radius(std: float, dim: int, mass: float = 0.99) -> float:
    """The radius of the ball around a mode N(m, std^2 I_dim) that holds ``mass`` of its draws:
    ||z - m|| / std follows the chi distribution with ``dim`` degrees of freedom."""
    from scipy.stats import chi

    return float(std * chi.ppf(mass, dim))


def mode_coverage(codes: Tensor, means: Tensor, std: float) -> dict[str, Tensor]:
    """``mode_coverage`` and ``near_mode_share`` of ``codes`` for modes N(mean, std^2 I)."""
    dist = torch.cdist(codes, means)
    nearest = dist.argmin(1)
    near = dist.min(1).values < mode_radius(std, codes.shape[1])
    k = len(means)
    counts = torch.bincount(nearest[near], minlength=k).float()
    covered = counts >= 0.25 * len(codes) / k
    return {"mode_coverage": covered.float().mean(), "near_mode_share": near.float().mean()}


def prior_distances(codes: Tensor, prior: Prior, seed: int = 0) -> dict[str, Tensor]:
    codes = codes.float()
    devices = [codes.device] if codes.device.type == "cuda" else []
    with torch.random.fork_rng(devices=devices):
        torch.manual_seed(seed)
        draws = prior.sample(len(codes)).to(codes)
        generator = torch.Generator().manual_seed(seed)
        swd = sliced_wasserstein(codes, draws, generator=generator)
    c = 2.0 * codes.shape[1] * prior.variance()
    out = {"mmd_prior": mmd2_unbiased(codes, draws, "imq", base_scale=c), "swd_prior": swd}
    if hasattr(prior, "means"):
        out.update(mode_coverage(codes, prior.means.to(codes), prior.std))
    return out


C2ST_MIN_POINTS = 20  # the classifier fits on 8, stops on 2 and is scored on 10 of each sample


class Yardstick:
    """The ``divergences`` config group: which estimators of q(z) against p(z) run, and their
    sizes. A size of 0 switches its estimator off; ``divergences=none`` switches all off.
    (A plain class, not a dataclass: Hydra would turn a dataclass argument of the model back
    into a config.)

    Args:
        n_codes: codes kept per split (and as many prior draws) for every estimator.
        knn_k: neighbours of the k-NN KL estimates (0: off).
        knn_folds: disjoint subsamples that give the k-NN estimates' standard errors.
        c2st_steps: full-batch Adam steps of the two-sample classifier (0: off).
        c2st_hidden: its hidden layer widths.
        ot_points: codes and prior draws of the exact-OT W1 (0: off; the solver is cubic).
        collapse: active units, KL per dimension and the I(x; z) decomposition.
        during_fit: run the estimators above at every validation epoch too (learning curves
            of them); otherwise only ``mmd_prior`` and ``swd_prior`` run during fitting and
            the rest on the scored checkpoint's validation and test (what summary.json holds).
        seed: the prior draws', subsamples' and classifier's seed.
    """

    def __init__(
        self,
        n_codes: int = 2000,
        knn_k: int = 5,
        knn_folds: int = 5,
        c2st_steps: int = 100,
        c2st_hidden: Sequence[int] = (64, 64),
        ot_points: int = 1000,
        collapse: bool = True,
        during_fit: bool = False,
        seed: int = 0,
    ) -> None:
        from aelab.errors import ConfigError

        sizes = dict(n_codes=n_codes, knn_k=knn_k, knn_folds=knn_folds, c2st_steps=c2st_steps)
        for name, value in {**sizes, "ot_points": ot_points}.items():
            least = 1 if name == "n_codes" else 0
            if not isinstance(value, int) or isinstance(value, bool) or value < least:
                raise ConfigError(
                    f"divergences.{name}={value} is not allowed: use an integer >= {least}"
                    + (" (0 switches the estimator off)." if least == 0 else ".")
                )
        self.n_codes, self.knn_k, self.knn_folds = n_codes, knn_k, knn_folds
        self.c2st_steps, self.c2st_hidden = c2st_steps, tuple(int(h) for h in c2st_hidden)
        self.ot_points, self.collapse, self.seed = ot_points, collapse, seed
        self.during_fit = during_fit

    def measure(
        self, z: Tensor, mu: Tensor, logvar: Tensor | None, prior: Prior, fitting: bool = False
    ) -> tuple[dict[str, Tensor], dict[str, list[float]]]:
        """Scalars and vectors (``kl_per_dim``) of the codes ``z`` (with their posteriors'
        ``mu``, ``logvar``) against ``prior``; ``fitting``: a validation inside ``fit``."""
        from aelab.divergences.classifier_test import classifier_two_sample_test
        from aelab.divergences.knn import knn_kl_with_se
        from aelab.divergences.transport import wasserstein1_exact
        from aelab.metrics.collapse import collapse_diagnostics

        z = z.float()
        out = prior_distances(z, prior, self.seed)
        vectors: dict[str, list[float]] = {}
        if fitting and not self.during_fit:
            return out, vectors
        devices = [z.device] if z.device.type == "cuda" else []
        with torch.random.fork_rng(devices=devices):
            torch.manual_seed(self.seed + 1)  # draws of their own, not those of mmd_prior
            draws = prior.sample(len(z)).to(z)
        if self.knn_k and len(z) > self.knn_k:  # estimators skip a split too small for them
            for name, (a, b) in {"kl_qp_knn": (z, draws), "kl_pq_knn": (draws, z)}.items():
                out[name], se = knn_kl_with_se(a, b, self.knn_k, self.knn_folds)
                if se is not None:  # too few codes per fold: no standard error, no key
                    out[f"{name}_se"] = se
        if self.c2st_steps and len(z) >= C2ST_MIN_POINTS:
            test = classifier_two_sample_test(
                z, draws, self.c2st_steps, self.c2st_hidden, seed=self.seed
            )
            out.update(
                c2st_accuracy=test["accuracy"],
                c2st_p_value=test["p_value"],
                jsd_c2st=test["jsd_lower_bound"],
            )
        if self.ot_points:
            out["w1_prior"] = wasserstein1_exact(z[: self.ot_points], draws[: self.ot_points])
        if self.collapse:
            scalars, vectors = collapse_diagnostics(z, mu.float(), logvar, prior)
            out.update(scalars)
        return {k: torch.as_tensor(v, dtype=torch.float32) for k, v in out.items()}, vectors
