"""The base every family builds on: encode / decode / reconstruction and latent metrics / optimizers.

A family subclasses :class:`AutoencoderModule` and adds only what is its own: usually
:meth:`step` (its loss on a batch), sometimes ``training_step`` itself (manual optimization,
closed-form fits). The base also owns the Gaussian encoder (``n_params=2``: mean and
log-variance, sampled by the reparameterization trick), which the VAE needs and the
adversarial families may use.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import pytorch_lightning as pl
import torch
from torch import Tensor, nn

from aelab.errors import AelabError, DivergedError
from aelab.metrics import CodeSample, ReconstructionError
from aelab.metrics.latent import Yardstick
from aelab.nets import Networks
from aelab.priors import Prior, StandardGaussian

STAGES = ("train", "val", "test")
DEFAULT_YARDSTICK = Yardstick()


def reparameterize(mu: Tensor, logvar: Tensor) -> Tensor:
    """z = mu + sigma * eps, eps ~ N(0, I): a sample of q(z|x) differentiable in mu and sigma
    (Kingma & Welling 2013, Sec. 2.4)."""
    return mu + torch.exp(0.5 * logvar) * torch.randn_like(mu)


def draw_code(mu: Tensor, logvar: Tensor | None) -> Tensor:
    """z ~ q(z|x) from the posterior's parameters: the code itself for a deterministic encoder."""
    return mu if logvar is None else reparameterize(mu, logvar)


def _rng_states() -> dict[str, Any]:
    import random

    import numpy as np

    # plain tensors and numbers only: Lightning loads checkpoints with torch.load(weights_only)
    name, keys, pos, has_gauss, cached = np.random.get_state()
    numpy_state = (name, torch.from_numpy(keys.astype(np.int64)), pos, has_gauss, cached)
    states = {"torch": torch.get_rng_state(), "numpy": numpy_state, "python": random.getstate()}
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        states["cuda"] = torch.cuda.get_rng_state_all()
    return states


def _set_rng_states(states: dict[str, Any]) -> None:
    import random

    import numpy as np

    torch.set_rng_state(states["torch"])
    name, keys, pos, has_gauss, cached = states["numpy"]
    np.random.set_state((name, keys.numpy().astype(np.uint32), pos, has_gauss, cached))
    random.setstate(states["python"])
    if "cuda" in states and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(states["cuda"])


