"""SIGKILL at random points of a run, including in the middle of a checkpoint save, then
``resume=true``: the final metrics equal those of a run that was never stopped.

The kill is injected into the real ``python -m aelab.train`` by ``inject/sitecustomize.py``
(on PYTHONPATH, driven by ``AELAB_FAULT``); aelab itself knows nothing about it.
"""

from __future__ import annotations

import json
import random
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from conftest import command_env

INJECT = Path(__file__).parent / "inject"
EPOCHS, STEPS_PER_EPOCH = 5, 11  # digits: 1,295 training images in batches of 128
ARGS = (
    "model=ae",
    f"trainer.max_epochs={EPOCHS}",
    "callbacks.progress_bar=null",
    "callbacks.reconstruction_grid=null",
    "callbacks.sample_grid=null",
    "callbacks.latent_scatter=null",
    "logger=none",
)
_rng = random.Random(7)
# one kill in the first epoch (before any checkpoint), two later, and two inside a save: the
# 3rd checkpoint file is epoch 1's best, the 4th its last.ckpt
POINTS = [
    f"step:{_rng.randint(2, STEPS_PER_EPOCH - 1)}",
    *(
        f"step:{s}"
        for s in sorted(_rng.sample(range(STEPS_PER_EPOCH + 1, EPOCHS * STEPS_PER_EPOCH), 2))
    ),
    "save:3",
    "save:4",
]


def _train(run_dir: Path, *extra: str, fault: str | None = None) -> subprocess.CompletedProcess:
    env = command_env()
    if fault:
        env.update(AELAB_FAULT=fault, PYTHONPATH=f"{INJECT}:{env.get('PYTHONPATH', '')}")
    cmd = [sys.executable, "-m", "aelab.train", *ARGS, f"hydra.run.dir={run_dir}", *extra]
    return subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600)


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory) -> dict[str, float]:
    run = tmp_path_factory.mktemp("uninterrupted")
    proc = _train(run)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads((run / "summary.json").read_text())["metrics"]


def test_points_cover_the_run() -> None:
    steps = [int(p.split(":")[1]) for p in POINTS if p.startswith("step:")]
    assert len(POINTS) >= 5 and min(steps) < STEPS_PER_EPOCH < max(steps)


@pytest.mark.slow
@pytest.mark.parametrize("fault", POINTS)
def test_killed_run_resumes_to_the_uninterrupted_metrics(
    fault: str, uninterrupted: dict[str, float], tmp_path: Path
) -> None:
    run = tmp_path / "run"
    killed = _train(run, fault=fault)
    assert killed.returncode == -signal.SIGKILL, killed.stderr[-3000:]
    assert not (run / "summary.json").exists()
    for ckpt in (run / "checkpoints").glob("*.ckpt"):  # a cut save left no half file behind
        torch.load(ckpt, map_location="cpu", weights_only=False)

    resumed = _train(run, "resume=true")
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    summary = json.loads((run / "summary.json").read_text())
    assert summary["status"] == "completed" and summary["epochs"] == EPOCHS
    assert summary["metrics"] == uninterrupted  # exactly: every state and random stream restored
