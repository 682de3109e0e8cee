"""Shared fixtures: run the real commands in subprocesses, find the shared MNIST."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

MNIST_FILES = (
    "train-images-idx3-ubyte",
    "train-labels-idx1-ubyte",
    "t10k-images-idx3-ubyte",
    "t10k-labels-idx1-ubyte",
)


@dataclass
class Run:
    returncode: int
    stdout: str
    stderr: str
    run_dir: Path

    @property
    def summary(self) -> dict:
        return json.loads((self.run_dir / "summary.json").read_text())


def threads_per_command() -> str:
    """The cores divided among the xdist workers. Each worker runs one command at a time, and
    torch's default of one thread per core in every command oversubscribes the machine: two
    concurrent 10-epoch AAE runs took 55 s with 2 threads each and 11 s with 1 (2 cores)."""
    workers = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))
    return str(max(1, (os.cpu_count() or 1) // workers))


def command_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HYDRA_")}
    env.update(
        {
            "WANDB_MODE": "disabled",
            "PYTHONWARNINGS": "ignore",
            "OMP_NUM_THREADS": threads_per_command(),
            **extra,
        }
    )
    return env


def run_module(
    module: str, *args: str, cwd: Path, env: dict[str, str] | None = None, timeout: int = 900
) -> subprocess.CompletedProcess:
    """``python -m module args`` in ``cwd``, as a user runs it, output captured."""
    cmd = [sys.executable, "-m", module, *args]
    return subprocess.run(
        cmd, cwd=cwd, env=env or command_env(), capture_output=True, text=True, timeout=timeout
    )


@pytest.fixture
def train(tmp_path: Path):
    """``train(*overrides, env=None)`` runs ``python -m aelab.train`` in ``tmp_path``."""

    def run(
        *overrides: str,
        env: dict[str, str] | None = None,
        run_dir: Path | None = None,
        timeout: int = 300,
    ) -> Run:
        run_dir = run_dir or tmp_path / "run"
        cmd = [sys.executable, "-m", "aelab.train", *overrides]
        if not any(o.startswith("-m") or o == "--multirun" for o in overrides):
            cmd.append(f"hydra.run.dir={run_dir}")
        proc = subprocess.run(
            cmd,
            cwd=tmp_path,
            env=env or command_env(),
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        return Run(proc.returncode, proc.stdout, proc.stderr, run_dir)

    return run


def _mnist_root() -> Path | None:
    root = os.environ.get("AELAB_DATA_DIR")
    if root and all((Path(root) / "MNIST" / "raw" / f).exists() for f in MNIST_FILES):
        return Path(root)
    return None


@pytest.fixture
def mnist_root() -> Path:
    root = _mnist_root()
    if root is None:
        pytest.skip(
            "MNIST not found: set AELAB_DATA_DIR to a directory holding MNIST/raw (CI uses ../shared/data)"
        )
    return root


@pytest.fixture(autouse=True)
def _one_thread_in_unit_tests(request: pytest.FixtureRequest):
    """Unit tests use tiny tensors: one torch thread is faster and does not fight other work."""
    if "unit" not in request.node.path.parts:
        yield
        return
    import torch

    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)
