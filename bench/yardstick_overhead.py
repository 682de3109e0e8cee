"""What the ``divergences`` yardstick adds to a default digits run (`aelab-train`, no overrides).

Each run is a fresh `aelab-train` process whose ``Yardstick.measure`` is wrapped by a clock:
the time inside it (the per-epoch ``mmd_prior``/``swd_prior`` during fitting, and the k-NN KL,
C2ST, W1 and collapse measures on the scored checkpoint's val and test codes) against the
run's ``wall_time_s`` in summary.json. Timing inside one run rather than differencing runs
with and without ``divergences=none``: on 2 cores the run-to-run spread (about 1 s of 10)
is larger than the overhead itself.

    python bench/yardstick_overhead.py --runs 3
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

CHILD = """
import json, sys, time
import aelab.metrics.latent as latent
spent = {"fit": 0.0, "scored": 0.0}
measure = latent.Yardstick.measure
def timed(self, *args, fitting=False, **kwargs):
    start = time.perf_counter()
    try:
        return measure(self, *args, fitting=fitting, **kwargs)
    finally:
        spent["fit" if fitting else "scored"] += time.perf_counter() - start
latent.Yardstick.measure = timed
from aelab.train import cli
sys.argv = ["aelab-train", *sys.argv[1:]]
try:
    cli()
finally:
    json.dump(spent, open(sys.argv[-1].split("=", 1)[1] + "/yardstick_time.json", "w"))
"""


def one_run(root: Path, i: int) -> dict[str, float]:
    run_dir = root / f"run{i}"
    env = {**os.environ, "WANDB_MODE": "disabled"}
    subprocess.run(
        [sys.executable, "-c", CHILD, f"hydra.run.dir={run_dir}"],
        check=True,
        capture_output=True,
        env=env,
    )
    spent = json.loads((run_dir / "yardstick_time.json").read_text())
    wall = json.loads((run_dir / "summary.json").read_text())["wall_time_s"]
    return {**spent, "wall": wall, "share": (spent["fit"] + spent["scored"]) / wall}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        runs = [one_run(Path(tmp), i) for i in range(args.runs)]
    for r in runs:
        print(
            f"wall {r['wall']:.2f} s, yardstick {r['fit']:.3f} s during fit + "
            f"{r['scored']:.3f} s scored = {100 * r['share']:.1f}%"
        )
    print(
        f"median share of the run's wall time: {100 * statistics.median(r['share'] for r in runs):.1f}%"
    )


if __name__ == "__main__":
    main()
