"""Training throughput in samples/s, excluding validation, for ``summary.json`` and benchmarks."""

from __future__ import annotations

import time
from typing import Any

import pytorch_lightning as pl


class TrainThroughput(pl.Callback):
    """Counts training examples (all processes) over the wall time spent in training batches.

    The clock runs from the start of each training epoch and restarts after each
    validation, so data loading and the optimizer steps count, validation does not.
    Its counts and the run's wall time so far travel in the checkpoints, so a resumed run
    reports the time of all its processes, not only of the last.
    """

    def __init__(self, started: float | None = None) -> None:
        """``started``: the process's ``time.perf_counter()`` when the run began (default now)."""
        self.samples = 0
        self.seconds = 0.0
        self.earlier_wall_s = 0.0  # the wall time of the processes before a resume
        self._started = time.perf_counter() if started is None else started
        self._t0: float | None = None
        self._stage: str | None = None

    def wall_s(self) -> float:
        """Wall time of the run: this process's so far plus the earlier processes'."""
        return self.earlier_wall_s + time.perf_counter() - self._started

    def state_dict(self) -> dict[str, Any]:
        return {"samples": self.samples, "seconds": self.seconds, "wall_s": self.wall_s()}

    def setup(self, trainer: pl.Trainer, pl_module: pl.LightningModule, stage: str) -> None:
        self._stage = stage  # Lightning calls this before it restores a checkpoint

    def load_state_dict(self, state: dict[str, Any]) -> None:
        if self._stage != "fit":  # validate/test with ckpt_path: the counts are this run's
            return
        self.samples, self.seconds = state["samples"], state["seconds"]
        self.earlier_wall_s = state["wall_s"]

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
