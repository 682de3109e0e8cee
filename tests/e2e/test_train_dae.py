"""The denoising autoencoder end to end: score metrics on a 2-D mixture, images on digits."""

from __future__ import annotations

import pytest


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
