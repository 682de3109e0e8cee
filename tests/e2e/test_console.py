"""What a run prints and keeps: only what concerns the run (no library advertising or
deprecation notices, with Python's warnings on), the composed config as a tree, and the
callbacks a user adds on top of the defaults."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from conftest import command_env, run_module

NOISE = (
    "litlogger",
    "litmodels",
    "LeafSpec",
    "configure_optimizers",
    "Checkpoint directory",
    "anonymous",
)


def _loud_env(tmp_path: Path) -> dict[str, str]:
    env = command_env(WANDB_MODE="offline", AELAB_LOG_DIR=str(tmp_path / "logs"))
    env.pop("PYTHONWARNINGS")  # every warning shows, as on a user's console
    return env


@pytest.mark.slow
def test_the_console_shows_only_the_run(tmp_path: Path) -> None:
    env, run_dir = _loud_env(tmp_path), tmp_path / "pca"
    args = ("model=pca", "logger=wandb", f"hydra.run.dir={run_dir}")
    proc = run_module("aelab.train", *args, cwd=tmp_path, env=env)
    assert proc.returncode == 0, proc.stderr[-3000:]
    # a second run from the first one's checkpoint, into the same directory
    ckpt = run_dir / "checkpoints" / "last.ckpt"
    again = run_module("aelab.train", *args, f"ckpt_path={ckpt}", cwd=tmp_path, env=env)
    assert again.returncode == 0, again.stderr[-3000:]
    for out in (proc, again):
        console = out.stdout + out.stderr
        assert not [n for n in NOISE if n in console], console[-3000:]
    assert "model (pca)" in proc.stdout and "dataset (digits)" in proc.stdout  # the config tree
    assert "model (pca)" in (run_dir / "config_tree.log").read_text()


@pytest.mark.slow
def test_added_callbacks_stop_early_log_the_learning_rate_and_keep_checkpoints(
    tmp_path: Path,
) -> None:
    run_dir = tmp_path / "run"
    proc = run_module(
        "aelab.train",
        "callbacks=[sample_grid,early_stopping,lr_monitor]",
        "callbacks.early_stopping.patience=1",
        "callbacks.early_stopping.min_delta=100",  # no epoch improves by that much
        "trainer.max_epochs=20",
        f"hydra.run.dir={run_dir}",
        cwd=tmp_path,
        env=command_env(),
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["epochs"] == 2  # stopped after patience + 1 epochs, not 20
    assert summary["checkpoint"] and Path(summary["checkpoint"]).is_file()  # still checkpointed
    rows = list(csv.DictReader((run_dir / "csv" / "metrics.csv").open()))
    assert [float(r["lr-Adam"]) for r in rows if r.get("lr-Adam")] == [0.001, 0.001]
    assert (run_dir / "samples.png").is_file()
