"""How well a denoising autoencoder's score matches the true one, where the true one is known:
on the ``toy2d`` mixtures (``ring8``, ``grid25``) the score of the data smoothed by the DAE's
noise has a closed form (:func:`aelab.data.toy2d.mixture_score`)."""

from __future__ import annotations

import pytorch_lightning as pl
import torch
import torch.nn.functional as F


class ScoreQuality(pl.Callback):
    """Logs ``{val,test}/score_cosine`` (mean cosine similarity of learned and true scores at
    ``n`` data points of the split) and ``score_rel_error`` (mean ||s - s*|| / ||s*||)."""

    def __init__(self, n: int = 2000) -> None:
        self.n = n

    @torch.no_grad()
    def _log(self, trainer: pl.Trainer, pl_module: pl.LightningModule, stage: str) -> None:
        from aelab.data.toy2d import Toy2dDataModule, mixture_score

        dm = trainer.datamodule
        if (
            trainer.sanity_checking
            or not isinstance(dm, Toy2dDataModule)
            or dm.name not in ("ring8", "grid25")
        ):
            return
        if getattr(pl_module, "corruption", None) != "gaussian":
            return
        x = dm.splits[stage][0][: self.n].to(pl_module.device)
        learned, true = pl_module.score(x), mixture_score(x, dm.name, pl_module.sigma)
        cosine = F.cosine_similarity(learned, true, dim=-1).mean()
        rel_error = ((learned - true).norm(dim=-1) / true.norm(dim=-1).clamp_min(1e-12)).mean()
        pl_module.log_dict(
            {f"{stage}/score_cosine": cosine, f"{stage}/score_rel_error": rel_error}, sync_dist=True
        )

    def on_validation_epoch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        self._log(trainer, pl_module, "val")

    def on_test_epoch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        self._log(trainer, pl_module, "test")