class SuiteModule(pl.LightningModule):
    """What every model of the suite has: optimizers built from the ``optimizer`` and
    ``scheduler`` groups' partials, and the run's composed config carried in its checkpoints."""

    optimizer_factory: Callable[..., torch.optim.Optimizer] | None = None
    scheduler_factory: Callable[..., Any] | None = None
    run_config: dict | None = None  # the composed Hydra config, set by aelab-train

    def configure_optimizers(self) -> Any:
        optimizer = self.optimizer_factory(self.parameters())
        if self.scheduler_factory is None:
            return optimizer
        scheduler = {"scheduler": self.scheduler_factory(optimizer), "monitor": "val/loss"}
        return {"optimizer": optimizer, "lr_scheduler": scheduler}

    def on_save_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        checkpoint["aelab_config"] = self.run_config
        checkpoint["aelab_rng"] = _rng_states()

    def on_load_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        # applied when training resumes, not now: a sanity check would draw from them first
        self.__dict__["_resume_rng"] = checkpoint.get("aelab_rng")

    def on_fit_start(self) -> None:
        self._offset_noise_by_rank()

    def on_train_epoch_start(self) -> None:
        """A resumed run continues the random streams where the checkpoint left them, so its
        noise draws (reparameterization, prior samples, critic batches) are those of a run
        that was never stopped."""
        states = self.__dict__.pop("_resume_rng", None)
        if states is not None:
            _set_rng_states(states)
            self._offset_noise_by_rank()

    def _offset_noise_by_rank(self) -> None:
        """Under DDP every process starts from the same seed, which gives identical initial
        weights (as DDP wants) but would repeat every noise draw (reparameterization, prior
        draws, corruption, binarization) on every rank. Once the weights exist, each rank
        moves to a stream of its own: a draw shared by all ranks plus the rank."""
        if self._trainer is None or self.trainer.world_size == 1:
            return
        import random

        import numpy as np

        seed = int(torch.randint(2**31 - self.trainer.world_size, ())) + self.global_rank
        torch.manual_seed(seed)
        np.random.seed(seed)
        random.seed(seed)

    # --- evaluation noise: the same draws at every evaluation, the training stream untouched -
    EVAL_SEED = 0

    def _fork_eval_rng(self) -> None:
        """Evaluation runs on its own random stream, seeded alike at every evaluation (per rank):
        val/loss then compares epochs rather than noise draws (a VAE's z, a DAE's corruption,
        prior draws), every batch still gets its own noise, and validating does not move the
        training's stream."""
        cuda = self.device.type == "cuda"
        saved = (torch.get_rng_state(), torch.cuda.get_rng_state(self.device) if cuda else None)
        self.__dict__["_train_rng"] = saved
        torch.manual_seed(self.EVAL_SEED + self.global_rank)

    def _restore_train_rng(self) -> None:
        saved = self.__dict__.pop("_train_rng", None)
        if saved is not None:
            torch.set_rng_state(saved[0])
            if saved[1] is not None:
                torch.cuda.set_rng_state(saved[1], self.device)

    def on_test_epoch_start(self) -> None:
        self._fork_eval_rng()

    # --- divergence: stop before a NaN reaches a metric or a checkpoint ----------------------
    def check_finite(self, values: dict[str, Tensor], stage: str = "train") -> None:
        """Raise :class:`DivergedError` naming the first of ``values`` that is NaN or infinite.
        Called on logging steps (a check costs a host sync), on the epoch metrics of training
        and validation, and on the weights before every validation, so the epoch-end
        checkpoint never holds diverged weights."""
        for name, value in values.items():
            if not torch.isfinite(torch.as_tensor(value)).all():
                raise DivergedError(self.global_step, f"{stage}/{name}")

    def on_validation_epoch_start(self) -> None:
        self._fork_eval_rng()
        if self.trainer.sanity_checking:
            return
        for name, p in self.named_parameters():
            if not torch.isfinite(p).all():
                raise DivergedError(self.global_step, f"the weight {name}")

    # --- evaluation scalars: means over every example of the split, under DDP too ----------
    def _evaluate(self, batch: tuple[Tensor, Tensor], stage: str) -> None:
        raise NotImplementedError

    def validation_step(self, batch: tuple[Tensor, Tensor], batch_idx: int) -> None:
        self._evaluate(batch, "val")

    def test_step(self, batch: tuple[Tensor, Tensor], batch_idx: int) -> None:
        self._evaluate(batch, "test")

    def accumulate(self, stage: str, values: dict[str, Tensor], n: int) -> None:
        """Add a batch's means of ``values`` (``n`` examples) to the split's running means.

        Lightning's ``sync_dist`` averages the processes' means, which is wrong when their
        evaluation shards differ in size (they are not padded: no example counts twice); a
        torchmetrics mean weighted by batch size and synchronised at compute is exact.
        """
        from torchmetrics import MeanMetric

        means = self.__dict__.setdefault("_split_means", {}).setdefault(stage, {})
        for key, value in values.items():
            if key not in means:
                # no NaN check per update (a host sync): a NaN reaches the epoch value, where
                # the divergence guard reports it
                means[key] = MeanMetric(nan_strategy="disable").to(value.device)
            means[key].update(value.detach().float(), weight=n)

    def epoch_values(self, stage: str) -> dict[str, Tensor]:
        """The split's values at the end of an epoch (computed, so synchronised, once)."""
        means = self.__dict__.get("_split_means", {}).pop(stage, {})
        return {key: mean.compute() for key, mean in means.items()}

    def _log_epoch_metrics(self, stage: str) -> None:
        values = self.epoch_values(stage)
        if stage != "test" and not self.trainer.sanity_checking:
            self.check_finite(values, stage)
        # compute() has already reduced across processes; sync_dist only silences a warning
        self.log_dict({f"{stage}/{k}": v for k, v in values.items()}, sync_dist=True)

    def on_validation_epoch_end(self) -> None:
        self._log_epoch_metrics("val")
        self._restore_train_rng()

    def on_test_epoch_end(self) -> None:
        self._log_epoch_metrics("test")
        self._restore_train_rng()


