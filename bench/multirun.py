"""Multirun throughput: the same grid of small jobs on digits, run one after another (Hydra's
basic launcher, torch's default threads) and two at a time (``launcher=joblib``: n_jobs=2,
one thread per job). Prints the wall time of each, end to end as the user waits for it.

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


def sweep(launcher: str | None) -> float:
    """Wall seconds of ``aelab-train -m GRID`` with the given launcher."""
    with tempfile.TemporaryDirectory(prefix="aelab-multirun-") as tmp:
        cmd = [sys.executable, "-m", "aelab.train", "-m", *GRID, f"hydra.sweep.dir={tmp}"]
        if launcher:
            cmd.append(f"launcher={launcher}")
        env = {**os.environ, "WANDB_MODE": "disabled"}
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
    times: dict[str, list[float]] = {"sequential": [], "joblib": []}
    for r in range(args.repeats):
        for name in ("sequential", "joblib") if r % 2 == 0 else ("joblib", "sequential"):
            times[name].append(sweep(None if name == "sequential" else "joblib"))
            print(f"  repeat {r + 1} {name:10s} {times[name][-1]:6.1f} s", flush=True)
    med = {k: statistics.median(v) for k, v in times.items()}
    result = {
        "jobs": 8,
        "grid": " ".join(GRID),
        "sequential_s": [round(t, 1) for t in times["sequential"]],
        "joblib_s": [round(t, 1) for t in times["joblib"]],
        "ratio": round(med["joblib"] / med["sequential"], 2),
    }
    print(f"joblib / sequential wall time: {result['ratio']}")
    return result


if __name__ == "__main__":
    main()
