"""A run forced to diverge stops with one sentence, a summary marked diverged, and its last
good checkpoint intact."""

from __future__ import annotations

import json

import pytest
import torch

# SGD at lr 0.1 for the first epoch, then x 1e5 per epoch: epoch 0 is sound, epoch 1 blows up
EXPLODING_LR = (
    "optimizer=sgd",
    "scheduler=cosine",
    "~scheduler.T_max",
    "~scheduler.eta_min",
    "scheduler._target_=torch.optim.lr_scheduler.ExponentialLR",
    "+scheduler.gamma=100000.0",
    "trainer.max_epochs=4",
    "logger=none",
)


@pytest.mark.parametrize("model", ["ae", "aae"])
def test_diverged_run_keeps_its_last_good_checkpoint(train, model) -> None:
    run = train(f"model={model}", *EXPLODING_LR)
    assert run.returncode == 1, run.stderr[-3000:]
    assert "training diverged at step" in run.stderr and "is not finite" in run.stderr
    assert "Traceback" not in run.stderr
    summary = json.loads((run.run_dir / "summary.json").read_text())
    assert summary["status"] == "diverged" and summary["metrics"] == {}
    assert summary["diverged_at_step"] > 0
    from aelab.checkpoint import load_model

    model_, _, _ = load_model(summary["checkpoint"])  # loadable, and every weight finite
    assert all(torch.isfinite(p).all() for p in model_.parameters())


def test_divergence_in_the_first_epoch_keeps_no_checkpoint(train) -> None:
    run = train("optimizer=sgd", "optimizer.lr=1e6", "trainer.max_epochs=2", "logger=none")
    assert run.returncode == 1 and "no epoch finished, so no checkpoint was kept" in run.stderr
    summary = json.loads((run.run_dir / "summary.json").read_text())
    assert summary["status"] == "diverged" and summary["checkpoint"] is None


def test_a_resumed_run_that_diverges_counts_the_earlier_processes_time(train) -> None:
    first = train(*EXPLODING_LR, "trainer.max_epochs=1")  # epoch 0 is sound: a checkpoint
    assert first.returncode == 0, first.stderr[-3000:]
    last = first.run_dir / "checkpoints" / "last.ckpt"
    ckpt = torch.load(last, weights_only=False)
    (key,) = [k for k in ckpt["callbacks"] if "TrainThroughput" in k]
    ckpt["callbacks"][key]["wall_s"] = 1000.0  # as if the earlier processes took 1,000 s
    torch.save(ckpt, last)
    (first.run_dir / "summary.json").unlink()  # as if killed after the checkpoint
    resumed = train(*EXPLODING_LR, "resume=true")  # epoch 1 blows up
    assert resumed.returncode == 1 and "training diverged" in resumed.stderr
    summary = json.loads((resumed.run_dir / "summary.json").read_text())
    assert summary["status"] == "diverged" and 1000 < summary["wall_time_s"] < 1300
