"""Bad input: one sentence naming the key or file, a non-zero exit, and no summary.json."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import MNIST_FILES, command_env

CASES = {
    "latent": (("model.latent_dim=0",), "model.latent_dim=0"),
    "batch": (("dataset.batch_size=-5",), "dataset.batch_size=-5"),
    "lr": (("optimizer.lr=-1",), "optimizer.lr=-1"),
    "epochs": (("trainer.max_epochs=0",), "trainer.max_epochs=0"),
    "unknown-option": (("model=transformer",), "model/transformer"),
    "unknown-key": (("model.widht=3",), "widht"),
    "activation": (("network.activation=swishy",), "network.activation='swishy'"),
    "toy-name": (("dataset=toy2d", "dataset.name=circles"), "dataset.name='circles'"),
    "tensor-path": (("dataset=tensor", "dataset.path=/nonexistent/x.npy"), "/nonexistent/x.npy"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_bad_input_is_one_sentence(train, case: str) -> None:
    overrides, needle = CASES[case]
    run = train(*overrides)
    assert run.returncode != 0
    assert needle in run.stderr, run.stderr[-2000:]
    assert "Traceback" not in run.stderr
    assert not (run.run_dir / "summary.json").exists()


def test_missing_dataset_offline_names_directory_and_files(train, tmp_path: Path) -> None:
    empty = tmp_path / "no-data"
    empty.mkdir()
    run = train(
        "dataset=mnist", "dataset.download=false", env=command_env(AELAB_DATA_DIR=str(empty))
    )
    assert run.returncode == 1
    (line,) = [ln for ln in run.stderr.splitlines() if ln.startswith("aelab: error:")]
    assert str(empty / "MNIST" / "raw") in line and "train-images-idx3-ubyte" in line
    assert not (run.run_dir / "summary.json").exists()
    assert list(empty.iterdir()) == []  # nothing half-written


def test_corrupt_dataset_file(train, tmp_path: Path) -> None:
    raw = tmp_path / "data" / "MNIST" / "raw"
    raw.mkdir(parents=True)
    for name in MNIST_FILES:
        (raw / name).write_bytes(b"\x00\x00\x08\x03garbage")
    run = train(
        "dataset=mnist",
        "dataset.download=false",
        env=command_env(AELAB_DATA_DIR=str(tmp_path / "data")),
    )
    assert run.returncode == 1
    assert "could not be read" in run.stderr and str(raw) in run.stderr
    assert "Traceback" not in run.stderr


def test_full_traceback_on_request(train) -> None:
    run = train("model.latent_dim=0", env=command_env(HYDRA_FULL_ERROR="1"))
    assert run.returncode != 0
    assert "Traceback" in run.stderr and "ConfigError" in run.stderr
