"""The denoising autoencoder end to end: score metrics on a 2-D mixture, images on digits."""

from __future__ import annotations

import subprocess
import sys

import pytest

from conftest import command_env


@pytest.mark.slow
def test_dae_on_ring8_reports_its_score_quality(train, tmp_path) -> None:
    run = train(
        "model=dae",
        "dataset=toy2d",
        "network.likelihood=gaussian",
        "trainer.max_epochs=20",
        "logger=none",
    )
    assert run.returncode == 0, run.stderr[-3000:]
    metrics = run.summary["metrics"]
    # measured 0.82-0.90 (the target of 0.9 is not reached by this budget yet)
    assert metrics["test/score_cosine"] > 0.7, metrics
    assert 0 < metrics["test/score_rel_error"] < 1.0


def test_dae_trains_on_images(train) -> None:
    run = train(
        "model=dae", "model.sigma=0.2", "trainer.max_epochs=2", "callbacks=none", "logger=none"
    )
    assert run.returncode == 0, run.stderr[-3000:]
    assert "test/score_cosine" not in run.summary["metrics"]  # no true score for images
    assert run.summary["metrics"]["test/recon_sse"] > 0


def test_aelab_sample_draws_from_a_trained_dae_and_a_vae(train, tmp_path) -> None:
    def sample(*overrides: str) -> subprocess.CompletedProcess:
        cmd = [sys.executable, "-m", "aelab.sample", *overrides]
        return subprocess.run(
            cmd, cwd=tmp_path, env=command_env(), capture_output=True, text=True, timeout=300
        )

    dae = train(
        "model=dae",
        "dataset=toy2d",
        "network.likelihood=gaussian",
        "trainer.max_epochs=3",
        "logger=none",
        run_dir=tmp_path / "dae",
    )
    vae = train("model=vae", "trainer.max_epochs=2", "logger=none", run_dir=tmp_path / "vae")
    assert dae.returncode == vae.returncode == 0, dae.stderr[-2000:] + vae.stderr[-2000:]
    out = tmp_path / "samples_dae"
    run = sample(
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
    run = sample(f"ckpt_path={vae.run_dir / 'checkpoints' / 'last.ckpt'}", f"hydra.run.dir={out}")
    assert run.returncode == 0, run.stderr[-2000:]
    assert (out / "samples.png").stat().st_size > 0
    run = sample(f"ckpt_path={tmp_path / 'missing.ckpt'}", f"hydra.run.dir={tmp_path / 'bad'}")
    assert run.returncode == 1 and "does not exist" in run.stderr and "Traceback" not in run.stderr
