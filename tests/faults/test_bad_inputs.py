"""Bad input as unattended jobs meet it: config values and combinations, damaged or missing
data and checkpoint files, an unwritable data directory, a full disk, an unreachable W&B.

Each case runs the real command in a subprocess, in a workspace that already holds a
finished run, and asserts: a non-zero exit; exactly one ``aelab: error:`` line, naming the
key or file; no traceback; no ``summary.json`` that says ``completed``; and the earlier run's
files byte for byte as they were.
"""

from __future__ import annotations

import hashlib
import json
import os
import resource
import shutil
import struct
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import torch
from filelock import FileLock

from conftest import MNIST_FILES, command_env


@dataclass(frozen=True)
class Case:
    args: tuple[str, ...]
    needle: str  # what the sentence must name; {ws} is the workspace
    env: dict[str, str] = field(default_factory=dict)
    module: str = "aelab.train"
    file_size_limit: int | None = None  # bytes: RLIMIT_FSIZE, a disk that fills up


CASES = {
    # before Hydra composes
    "group-option": Case(("model=nosuch",), "model=nosuch is not an option of model"),
    # values
    "latent-zero": Case(("model.latent_dim=0",), "model.latent_dim=0"),
    "latent-type": Case(("model.latent_dim=eight",), "model.latent_dim='eight'"),
    "batch": Case(("dataset.batch_size=-5",), "dataset.batch_size=-5"),
    "lr": Case(("optimizer.lr=-1",), "optimizer.lr=-1"),
    "epochs": Case(("trainer.max_epochs=0",), "trainer.max_epochs=0"),
    "fraction": Case(("dataset.val_fraction=1.5",), "dataset.val_fraction=1.5"),
    "seed": Case(("seed=-3",), "seed=-3"),
    "n-critic": Case(("model=wae", "prior_loss.n_critic=0"), "prior_loss.n_critic=0"),
    "clip": Case(
        ("model=wae", "prior_loss.constraint=clip", "prior_loss.clip=0"), "prior_loss.clip=0"
    ),
    "precision": Case(("trainer.precision=17",), "trainer.precision=17"),
    "dae-sigma": Case(("model=dae", "model.sigma=0"), "model.sigma=0"),
    "corruption": Case(("model=dae", "model.corruption=blur"), "model.corruption='blur'"),
    # combinations (family x prior x prior loss refusals: tests/e2e/test_combinations.py;
    # more config refusals, by their sentence: SENTENCES below)
    "pca-latent": Case(("model=pca", "model.latent_dim=100"), "model.latent_dim=100"),
    "progress-bar": Case(
        ("trainer.enable_progress_bar=false",), "trainer.enable_progress_bar=false"
    ),
    "no-gpu": Case(("trainer=gpu",), "trainer.accelerator=gpu"),
    "shared-part": Case(("dataset=_split",), "dataset=_split is a part shared"),
    "tensor-no-path": Case(("dataset=tensor",), "dataset.path has no value"),
    "sample-n": Case(
        ("ckpt_path={ws}/logs/earlier", "n=-5"), "n=-5 is not allowed", module="aelab.sample"
    ),
    "sample-no-ckpt": Case((), "ckpt_path has no value", module="aelab.sample"),
    "sample-empty-dir": Case(("ckpt_path={ws}/empty",), "{ws}/empty", module="aelab.sample"),
    "eval-iwae-k-on-ae": Case(
        ("ckpt_path={ws}/logs/earlier", "iwae_k=100"),
        "iwae_k=100 applies to model=vae only",
        module="aelab.eval",
    ),
    "eval-fid-of-without-features": Case(
        ("ckpt_path={ws}/logs/earlier", "fid_of.reconstructions=true"),
        "fid_of needs features",
        module="aelab.eval",
    ),
    "folder-mixed": Case(("dataset=folder", "dataset.path={ws}/mixed"), "mixes layouts"),
    "resume-not-a-run": Case(("resume={ws}/empty",), "resume={ws}/empty"),
    # files
    "tensor-missing": Case(("dataset=tensor", "dataset.path={ws}/missing.npy"), "{ws}/missing.npy"),
    "tensor-corrupt": Case(("dataset=tensor", "dataset.path={ws}/corrupt.npy"), "{ws}/corrupt.npy"),
    "image-corrupt": Case(("dataset=folder", "dataset.path={ws}/images"), "broken.png"),
    "mnist-missing": Case(
        ("dataset=mnist", "dataset.download=false"),
        "{ws}/empty/MNIST/raw",
        env={"AELAB_DATA_DIR": "{ws}/empty"},
    ),
    "mnist-garbage": Case(
        ("dataset=mnist",), "{ws}/garbage/MNIST/raw", env={"AELAB_DATA_DIR": "{ws}/garbage"}
    ),
    "mnist-truncated": Case(
        ("dataset=mnist",), "{ws}/truncated/MNIST/raw", env={"AELAB_DATA_DIR": "{ws}/truncated"}
    ),
    "data-dir-unwritable": Case(
        ("dataset=mnist",), "/sys/aelab-data/MNIST/raw", env={"AELAB_DATA_DIR": "/sys/aelab-data"}
    ),
    "ckpt-missing": Case(("ckpt_path={ws}/missing.ckpt",), "{ws}/missing.ckpt"),
    "ckpt-truncated": Case(("ckpt_path={ws}/truncated.ckpt",), "{ws}/truncated.ckpt"),
    "ckpt-other-family": Case(
        ("model=vae", "ckpt_path={ws}/logs/earlier/checkpoints/last.ckpt"),
        "model._target_=aelab.models.Autoencoder",
    ),
    "eval-truncated-ckpt": Case(
        ("ckpt_path={ws}/truncated.ckpt",), "{ws}/truncated.ckpt", module="aelab.eval"
    ),
    "disk-full": Case(
        ("trainer.max_epochs=1", "logger=csv"), "could not write", file_size_limit=200_000
    ),
    "wandb-online-unreachable": Case(
        ("logger=wandb", "logger.wandb.mode=online"),
        "logger.wandb.mode=online",
        env={"WANDB_BASE_URL": "http://127.0.0.1:9", "WANDB_API_KEY": "x" * 40},
    ),
}


