"""A callback for the DDP test, loaded through a Hydra override: each rank records the state
of its random stream and the sum of its weights when its first training batch starts."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytorch_lightning as pl
import torch


class RankProbe(pl.Callback):
    def __init__(self, out: str) -> None:
        self.out, self.done = Path(out), False

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx) -> None:
        if self.done:
            return
        self.done = True
        record = {
            "rank": trainer.global_rank,
            "rng": hashlib.sha1(torch.get_rng_state().numpy().tobytes()).hexdigest(),
            "weights": float(sum(p.double().sum() for p in pl_module.parameters())),
        }
        self.out.mkdir(parents=True, exist_ok=True)
        (self.out / f"rank{trainer.global_rank}.json").write_text(json.dumps(record))