class AutoencoderModule(SuiteModule):
    """Shared LightningModule of every family.

    Args:
        data_shape: shape of one example, e.g. ``(1, 28, 28)``.
        latent_dim: size of the code z.
        network: builder ``(data_shape, latent_dim, n_params) -> Networks`` (``network`` group).
        optimizer: partial ``params -> torch.optim.Optimizer`` (``optimizer`` group).
        scheduler: optional partial ``optimizer -> LRScheduler`` (``scheduler`` group).
        prior: the latent prior p(z) (``prior`` group).
        prior_loss: how q(z) is pulled toward p(z) (``prior_loss`` group); ``None``: not at all.
        n_params: encoder outputs per latent dimension: 1 deterministic, 2 Gaussian (mu, logvar).
        divergences: the estimators of q(z) against p(z) on val/test codes (``divergences``
            group, :class:`~aelab.metrics.latent.Yardstick`); ``None``: none.
    """

    #: ``prior_loss`` names (the loss classes' ``name``) this family accepts; "none": no loss.
    prior_losses: tuple[str, ...] = ("none",)
    #: whether the family needs a latent prior, and whether that prior needs a density on all
    #: of R^d (the VAE's KL and IWAE bound); checked before anything is built (aelab.config)
    needs_prior: bool = False
    needs_prior_density: bool = False
    #: whether the training data are binary, set from the data module in :meth:`setup`: a
    #: Bernoulli decoder is a likelihood of binary data only (aelab.nets.likelihood)
    data_is_binary: bool = False

    def __init__(
        self,
        data_shape: Sequence[int],
        latent_dim: int,
        network: Callable[..., Networks] | None = None,
        optimizer: Callable[..., torch.optim.Optimizer] | None = None,
        scheduler: Callable[..., Any] | None = None,
        prior: Prior | None = None,
        prior_loss: nn.Module | None = None,
        n_params: int = 1,
        divergences: Yardstick | None = DEFAULT_YARDSTICK,
    ) -> None:
        super().__init__()
        self.data_shape, self.latent_dim, self.n_params = tuple(data_shape), latent_dim, n_params
        self.optimizer_factory, self.scheduler_factory = optimizer, scheduler
        self.prior, self.prior_loss = prior, prior_loss
        if network is not None:
            self.encoder, self.decoder = network(
                data_shape=self.data_shape, latent_dim=latent_dim, n_params=n_params
            )
        is_image = len(self.data_shape) == 3
        # keyed "<stage>_...": a ModuleDict key "train" would clash with nn.Module.train
        self.recon = nn.ModuleDict(
            {f"{s}_error": ReconstructionError(with_bce=is_image) for s in STAGES}
        )
        self.divergences = divergences
        max_codes = divergences.n_codes if divergences else 0
        self.codes = nn.ModuleDict(
            {f"{s}_codes": CodeSample(max_codes, n_params == 2) for s in ("val", "test")}
        )
        #: per-dimension diagnostics of the last val/test epoch (``kl_per_dim``), which
        #: loggers cannot take as scalars: aelab-train writes them into summary.json
        self.latent_vectors: dict[str, list[float]] = {}

    def compile_networks(self) -> None:
        """``torch.compile`` the encoder and decoder in place (``aelab-train compile=true``):
        their state-dict keys stay as they are, so checkpoints load either way."""
        for name in ("encoder", "decoder"):
            if hasattr(self, name):  # PCA has none
                getattr(self, name).compile()

    def setup(self, stage: str) -> None:
        dm = self.trainer.datamodule if self._trainer is not None else None
        if hasattr(dm, "is_binary"):
            self.data_is_binary = bool(dm.is_binary)

    # --- likelihood names: nats only where the decoder is a density of the data ------------
    @property
    def likelihood_is_density(self) -> bool:
        """Whether the decoder's NLL is a true -log p(x | z) of this data (a Bernoulli
        decoder on grey levels is a cross-entropy, not a likelihood)."""
        return self.decoder.likelihood.is_density(self.data_is_binary)

    @property
    def recon_key(self) -> str:
        """``recon_nll`` (nats) where the decoder is a density of the data, else ``recon_xent``."""
        return "recon_nll" if self.likelihood_is_density else "recon_xent"

    # --- the autoencoder -------------------------------------------------------------------
    def posterior(self, x: Tensor) -> tuple[Tensor, Tensor | None]:
        """``(mu, logvar)`` of q(z|x); ``logvar`` is ``None`` for a deterministic encoder."""
        h = self.encoder(x)
        if self.n_params == 1:
            return h, None
        mu, logvar = h.chunk(2, dim=-1)
        return mu, logvar

    def encode(self, x: Tensor) -> Tensor:
        """The code of ``x`` (a Gaussian encoder's mean): what reconstructions and probes use."""
        return self.posterior(x)[0]

    def sample_code(self, x: Tensor) -> Tensor:
        """A draw of z ~ q(z|x) (the code itself for a deterministic encoder)."""
        return draw_code(*self.posterior(x))

    def decode(self, z: Tensor) -> Tensor:
        """The decoder's raw output (logits for a Bernoulli likelihood)."""
        return self.decoder(z)

    def decode_mean(self, z: Tensor) -> Tensor:
        """The decoder's mean E[x | z], in data space."""
        return self.decoder.likelihood.mean(self.decode(z))

    def reconstruct(self, x: Tensor) -> Tensor:
        """The expected reconstruction E[x | z = encode(x)], in data space."""
        return self.decode_mean(self.encode(x))

    @property
    def can_generate(self) -> bool:
        return self.prior is not None and hasattr(self, "decoder")

    @torch.no_grad()
    def generate(self, n: int) -> Tensor:
        """``n`` samples in data space: the decoder's mean E[x | z] at prior draws z ~ p(z)."""
        if not self.can_generate:
            raise AelabError(
                "this model has no prior to sample from: train model=vae, aae, wae, dae, or ae with a prior."
            )
        return self.decode_mean(self.prior.sample(n).to(self.device))

    def step(self, x: Tensor) -> tuple[Tensor, dict[str, Tensor], Tensor]:
        """The family's objective on a batch: ``(loss, other scalars to log, decoder output)``."""
        raise NotImplementedError

    # --- Lightning hooks -------------------------------------------------------------------
    def training_step(self, batch: tuple[Tensor, Tensor], batch_idx: int) -> Tensor:
        x, _ = batch
        loss, logs, out = self.step(x)
        if self.logging_step():
            self.check_finite({"loss": loss, **logs})
            self.recon["train_error"].update(self.decoder.likelihood.mean(out.detach()), x)
            self.log_train({"loss": loss, **logs})
        return loss

    def logging_step(self) -> bool:
        """Training scalars and ``train/recon_*`` are measured on the steps the loggers write
        (every ``trainer.log_every_n_steps``-th batch): each ``self.log`` call and metric update
        costs bookkeeping that a fast step notices (bench/README.md). Batches are counted, not
        optimizer steps: a manually optimized family takes several optimizer steps per batch,
        and Lightning's loggers count batches too."""
        batches = self.trainer.fit_loop.epoch_loop._batches_that_stepped
        return (batches + 1) % self.trainer.log_every_n_steps == 0

    def log_train(self, values: dict[str, Tensor]) -> None:
        self.log("train/loss", values["loss"], prog_bar=True)
        self.log_dict({f"train/{k}": v for k, v in values.items() if k != "loss"})

    def _evaluate(self, batch: tuple[Tensor, Tensor], stage: str) -> None:
        x, _ = batch
        loss, logs, _ = self.step(x)
        self.recon[f"{stage}_error"].update(self.reconstruct(x), x)
        if self.divergences:
            mu, logvar = self.posterior(x)
            self.codes[f"{stage}_codes"].update(draw_code(mu, logvar), mu, logvar)  # z ~ q(z)
        self.accumulate(stage, {"loss": loss, **logs}, len(x))

    def on_train_epoch_end(self) -> None:
        self._log_epoch_metrics("train")

    def epoch_values(self, stage: str) -> dict[str, Tensor]:
        """The family's scalars, the reconstruction error over the split and, on val/test, the
        distance of q(z) to p(z)."""
        values = super().epoch_values(stage)
        recon = self.recon[f"{stage}_error"]
        if recon.update_called:  # a closed-form family does not train by batches
            values.update(recon.compute())
            recon.reset()
        codes = self.codes[f"{stage}_codes"] if stage != "train" else None
        if codes is not None and codes.update_called:
            fitting = self._trainer is not None and self.trainer.state.fn == "fit"
            scalars, vectors = self.divergences.measure(
                *codes.compute(), self.reference_prior, fitting=fitting
            )
            values.update(scalars)
            self.latent_vectors.update({f"{stage}/{k}": v for k, v in vectors.items()})
            codes.reset()
        return values

    @property
    def reference_prior(self) -> Prior:
        """What the codes are measured against: the prior, or N(0, I) for a family without one
        (the DAE's bottleneck), so every family with codes gets the same yardstick."""
        return self.prior if self.prior is not None else StandardGaussian(self.latent_dim)
