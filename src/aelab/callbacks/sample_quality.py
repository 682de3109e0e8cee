"""How close a model's samples are to the data: any data set by MMD against held-out data, and
on the 2-D mixtures whose modes are known (``toy2d`` ``ring8``, ``grid25``) by mode coverage
(mode collapse in data space, counted as Srivastava et al. 2017 and Metz et al. 2017 count it
for GANs on the same rings and grids)."""

from __future__ import annotations

import pytorch_lightning as pl
import torch

from aelab.divergences.mmd import mmd2_unbiased
from aelab.metrics import mode_coverage


class SampleQuality(pl.Callback):
    """At the end of testing, ``n`` samples of the model (``generate``: decoded prior draws, or
    a DAE's Langevin chains; fixed seed), flattened, give

    - ``test/mmd_data``: unbiased MMD^2 between the samples and ``n`` test points (IMQ kernel
      summed over scales, C = 2 d var(data), as the latent yardstick uses for codes);
    - ``test/mmd_data_heldout``: the same estimate between ``n`` validation points and those test
      points: what a perfect sampler scores at this ``n``, the floor to read ``mmd_data`` against;
    - on ``ring8`` / ``grid25``: ``test/sample_mode_coverage`` and ``test/sample_near_mode_share``.
    """

    def __init__(self, n: int = 1000, seed: int = 0) -> None:
        self.n, self.seed = n, seed

    @torch.no_grad()
    def on_test_epoch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        from aelab.data import as_float
        from aelab.data.toy2d import Toy2dDataModule, mixture_params

        dm = trainer.datamodule
        if dm is None or not getattr(pl_module, "can_generate", False):
            return
        test, val = dm.splits["test"][0], dm.splits["val"][0]
        n = min(self.n, len(test), len(val))
        devices = [pl_module.device] if pl_module.device.type == "cuda" else []
        with torch.random.fork_rng(devices=devices):
            torch.manual_seed(self.seed)
            samples = pl_module.generate(n).float().flatten(1)
        test, val = (as_float(x[:n]).flatten(1).to(samples) for x in (test, val))
        scale = 2.0 * test.shape[1] * test.var(0).mean()
        values = {
            "mmd_data": mmd2_unbiased(samples, test, "imq", base_scale=scale),
            "mmd_data_heldout": mmd2_unbiased(val, test, "imq", base_scale=scale),
        }
        if isinstance(dm, Toy2dDataModule) and dm.name in ("ring8", "grid25"):
            means, std = mixture_params(dm.name)
            coverage = mode_coverage(samples, means.to(samples), std)
            values.update({f"sample_{k}": v for k, v in coverage.items()})
        pl_module.log_dict({f"test/{k}": v for k, v in values.items()}, sync_dist=True)