def _skip_reason(name: str) -> str | None:
    if name == "no-gpu" and torch.cuda.is_available():
        return "a GPU is visible"
    if name == "data-dir-unwritable":
        try:
            os.makedirs("/sys/aelab-data/MNIST/raw")
        except OSError:
            return None
        shutil.rmtree("/sys/aelab-data", ignore_errors=True)
        return "/sys is writable here"
    return None


def _snapshot(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def _mnist_file(path: Path, claimed: int, images: bool, payload: bytes) -> None:
    """An idx file whose header claims ``claimed`` items followed by ``payload``."""
    header = struct.pack(">II", 0x803 if images else 0x801, claimed)
    header += struct.pack(">II", 28, 28) if images else b""
    path.write_bytes(header + payload)


def _prepare(ws: Path) -> None:
    """The earlier run, and the damaged files the cases point at."""
    earlier = subprocess.run(
        [
            sys.executable,
            "-m",
            "aelab.train",
            "trainer.max_epochs=1",
            "logger=none",
            "callbacks.progress_bar=null",
            f"hydra.run.dir={ws}/logs/earlier",
        ],
        cwd=ws,
        env=command_env(),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert earlier.returncode == 0, earlier.stderr[-3000:]
    ckpt = (ws / "logs/earlier/checkpoints/last.ckpt").read_bytes()
    (ws / "truncated.ckpt").write_bytes(ckpt[: len(ckpt) // 3])
    (ws / "corrupt.npy").write_bytes(b"\x93NUMPY garbage")
    (ws / "images").mkdir()
    (ws / "images" / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n not an image")
    (ws / "empty").mkdir()
    from PIL import Image

    (ws / "mixed" / "cats").mkdir(parents=True)
    for path in (ws / "mixed" / "loose.png", ws / "mixed" / "cats" / "a.png"):
        Image.new("RGB", (16, 16)).save(path)
    for name, damage in (("garbage", "garbage"), ("truncated", "truncated")):
        raw = ws / name / "MNIST" / "raw"
        raw.mkdir(parents=True)
        for f in MNIST_FILES:
            if damage == "garbage":
                (raw / f).write_bytes(b"\x00\x00\x08\x03garbage")
            else:  # the header of the real files, cut after a few hundred bytes
                claimed = 60000 if f.startswith("train") else 10000
                _mnist_file(raw / f, claimed, "images" in f, bytes(300))


def _run(ws: Path, name: str, case: Case) -> subprocess.CompletedProcess:
    env = command_env(**{k: v.format(ws=ws) for k, v in case.env.items()})
    if name.startswith("wandb"):
        env.pop("WANDB_MODE")
    args = [a.format(ws=ws) for a in case.args]
    if case.module == "aelab.train":
        args.append(f"hydra.run.dir={ws}/logs/{name}")
    limit = case.file_size_limit

    def limit_file_size() -> None:  # a disk that fills up: writes past the limit fail (EFBIG)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    return subprocess.run(
        [sys.executable, "-m", case.module, *args],
        cwd=ws,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        preexec_fn=limit_file_size if limit else None,
    )


@pytest.fixture(scope="session")
def workspace(tmp_path_factory: pytest.TempPathFactory, worker_id: str) -> tuple[Path, dict]:
    """The prepared workspace and the earlier run's file hashes, made once per session and
    shared by the xdist workers (a file lock lets the first one build it)."""
    root = tmp_path_factory.getbasetemp()
    root = root if worker_id == "master" else root.parent
    ws = root / "bad-inputs-workspace"
    hashes = root / "bad-inputs-earlier.json"
    with FileLock(f"{ws}.lock"):
        if not hashes.is_file():
            shutil.rmtree(ws, ignore_errors=True)
            ws.mkdir()
            _prepare(ws)
            hashes.write_text(json.dumps(_snapshot(ws / "logs" / "earlier")))
    return ws, json.loads(hashes.read_text())


def test_there_are_at_least_twenty_distinct_bad_inputs() -> None:
    assert len(CASES) >= 20
    assert len({(c.module, c.args, tuple(c.env.items())) for c in CASES.values()}) == len(CASES)


@pytest.mark.slow
@pytest.mark.parametrize("name", list(CASES))
def test_bad_input_is_one_sentence_and_leaves_no_result(name: str, workspace) -> None:
    if reason := _skip_reason(name):
        pytest.skip(reason)
    ws, before = workspace
    proc = _run(ws, name, CASES[name])
    assert proc.returncode != 0, proc.stdout[-2000:]
    assert "Traceback" not in proc.stderr, proc.stderr[-3000:]
    (line,) = [ln for ln in proc.stderr.splitlines() if ln.startswith("aelab: error:")]
    assert CASES[name].needle.format(ws=ws) in line, line
    assert line.endswith("."), line
    completed = [
        p
        for p in ws.rglob("summary.json")
        if "earlier" not in p.parts and '"completed"' in p.read_text()
    ]
    assert completed == []
    assert _snapshot(ws / "logs" / "earlier") == before  # the earlier run is untouched
    if name == "mnist-missing":
        assert list((ws / "empty").iterdir()) == []  # nothing half-downloaded


# Config refusals whose way to the console (one line, exit 1, no traceback, no result) is the
# one CASES already runs for the same stages (the schema, the checks across groups, the
# constructors, Lightning's trainer). Each command would spend ~5 s importing Lightning before
# its sentence, so these sentences are checked in this process, through the Python API's
# train(), which raises the command's sentence.
SENTENCES = {
    "group-option": (("prior=nosuch",), "prior=nosuch is not an option of prior"),
    "hidden-type": (("network.hidden=[a,b]",), "network.hidden=['a', 'b']"),
    "activation": (("network.activation=swishy",), "network.activation='swishy'"),
    "toy-name": (("dataset=toy2d", "dataset.name=circles"), "dataset.name='circles'"),
    "prior-dim": (("prior.dim=3",), "prior.dim=3"),
    "mixture-2d": (("prior=mixture",), "prior.layout=circle needs a 2-D latent"),
    "conv-on-points": (("network=conv", "dataset=toy2d"), "network=conv"),
    "bernoulli-off-unit": (
        ("dataset=toy2d", "network.likelihood=bernoulli"),
        "network.likelihood=bernoulli",
    ),
    "dae-levels-bernoulli": (
        ("model=dae", "model.levels=3", "network.likelihood=bernoulli"),
        "use network.likelihood=gaussian",
    ),
    "binarize-dequantize": (
        ("dataset.binarize=true", "dataset.dequantize=true"),
        "dataset.dequantize=true",
    ),
    "adversarial-update": (("model=aae", "model.update=both"), "model.update='both'"),
}


@pytest.mark.parametrize("name", list(SENTENCES))
def test_config_refusal_names_the_key_in_one_sentence(name: str, tmp_path: Path) -> None:
    from aelab import api
    from aelab.errors import AelabError

    overrides, needle = SENTENCES[name]
    run_dir = tmp_path / "run"
    with pytest.raises(AelabError) as refused:
        api.train(*overrides, "logger=none", f"hydra.run.dir={run_dir}")
    sentence = str(refused.value)
    assert needle in sentence and sentence.endswith(".") and "\n" not in sentence, sentence
    assert not (run_dir / "summary.json").exists()


def test_hydra_rejects_unknown_keys_without_a_traceback(train) -> None:
    # an unknown option of a group is aelab's own sentence: the "group-option" case above
    run = train("model.widht=3")
    assert run.returncode != 0 and "widht" in run.stderr and "Traceback" not in run.stderr
    assert not (run.run_dir / "summary.json").exists()


def test_full_traceback_on_request(train) -> None:
    run = train("model.latent_dim=0", env=command_env(HYDRA_FULL_ERROR="1"))
    assert run.returncode != 0
    assert "Traceback" in run.stderr and "ConfigError" in run.stderr
