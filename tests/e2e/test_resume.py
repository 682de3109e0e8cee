"""Resume: a run killed mid-training (SIGKILL) and continued with resume=true ends with the
metrics of a run that was never stopped (two optimizers here; more kill points in
tests/faults/test_kill_resume.py)."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import command_env

ARGS = (
    "trainer.max_epochs=8",
    "callbacks.progress_bar=null",
    "callbacks.reconstruction_grid=null",
    "callbacks.sample_grid=null",
    "logger=none",
)


def _command(model: str, run_dir: Path, *extra: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "aelab.train",
        f"model={model}",
        *ARGS,
        f"hydra.run.dir={run_dir}",
        *extra,
    ]


@pytest.mark.slow
@pytest.mark.parametrize("model", ["aae"])  # ae: tests/faults/test_kill_resume.py
def test_killed_run_resumes_to_the_metrics_of_an_uninterrupted_one(
    model: str, tmp_path: Path
) -> None:
    env = command_env()
    full = subprocess.run(
        _command(model, tmp_path / "full"), env=env, capture_output=True, text=True, timeout=600
    )
    assert full.returncode == 0, full.stderr[-3000:]
    run = tmp_path / "killed"
    proc = subprocess.Popen(
        _command(model, run), env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    last, saves, mtime = run / "checkpoints" / "last.ckpt", 0, None
    while proc.poll() is None and saves < 3:  # kill right after the third epoch's checkpoint
        if last.exists() and last.stat().st_mtime != mtime:
            mtime, saves = last.stat().st_mtime, saves + 1
        time.sleep(0.01)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert saves >= 1 and not (run / "summary.json").exists(), (
        "the run finished before it was killed"
    )
    resumed = subprocess.run(
        _command(model, run, "resume=true"), env=env, capture_output=True, text=True, timeout=600
    )
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    expected = json.loads((tmp_path / "full" / "summary.json").read_text())["metrics"]
    got = json.loads((run / "summary.json").read_text())["metrics"]
    assert got == expected  # exactly: optimizers, loop counters and random streams restored
