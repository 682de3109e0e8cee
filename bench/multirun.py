"""Multirun throughput: the same grid of small jobs on digits, run three ways, wall time end
to end as the user waits for it:

- ``sequential``: Hydra's basic launcher, one job after another, torch's default threads
  (one per core: a single job already uses part of the second core);
- ``sequential_1thread``: the same with one thread (``OMP_NUM_THREADS=1``), the work that
  ``joblib`` splits over the cores;
- ``joblib``: ``launcher=joblib``, two jobs at a time, one thread each.

    python bench/multirun.py --repeats 2
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from typing import Any

GRID = (
    "model=ae,vae,aae,wae",
    "seed=0,1",
    "trainer.max_epochs=25",
    "logger=none",
    "callbacks.progress_bar=null",
    "callbacks.reconstruction_grid=null",
    "callbacks.sample_grid=null",
    "callbacks.latent_scatter=null",
)
# mode -> (launcher, environment)
MODES: dict[str, tuple[str | None, dict[str, str]]] = {
    "sequential": (None, {}),
    "sequential_1thread": (None, {"OMP_NUM_THREADS": "1"}),
    "joblib": ("joblib", {}),
}


def sweep(mode: str) -> float:
    """Wall seconds of ``aelab-train -m GRID`` run the given way."""
    launcher, extra_env = MODES[mode]
    with tempfile.TemporaryDirectory(prefix="aelab-multirun-") as tmp:
        cmd = [sys.executable, "-m", "aelab.train", "-m", *GRID, f"hydra.sweep.dir={tmp}"]
        if launcher:
            cmd.append(f"launcher={launcher}")
        env = {**os.environ, "WANDB_MODE": "disabled", **extra_env}
        start = time.perf_counter()
        proc = subprocess.run(cmd, env=env, capture_output=True, text=True, cwd=tmp)
        seconds = time.perf_counter() - start
        if proc.returncode != 0:
            raise SystemExit(f"the sweep failed:\n{proc.stderr[-3000:]}")
    return seconds


def main(argv: list[str] | None = None) -> dict[str, Any]:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--repeats", type=int, default=2)
    args = p.parse_args(argv)
    times: dict[str, list[float]] = {mode: [] for mode in MODES}
    for r in range(args.repeats):
        for mode in list(MODES) if r % 2 == 0 else list(MODES)[::-1]:
            times[mode].append(sweep(mode))
            print(f"  repeat {r + 1} {mode:18s} {times[mode][-1]:6.1f} s", flush=True)
    med = {k: statistics.median(v) for k, v in times.items()}
    result = {
        "jobs": 8,
        "grid": " ".join(GRID),
        **{f"{mode}_s": [round(t, 1) for t in times[mode]] for mode in MODES},
        "ratio": round(med["joblib"] / med["sequential"], 2),
        "ratio_1thread": round(med["joblib"] / med["sequential_1thread"], 2),
    }
    print(
        f"joblib / sequential wall time: {result['ratio']}; "
        f"joblib / sequential with one thread: {result['ratio_1thread']}"
    )
    return result


if __name__ == "__main__":
    main()
