"""``logger=mlflow``: a run logged to a local MLflow file store, read back with MLflow's own
client."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import command_env, run_module


@pytest.mark.slow
def test_mlflow_run_reads_back_with_the_mlflow_client(tmp_path: Path, monkeypatch) -> None:
    pytest.importorskip("mlflow")
    monkeypatch.setenv("MLFLOW_ALLOW_FILE_STORE", "true")  # MLflow 3's file store, allowed
    from mlflow.tracking import MlflowClient

    env = command_env(AELAB_LOG_DIR=str(tmp_path / "logs"))
    run_dir = tmp_path / "run"
    proc = run_module(
        "aelab.train",
        "logger=mlflow",
        "model.latent_dim=4",
        "trainer.max_epochs=2",
        "callbacks=none",
        f"hydra.run.dir={run_dir}",
        cwd=tmp_path,
        env=env,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    summary = json.loads((run_dir / "summary.json").read_text())
    client = MlflowClient(tracking_uri=f"file:{tmp_path / 'logs' / 'mlruns'}")
    (experiment,) = [e for e in client.search_experiments() if e.name == "aelab"]
    (run,) = client.search_runs([experiment.experiment_id])
    assert run.info.status == "FINISHED"
    assert run.data.params["model/latent_dim"] == "4"
    assert run.data.params["choices/model"] == "ae"
    test_sse = run.data.metrics["test/recon_sse"]
    assert test_sse == pytest.approx(summary["metrics"]["test/recon_sse"], rel=1e-6)
    history = client.get_metric_history(run.info.run_id, "val/loss")
    assert len(history) >= 2  # one per epoch, and the final validation
