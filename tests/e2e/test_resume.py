"""Resume: a run killed mid-training (SIGKILL) and continued with ``resume=<its directory>``
ends with the metrics and the logged history of a run that was never stopped, in the same
W&B run (two optimizers here; more kill points in tests/faults/test_kill_resume.py); a
completed run is left as it is."""

from __future__ import annotations

import csv
import json
import shutil
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
    "logger=[csv,wandb]",
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
    env = command_env(WANDB_MODE="offline")
    full = subprocess.run(
        _command(model, tmp_path / "full"), env=env, capture_output=True, text=True, timeout=600
    )
    assert full.returncode == 0, full.stderr[-3000:]
    run = tmp_path / "killed"
    killed_started = time.perf_counter()
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
    killed_s = time.perf_counter() - killed_started
    assert saves >= 1 and not (run / "summary.json").exists(), (
        "the run finished before it was killed"
    )
    # a process killed later than its checkpoint has logged rows past it, which the resumed run
    # logs again: give the killed run every row of the full one, so only the truncation at the
    # checkpoint's logged step (batches, not the AAE's 4 optimizer steps a batch) keeps them once
    shutil.copy(tmp_path / "full" / "csv" / "metrics.csv", run / "csv" / "metrics.csv")
    # by directory: the run's own overrides are replayed from its .hydra/
    resume = [sys.executable, "-m", "aelab.train", f"resume={run}"]
    resumed_started = time.perf_counter()
    resumed = subprocess.run(resume, env=env, capture_output=True, text=True, timeout=600)
    resumed_s = time.perf_counter() - resumed_started
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    # the wall time counts the killed process up to its checkpoint as well as the resumed one
    wall_s = json.loads((run / "summary.json").read_text())["wall_time_s"]
    assert resumed_s < wall_s < resumed_s + killed_s
    expected = json.loads((tmp_path / "full" / "summary.json").read_text())["metrics"]
    got = json.loads((run / "summary.json").read_text())["metrics"]
    assert got == expected  # exactly: optimizers, loop counters and random streams restored
    # the history too: every row of the uninterrupted run's metrics.csv, once
    rows = [
        list(csv.DictReader((d / "csv" / "metrics.csv").open())) for d in (tmp_path / "full", run)
    ]
    assert rows[1] == rows[0]
    assert len(list((run / "wandb").glob("offline-run-*"))) == 2  # killed and resumed parts ...
    run_id = (run / "wandb_run_id").read_text().strip()
    assert all(
        p.name.endswith(run_id) for p in (run / "wandb").glob("offline-run-*")
    )  # ... one run
    # resuming a completed run leaves it as it is
    before = (run / "summary.json").read_text(), (run / "csv" / "metrics.csv").read_text()
    again = subprocess.run(resume, env=env, capture_output=True, text=True, timeout=600)
    assert again.returncode == 0, again.stderr[-3000:]
    assert "completed already" in again.stdout
    assert ((run / "summary.json").read_text(), (run / "csv" / "metrics.csv").read_text()) == before
    assert not (run / "checkpoints" / "last-v1.ckpt").exists()
