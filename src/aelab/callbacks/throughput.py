"""Training throughput in samples/s, excluding validation, for ``summary.json`` and benchmarks."""

from __future__ import annotations

import time
from typing import Any

import pytorch_lightning as pl


class TrainThroughput(pl.Callback):
    """Counts training examples (all processes) over the wall time spent in training batches.

    The clock runs from the start of each training epoch and restarts after each
    validation, so data loading and the optimizer steps count, validation does not.
    """

    def __init__(self) -> None:
        self.samples = 0
        self.seconds = 0.0
        self._t0: float | None = None

    @property
    def samples_per_s(self) -> float:
        return self.samples / self.seconds if self.seconds > 0 else float("nan")

    def _restart(self, *_: Any) -> None:
        self._t0 = time.perf_counter()

    on_train_epoch_start = _restart
    on_validation_end = _restart

    def on_train_batch_end(
        self,
        trainer: pl.Trainer,
        pl_module: pl.LightningModule,
        outputs: Any,
        batch: Any,
        batch_idx: int,
    ) -> None:
        now = time.perf_counter()
        self.seconds += now - self._t0
        self._t0 = now
        self.samples += len(batch[0]) * trainer.world_size
