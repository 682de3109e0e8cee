"""The Python API as a notebook uses it (in a fresh interpreter): train from overrides, load
the run, sample and evaluate it; the same run as ``aelab-train`` with the same overrides."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import command_env, run_module

OVERRIDES = ("model=vae", "trainer.max_epochs=2", "callbacks=none", "logger=none")

NOTEBOOK = """
import json, sys, torch
from aelab import api
from aelab.errors import AelabError
summary = api.train(*sys.argv[1:])
again = api.train(*sys.argv[1:])  # a second run in the same second gets its own directory
run = api.load(summary["run_dir"])
x_test = run.datamodule.splits["test"][0].float()
with torch.no_grad():
    sse = ((run.model.reconstruct(x_test) - x_test) ** 2).flatten(1).sum(1).mean().item()
samples = api.sample(run, n=16)
record = api.evaluate(summary["run_dir"], "n_samples=200", "probes.enabled=false")
try:
    api.train("model.latent_dim=0")
except AelabError as e:
    error = str(e)
print(json.dumps(dict(summary=summary, again=again["run_dir"], sse=sse,
      samples=list(samples.shape), eval=record["metrics"], error=error)))
"""


@pytest.mark.slow
def test_api_trains_loads_samples_and_evaluates_as_the_commands_do(tmp_path: Path) -> None:
    env = command_env(AELAB_LOG_DIR=str(tmp_path / "logs"))
    proc = subprocess.run(
        [sys.executable, "-c", NOTEBOOK, *OVERRIDES],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    summary = out["summary"]
    run_dir = Path(summary["run_dir"])
    assert json.loads((run_dir / "summary.json").read_text())["metrics"] == summary["metrics"]
    assert out["again"] != summary["run_dir"]
    # the loaded model is the scored one: its test reconstruction error is the summary's
    assert out["sse"] == pytest.approx(summary["metrics"]["test/recon_sse"], rel=1e-4)
    assert out["samples"] == [16, 1, 8, 8]
    assert out["eval"]["test/recon_sse"] == pytest.approx(out["sse"], rel=1e-4)
    assert out["error"].startswith("model.latent_dim=0 is not allowed")
    # the command with the same overrides trains the same run
    cli = run_module(
        "aelab.train", *OVERRIDES, f"hydra.run.dir={tmp_path / 'cli'}", cwd=tmp_path, env=env
    )
    assert cli.returncode == 0, cli.stderr[-3000:]
    assert (
        json.loads((tmp_path / "cli" / "summary.json").read_text())["metrics"] == summary["metrics"]
    )
