"""The training command as a user runs it: real Hydra, real Lightning, real data, subprocesses."""

from __future__ import annotations

import csv
import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from conftest import command_env


def test_default_experiment_from_another_directory(tmp_path: Path) -> None:
    """`aelab-train` with no arguments: the autoencoder on digits, from any working directory."""
    exe = shutil.which("aelab-train")
    assert exe, "aelab-train is not on PATH: pip install -e '.[dev]'"
    proc = subprocess.run(
        [exe], cwd=tmp_path, env=command_env(), capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    (summary_path,) = tmp_path.glob("logs/train/runs/*/summary.json")
    summary = json.loads(summary_path.read_text())
    run_dir = summary_path.parent
    assert summary["status"] == "completed"
    assert summary["choices"]["model"] == "ae" and summary["choices"]["dataset"] == "digits"
    for key in ("val/recon_sse", "test/recon_sse", "test/recon_mse", "test/recon_bce", "test/loss"):
        assert key in summary["metrics"]
    # 30 epochs on digits: far better than predicting the mean image (about 17 for this split)
    assert summary["metrics"]["test/recon_sse"] < 3.0
    assert summary["train_samples_per_s"] > 0 and summary["wall_time_s"] > 0
    assert set(summary["versions"]) >= {"python", "torch", "pytorch-lightning", "hydra-core"}
    assert (run_dir / "reconstructions.png").stat().st_size > 0
    assert (run_dir / "checkpoints" / "last.ckpt").exists()
    assert (run_dir / ".hydra" / "config.yaml").exists()
    rows = list(csv.DictReader((run_dir / "csv" / "metrics.csv").open()))
    assert any(r.get("val/recon_sse") for r in rows)
    assert "recon_sse" in proc.stdout  # the final table


def test_help_lists_groups_and_options(train) -> None:
    run = train("--help")
    assert run.returncode == 0
    for group in (
        "model",
        "prior_loss",
        "prior",
        "dataset",
        "network",
        "trainer",
        "logger",
        "callbacks",
        "paths",
        "experiment",
    ):
        assert f"{group}:" in run.stdout
    for option in ("ae, pca", "digits", "toy2d", "mnist", "debug", "ddp", "wandb", "hinton2006"):
        assert option in run.stdout


def test_seed_repeats_metrics_exactly(train, tmp_path: Path) -> None:
    args = ("seed=3", "trainer.max_epochs=3", "callbacks=none")
    first = train(*args, run_dir=tmp_path / "a")
    second = train(*args, run_dir=tmp_path / "b")
    other = train("seed=4", *args[1:], run_dir=tmp_path / "c")
    assert first.returncode == second.returncode == other.returncode == 0, first.stderr[-2000:]
    assert first.summary["metrics"] == second.summary["metrics"]
    assert first.summary["metrics"] != other.summary["metrics"]


@pytest.mark.parametrize(
    "overrides",
    [
        (
            "dataset=toy2d",
            "dataset.name=swiss_roll",
            "network.likelihood=gaussian",
            "model.latent_dim=2",
        ),
        # the opt-in fast paths for conv networks ride along (issue 8)
        (
            "network=conv",
            "network.channels=8",
            "channels_last=true",
            "trainer.precision=bf16-mixed",
        ),
        ("model=pca", "model.latent_dim=10"),
        ("logger=tensorboard",),
        ("scheduler=cosine", "optimizer=sgd"),
    ],
    ids=["toy2d", "conv-bf16-channels-last", "pca", "tensorboard", "sgd-cosine"],
)
def test_config_combinations_run(train, overrides: tuple[str, ...]) -> None:
    run = train(*overrides, "trainer.max_epochs=2")
    assert run.returncode == 0, run.stderr[-3000:]
    assert run.summary["status"] == "completed"
    assert np.isfinite(run.summary["metrics"]["test/recon_sse"])


def test_debug_trainer_marks_summary_as_debug(train) -> None:
    run = train("trainer=debug")
    assert run.returncode == 0, run.stderr[-3000:]
    assert run.summary["status"] == "debug"


def test_users_own_tensor_and_folder_data(train, tmp_path: Path) -> None:
    from PIL import Image

    rng = np.random.default_rng(0)
    array = tmp_path / "faces.npy"
    np.save(array, rng.integers(0, 256, size=(200, 12, 12), dtype=np.uint8))
    folder = tmp_path / "images"
    for label in ("cats", "dogs"):
        (folder / label).mkdir(parents=True)
        for i in range(40):
            size = (20 + i, 30)  # any size: cropped square and resized
            Image.fromarray(rng.integers(0, 256, size=(*size[::-1], 3), dtype=np.uint8)).save(
                folder / label / f"{i}.png"
            )
    run = train(
        "dataset=tensor",
        f"dataset.path={array}",
        "trainer.max_epochs=1",
        run_dir=tmp_path / "tensor",
    )
    assert run.returncode == 0, run.stderr[-3000:]
    run = train(
        "dataset=folder",
        f"dataset.path={folder}",
        "dataset.image_size=16",
        "trainer.max_epochs=1",
        run_dir=tmp_path / "folder",
    )
    assert run.returncode == 0, run.stderr[-3000:]
    assert run.summary["metrics"]["test/recon_sse"] > 0


def test_wandb_goes_offline_by_itself(train, tmp_path: Path) -> None:
    """A real W&B run with no key (and no network): offline without being told, syncable later."""
    env = command_env(HOME=str(tmp_path), WANDB_DIR=str(tmp_path))
    for key in ("WANDB_MODE", "WANDB_API_KEY"):
        env.pop(key, None)
    run = train("logger=wandb", "trainer.max_epochs=1", env=env)
    assert run.returncode == 0, run.stderr[-3000:]
    assert "wandb sync" in run.stdout + run.stderr
    (offline_run,) = (tmp_path / "run" / "wandb").glob("offline-run-*")
    assert list(offline_run.glob("*.wandb")), "the offline run holds no records"


@pytest.mark.slow
def test_mnist_autoencoder_two_epochs(train, mnist_root: Path) -> None:
    """The default MLP on MNIST: the mean image scores about 52; two epochs measured 23.7."""
    env = command_env(AELAB_DATA_DIR=str(mnist_root))
    run = train("dataset=mnist", "trainer.max_epochs=2", env=env)
    assert run.returncode == 0, run.stderr[-3000:]
    assert run.summary["metrics"]["test/recon_sse"] < 30


@pytest.mark.slow
def test_pca30_on_mnist_matches_hinton2006(train, mnist_root: Path) -> None:
    """PCA-30: 13.87 per test image in the paper (60k training images); 13.91 on the 20k prefix."""
    run = train(
        "experiment=hinton2006", "model=pca", env=command_env(AELAB_DATA_DIR=str(mnist_root))
    )
    assert run.returncode == 0, run.stderr[-3000:]
    assert 13.5 <= run.summary["metrics"]["test/recon_sse"] <= 14.3
    assert run.summary["epochs"] == 1  # closed form: one pass, whatever max_epochs says


@pytest.mark.slow
def test_hinton2006_multirun_writes_both_summaries(tmp_path: Path, mnist_root: Path) -> None:
    cmd = [
        sys.executable,
        "-m",
        "aelab.train",
        "-m",
        "experiment=hinton2006",
        "model=ae,pca",
        "trainer.max_epochs=1",
        "dataset.limit=2000",
        f"hydra.sweep.dir={tmp_path / 'sweep'}",
    ]
    proc = subprocess.run(
        cmd,
        cwd=tmp_path,
        env=command_env(AELAB_DATA_DIR=str(mnist_root)),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    summaries = [
        json.loads(p.read_text()) for p in sorted((tmp_path / "sweep").glob("*/summary.json"))
    ]
    assert [s["choices"]["model"] for s in summaries] == ["ae", "pca"]
    assert all("test/recon_sse" in s["metrics"] for s in summaries)
