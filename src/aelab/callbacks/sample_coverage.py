"""Mode coverage of generated samples (mode collapse in data space), on the 2-D mixture data
sets whose modes are known (``toy2d`` ``ring8`` and ``grid25``): decode prior draws and count
the data modes they reach, as Srivastava et al. (2017, VEEGAN) and Metz et al. (2017) count
them for GANs on the same rings and grids."""

from __future__ import annotations

import pytorch_lightning as pl
import torch

from aelab.metrics import mode_coverage


class SampleCoverage(pl.Callback):
    """Logs ``test/sample_mode_coverage`` and ``test/sample_near_mode_share`` (``n`` samples)."""

    def __init__(self, n: int = 2000, seed: int = 0) -> None:
        self.n, self.seed = n, seed

    @torch.no_grad()
    def on_test_epoch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        from aelab.data.toy2d import Toy2dDataModule, mixture_params

        dm, prior = trainer.datamodule, getattr(pl_module, "prior", None)
        if (
            not isinstance(dm, Toy2dDataModule)
            or dm.name not in ("ring8", "grid25")
            or prior is None
        ):
            return
        means, std = mixture_params(dm.name)
        devices = [pl_module.device] if pl_module.device.type == "cuda" else []
        with torch.random.fork_rng(devices=devices):
            torch.manual_seed(self.seed)
            samples = pl_module.decoder.likelihood.mean(pl_module.decode(prior.sample(self.n)))
        coverage = mode_coverage(samples.float(), means.to(samples), std)
        pl_module.log_dict({f"test/sample_{k}": v for k, v in coverage.items()}, sync_dist=True)
