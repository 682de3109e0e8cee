"""The denoising autoencoder end to end: score metrics on a 2-D mixture, images on digits."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from conftest import command_env, run_module


@pytest.mark.slow
def test_dae_on_ring8_learns_the_score_and_samples_like_the_data(train) -> None:
    run = train("experiment=dae_ring8", "logger=none")
    assert run.returncode == 0, run.stderr[-3000:]
    metrics = run.summary["metrics"]
    # measured 0.975 / 0.22 (2-core CPU); a single level without the cosine decay gives 0.86
    assert metrics["test/score_cosine"] >= 0.9, metrics
    assert metrics["test/score_rel_error"] < 0.35, metrics
    # annealed Langevin samples score as a fresh sample of the data does (measured -0.002 vs
    # 0.0005; plain Langevin at sigma 0.1 from the same start: 0.008-0.013, wrong mode weights)
    assert metrics["test/mmd_data"] < metrics["test/mmd_data_heldout"] + 0.004, metrics
    assert metrics["test/sample_mode_coverage"] == 1.0
    assert metrics["test/dsm_loss"] > 0


def test_noise_conditional_dae_on_images_logs_its_samples(train, tmp_path) -> None:
    run = train(
        "model=dae",
        "model.levels=3",
        "model.sigma=0.05",
        "network.likelihood=gaussian",  # denoising score matching over levels: squared error
        "trainer.max_epochs=2",
        "callbacks.sample_quality.n=200",
        "logger=tensorboard",
    )
    assert run.returncode == 0, run.stderr[-3000:]
    metrics = run.summary["metrics"]
    assert "test/score_cosine" not in metrics  # no true score for images
    assert metrics["test/dsm_loss"] > 0
    assert metrics["test/mmd_data"] > metrics["test/mmd_data_heldout"]  # 2 epochs: far from data
    assert (run.run_dir / "samples.png").stat().st_size > 0
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    logged = {
        tag
        for events in run.run_dir.rglob("events.out.tfevents.*")
        for tag in EventAccumulator(str(events)).Reload().Tags()["images"]
    }
    assert "samples" in logged  # the Langevin sample grid reaches the logger
    out = tmp_path / "annealed"
    ckpt = run.run_dir / "checkpoints" / "last.ckpt"
    drawn = sample(
        tmp_path, f"ckpt_path={ckpt}", "n=16", "steps=5", "denoise=true", f"hydra.run.dir={out}"
    )
    assert drawn.returncode == 0, drawn.stderr[-2000:]
    images = __import__("torch").load(out / "samples.pt")
    assert images.shape == (16, 1, 8, 8) and (out / "samples.png").exists()


def sample(cwd: Path, *overrides: str) -> subprocess.CompletedProcess:
    return run_module("aelab.sample", *overrides, cwd=cwd, timeout=300)


def test_aelab_sample_draws_from_a_trained_dae_and_a_vae(train, tmp_path) -> None:
    dae = train(
        "model=dae",
        "dataset=toy2d",
        "network.likelihood=gaussian",
        "trainer.max_epochs=3",
        "callbacks.sample_quality.n=200",
        "logger=none",
        run_dir=tmp_path / "dae",
    )
    vae = train("model=vae", "trainer.max_epochs=2", "logger=none", run_dir=tmp_path / "vae")
    assert dae.returncode == vae.returncode == 0, dae.stderr[-2000:] + vae.stderr[-2000:]
    out = tmp_path / "samples_dae"
    run = sample(
        tmp_path,
        f"ckpt_path={dae.run_dir / 'checkpoints' / 'last.ckpt'}",
        "n=500",
        "steps=200",
        f"hydra.run.dir={out}",
    )
    assert run.returncode == 0, run.stderr[-2000:]
    samples = __import__("torch").load(out / "samples.pt")
    assert samples.shape == (500, 2) and samples.isfinite().all()
    assert (out / "samples_scatter.png").exists() and (out / "score_field.png").exists()
    out = tmp_path / "samples_vae"
    run = sample(
        tmp_path, f"ckpt_path={vae.run_dir / 'checkpoints' / 'last.ckpt'}", f"hydra.run.dir={out}"
    )
    assert run.returncode == 0, run.stderr[-2000:]
    assert (out / "samples.png").stat().st_size > 0
    run = sample(
        tmp_path, f"ckpt_path={tmp_path / 'missing.ckpt'}", f"hydra.run.dir={tmp_path / 'bad'}"
    )
    assert run.returncode == 1 and "does not exist" in run.stderr and "Traceback" not in run.stderr


@pytest.mark.slow
def test_dae_on_mnist_reports_score_metrics_and_samples(train, tmp_path, mnist_root) -> None:
    env = command_env(AELAB_DATA_DIR=str(mnist_root))
    run = train(
        "experiment=dae_mnist",
        "dataset.limit=3000",
        "trainer.max_epochs=2",
        "model.langevin_steps=20",
        "callbacks.sample_quality.n=300",
        "logger=none",
        env=env,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    metrics = run.summary["metrics"]
    assert (
        metrics["test/dsm_loss"] > 0 and metrics["test/mmd_data_heldout"] < metrics["test/mmd_data"]
    )
    out = tmp_path / "mnist_samples"
    ckpt = run.run_dir / "checkpoints" / "last.ckpt"
    drawn = sample(tmp_path, f"ckpt_path={ckpt}", "n=16", "steps=10", f"hydra.run.dir={out}")
    assert drawn.returncode == 0, drawn.stderr[-2000:]
    assert __import__("torch").load(out / "samples.pt").shape == (16, 1, 28, 28)
