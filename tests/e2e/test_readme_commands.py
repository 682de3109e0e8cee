"""Every command line of the README's "Using it" block, as written, on a tiny budget: each
trains, or (where this machine lacks what the line needs: a GPU) stops with one sentence."""

from __future__ import annotations

import re
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest

from conftest import _mnist_root, command_env, run_module

README = Path(__file__).parents[2] / "README.md"
TINY = ("trainer.max_epochs=1", "dataset.limit=256", "callbacks=none", "print_config=false")
ENTRY = {"aelab-train": "aelab.train", "aelab-compare": "aelab.compare"}


def readme_lines() -> list[str]:
    block = README.read_text().split("## Using it", 1)[1].split("```bash", 1)[1].split("```", 1)[0]
    return [line.split("#", 1)[0].strip() for line in block.strip().splitlines()]


def test_the_block_is_what_this_test_runs() -> None:
    lines = readme_lines()
    assert len(lines) >= 10 and all(line.split()[0] in ENTRY for line in lines)


@pytest.mark.slow
def test_every_readme_command_runs_as_written(tmp_path: Path) -> None:
    home = tmp_path / "home"
    (home / "my_images" / "cats").mkdir(parents=True)
    (home / "my_images" / "dogs").mkdir(parents=True)
    from PIL import Image

    rng = np.random.default_rng(0)
    for i in range(24):
        kind = "cats" if i % 2 else "dogs"
        pixels = rng.integers(0, 255, (40, 48, 3), dtype=np.uint8)
        Image.fromarray(pixels).save(home / "my_images" / kind / f"{i}.png")
    np.save(home / "codes.npy", rng.normal(size=(300, 5)).astype(np.float32))
    data = _mnist_root()
    env = command_env(
        HOME=str(home), AELAB_LOG_DIR=str(tmp_path / "logs"), AELAB_DATA_DIR=str(data or "")
    )
    lines = [line for line in readme_lines() if data is not None or "dataset=mnist" not in line]
    follow_ups = [line for line in lines if _refers_to_a_run(line)]
    with ThreadPoolExecutor(2) as pool:  # two at a time: each line is mostly start-up
        results = list(
            pool.map(
                lambda line: _run(line, home, tmp_path, env, {}),
                [line for line in lines if line not in follow_ups],
            )
        )
    latest = {}
    for kind in ("", "multi"):  # the newest run and multirun (of any task_name)
        found = sorted((tmp_path / "logs").glob(f"*/{kind}runs/*"), key=lambda p: p.stat().st_mtime)
        latest[kind] = str(found[-1])
    results += [_run(line, home, tmp_path, env, latest) for line in follow_ups]
    for line, args, proc in results:
        needs_gpu = "trainer=gpu" in args or ("trainer.devices=4" in args and not _gpus())
        if needs_gpu and proc.returncode != 0:
            errors = [e for e in proc.stderr.splitlines() if e.startswith("aelab: error:")]
            assert len(errors) == 1 and "GPU" in errors[0], (line, proc.stderr[-2000:])
            continue
        assert proc.returncode == 0, (line, proc.stderr[-3000:])
        assert "Traceback" not in proc.stderr, line


def _refers_to_a_run(line: str) -> bool:
    return "<time>" in line


def _run(line: str, home: Path, cwd: Path, env: dict, latest: dict):
    words = [w.replace("$HOME", str(home)) for w in line.split()]
    command, args = words[0], words[1:]
    if _refers_to_a_run(line):
        args = [
            re.sub(r"logs/train/(multi)?runs/<time>", lambda m: latest[m.group(1) or ""], a)
            for a in args
        ]
    elif "--help" not in args:
        # each line its own directory: two lines started in the same second would share
        # Hydra's time-stamped one
        slug = re.sub(r"[^a-z0-9]+", "-", line.lower())[12:60]
        args += [*TINY, f"hydra.run.dir={cwd}/logs/train/runs/{slug}"]
        args += [f"hydra.sweep.dir={cwd}/logs/train/multiruns/{slug}"]
    start = time.perf_counter()
    proc = run_module(ENTRY[command], *args, cwd=cwd, env=env, timeout=600)
    print(f"{time.perf_counter() - start:5.1f} s  {line}")
    return line, args, proc


def _gpus() -> int:
    import torch

    return torch.cuda.device_count()
