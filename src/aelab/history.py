"""CSV and TensorBoard loggers that continue a resumed run's history: a killed-and-resumed
run's curves equal an uninterrupted run's. Lightning's own CSV logger deletes an existing
``metrics.csv``, and its TensorBoard logger keeps the events logged after the checkpoint
beside the resumed run's, so the curves fork."""

from __future__ import annotations

import csv
import io
import os

from pytorch_lightning.loggers import CSVLogger as _CSVLogger
from pytorch_lightning.loggers import TensorBoardLogger as _TensorBoardLogger
from pytorch_lightning.loggers.csv_logs import ExperimentWriter
from pytorch_lightning.loggers.logger import rank_zero_experiment

from aelab.summary import write_text_atomic


class _AppendingWriter(ExperimentWriter):
    """Appends to an existing ``metrics.csv``, keeping its columns."""

    def _check_log_dir_exists(self) -> None:
        if self._fs.isfile(self.metrics_file_path):
            with self._fs.open(self.metrics_file_path, "r", newline="") as file:
                self.metrics_keys = list(csv.DictReader(file).fieldnames or [])


class CSVLogger(_CSVLogger):
    """Lightning's ``CSVLogger``; after :meth:`resume_at` the run appends to the rows it
    logged up to its checkpoint."""

    def resume_at(self, step: int | None) -> None:
        """Keep the rows logged at or before global step ``step``, the checkpoint's (the
        resumed run logs the later ones again); ``None``, a fresh run: keep none."""
        path = os.path.join(self.log_dir, ExperimentWriter.NAME_METRICS_FILE)
        if not os.path.isfile(path):
            return
        if step is None:
            os.remove(path)
            return
        with open(path, newline="") as file:
            reader = csv.DictReader(file)
            fields, rows = reader.fieldnames or [], list(reader)
        text = io.StringIO()
        writer = csv.DictWriter(text, fieldnames=fields, lineterminator="\n")
        writer.writeheader()
        writer.writerows(r for r in rows if r.get("step") and int(r["step"]) <= step)
        write_text_atomic(path, text.getvalue())

    @property
    @rank_zero_experiment
    def experiment(self) -> ExperimentWriter:
        if self._experiment is None:
            self._fs.makedirs(self.root_dir, exist_ok=True)
            self._experiment = _AppendingWriter(log_dir=self.log_dir)
        return self._experiment


class TensorBoardLogger(_TensorBoardLogger):
    """Lightning's ``TensorBoardLogger``; after :meth:`resume_at` the events past the
    checkpoint's step are purged (TensorBoard's ``purge_step``)."""

    def resume_at(self, step: int | None) -> None:
        if step is not None:
            self._kwargs["purge_step"] = step + 1
