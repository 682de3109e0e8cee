"""aelab-eval and aelab-repro as a user runs them."""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import pytest

from aelab.repro import tables
from conftest import _mnist_root, command_env, run_module


@pytest.mark.slow
def test_aelab_eval_scores_a_vae_with_classifier_features(train, tmp_path: Path) -> None:
    clf = train(
        "model=classifier", "trainer.max_epochs=10", "logger=none", run_dir=tmp_path / "clf"
    )
    # 3 epochs: linear probe 0.80 and clustering 0.51 measured against the bounds 0.5 and 0.2
    vae = train("model=vae", "trainer.max_epochs=3", "logger=none", run_dir=tmp_path / "vae")
    assert clf.returncode == vae.returncode == 0, clf.stderr[-2000:] + vae.stderr[-2000:]
    assert clf.summary["metrics"]["test/accuracy"] > 0.85  # measured 0.93 at 15 epochs, 0.87 at 5
    out = tmp_path / "eval"
    run = run_module(
        "aelab.eval",
        f"ckpt_path={vae.run_dir / 'checkpoints' / 'last.ckpt'}",
        f"classifier_ckpt={clf.run_dir / 'checkpoints' / 'last.ckpt'}",
        "n_samples=1000",
        "iwae_k=20",
        "fid_of.reconstructions=true",  # Ghosh et al. 2020's REC and GMM columns
        "fid_of.gmm_components=10",
        f"hydra.run.dir={out}",
        cwd=tmp_path,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    record = json.loads((out / "eval.json").read_text())
    m = record["metrics"]
    assert record["status"] == "completed"
    assert len(record["vectors"]["test/kl_per_dim"]) == 16  # the VAE's default latent size
    assert (vae.run_dir / "kl_per_dim.png").stat().st_size > 0  # the default callbacks' chart
    for key in (
        "parzen_ll",
        "fid",
        "fid_recon",
        "fid_gmm",
        "kid",
        "sample_class_coverage",
        "probe_linear_acc",
        "probe_knn_acc",
        "cluster_acc",
        "iwae_xent",  # a Bernoulli decoder on grey digits: a cross-entropy, not nats
        "recon_sse",
        "mmd_data",
        "precision",  # on the classifier's features, like the FID (issue 15)
        "recall",
        "density",
        "coverage",
        "kl_qp_knn",  # the divergences yardstick of q(z) against p(z)
        "c2st_accuracy",
        "w1_prior",
        "mutual_info",
    ):
        assert f"test/{key}" in m, key
    assert 0 <= m["test/recall"] <= 1 and 0 <= m["test/coverage"] <= 1
    assert "test/nll_iwae" not in m and "test/elbo" not in m
    assert (
        m["test/probe_linear_acc"] > 0.5 and m["test/cluster_acc"] > 0.2
    )  # 10 classes: chance 0.1
    assert m["test/fid"] > 0 and 0 < m["test/sample_class_coverage"] <= 1
    assert (out / "samples.png").exists() and (out / "reconstructions.png").exists()
    # the classifier's own checkpoint: its test accuracy, no generative metrics
    run = run_module(
        "aelab.eval",
        f"ckpt_path={clf.run_dir / 'checkpoints' / 'last.ckpt'}",
        f"hydra.run.dir={tmp_path / 'eval_clf'}",
        cwd=tmp_path,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    m = json.loads((tmp_path / "eval_clf" / "eval.json").read_text())["metrics"]
    assert m["test/accuracy"] > 0.85 and "test/fid" not in m
    # a classifier_ckpt that is not a classifier: one sentence
    run = run_module(
        "aelab.eval",
        f"ckpt_path={vae.run_dir / 'checkpoints' / 'last.ckpt'}",
        f"classifier_ckpt={vae.run_dir / 'checkpoints' / 'last.ckpt'}",
        "n_samples=100",
        f"hydra.run.dir={tmp_path / 'eval_bad'}",
        cwd=tmp_path,
    )
    assert (
        run.returncode == 1 and "not a classifier" in run.stderr and "Traceback" not in run.stderr
    )
    assert not (tmp_path / "eval_bad" / "eval.json").exists()


@pytest.mark.slow
def test_aelab_repro_runs_the_hinton2006_table(tmp_path: Path, mnist_root: Path) -> None:
    """The packaged table with its autoencoder row cut to one epoch on 2,000 images (the quick
    budget's 10 epochs on 20,000 take minutes): the PCA row as the table has it, the driver's
    files, progress and re-tabulation as a user meets them."""
    from omegaconf import OmegaConf

    from aelab.repro import load_table

    table = load_table("hinton2006")
    ae = next(r for r in table.rows if r.method.startswith("autoencoder"))
    ae.at.quick = ["trainer.max_epochs=1", "dataset.limit=2000"]
    OmegaConf.save(table, tmp_path / "hinton2006.yaml")
    env = command_env(AELAB_DATA_DIR=str(mnist_root))
    out = tmp_path / "table"
    run = run_module(
        "aelab.repro", str(tmp_path / "hinton2006.yaml"), "--out", str(out), cwd=tmp_path, env=env
    )
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    rows = {(r["method"], r["metric"]): r for r in csv.DictReader((out / "hinton2006.csv").open())}
    pca = rows[("PCA, 30 components", "test/recon_sse")]
    assert float(pca["paper"]) == 13.87 and pca["status"] == "ok"
    assert abs(float(pca["aelab_mean"]) - 13.87) / 13.87 < 0.03  # measured 13.91
    ae_row = rows[("autoencoder 784-1000-500-250-30", "test/recon_sse")]
    assert ae_row["status"] == "ok" and 0 < float(ae_row["aelab_mean"]) < 60  # chance: about 53
    assert (
        rows[("logistic PCA, 30 components (not run)", "test/recon_sse")]["status"] == "reference"
    )
    md = (out / "hinton2006.md").read_text()
    assert "| PCA, 30 components | 13.87 | 13.9" in md and "Hardware:" in md
    assert f"Made by: `AELAB_DATA_DIR={mnist_root} aelab-repro " in md
    assert "row 1 of 2: autoencoder" in run.stdout and "epoch 1 of " in run.stdout  # progress
    wall = re.search(r"wall time ([0-9.]+) min in all", md).group(1)
    assert float(wall) > 0
    # --runs tabulates the same runs again without training
    before = (out / "runs" / "pca-30-components" / "seed0" / "summary.json").stat().st_mtime
    results = tmp_path / "docs" / "results"
    again = run_module(
        "aelab.repro", "hinton2006", "--runs", str(out), "--results", str(results),
        cwd=tmp_path, env=env,
    )  # fmt: skip
    assert again.returncode == 0, again.stderr[-2000:]
    assert (results / "hinton2006.csv").read_text() == (out / "hinton2006.csv").read_text()
    assert (out / "runs" / "pca-30-components" / "seed0" / "summary.json").stat().st_mtime == before
    assert "13.9" in again.stdout
    assert f"wall time {wall} min in all" in again.stdout  # the runs' own, not the re-reading's


def test_aelab_repro_refuses_unknown_tables_and_empty_run_directories(tmp_path: Path) -> None:
    run = run_module("aelab.repro", "nosuchpaper", cwd=tmp_path)
    assert run.returncode == 1 and "use one of" in run.stderr and "hinton2006" in run.stderr
    run = run_module("aelab.repro", "hinton2006", "--runs", str(tmp_path), cwd=tmp_path)
    assert run.returncode == 1 and "holds no runs/ directory" in run.stderr
    # the CPU budget trains on all of MNIST: the tests' 20,000-image prefix is refused up front
    env = command_env(AELAB_DATA_DIR=str(_mnist_root() or tmp_path))
    run = run_module("aelab.repro", "hinton2006", "--budget", "cpu", cwd=tmp_path, env=env)
    (error,) = [ln for ln in run.stderr.splitlines() if ln.startswith("aelab: error:")]
    assert run.returncode == 1 and "point AELAB_DATA_DIR at the complete MNIST" in error
    assert not list(tmp_path.rglob("*.md")) and not (tmp_path / "logs").exists()
    # --help lists every table's budgets and what each costs
    run = run_module("aelab.repro", "--help", cwd=tmp_path)
    assert "hinton2006 --budget cpu: 54 min on 2 CPU cores" in run.stdout
    assert all(f"{name} --budget quick:" in run.stdout for name in tables())


RGB_TABLE = """
title: an RGB table
cite: none
protocol: a VAE on generated 3 x 64 x 64 images, FID under a classifier of the same images
dataset: [dataset=folder, "dataset.path={images}"]
columns:
  test/fid: FID, classifier features
needs_classifier: true
budgets:
  quick:
    seeds: [0]
    train: [trainer.max_epochs=1, logger=none]
    eval: [n_samples=64, parzen.enabled=false, probes.enabled=false, iwae_k=0]
    classifier: [trainer.max_epochs=1, logger=none]
rows:
  - method: VAE
    train: [model=vae, dataset=folder, "dataset.path={images}", model.latent_dim=8]
    eval: true
"""


def _rgb_folder(root: Path, per_class: int = 24) -> Path:
    """Two classes of 3 x 64 x 64 images: red-ish and blue-ish noise."""
    import numpy as np
    from PIL import Image

    rng = np.random.default_rng(0)
    for label, channel in (("red", 0), ("blue", 2)):
        (root / label).mkdir(parents=True)
        for i in range(per_class):
            pixels = rng.integers(0, 100, (64, 64, 3), dtype=np.uint8)
            pixels[..., channel] += 150
            Image.fromarray(pixels).save(root / label / f"{i}.png")
    return root


@pytest.mark.slow
def test_aelab_repro_scores_rgb_rows_with_features_of_their_own_data(tmp_path: Path) -> None:
    """A row on RGB images gets a classifier trained on those images (an MNIST classifier's
    first convolution takes one channel), and its FID is computed."""
    images = _rgb_folder(tmp_path / "images")
    table = tmp_path / "rgb.yaml"
    table.write_text(RGB_TABLE.format(images=images))
    out = tmp_path / "out"
    run = run_module("aelab.repro", str(table), "--out", str(out), cwd=tmp_path)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    rows = list(csv.DictReader((out / "rgb.csv").open()))
    assert rows[0]["status"] == "ok" and float(rows[0]["aelab_mean"]) > 0
    classifiers = [p.name for p in (out / "runs").glob("classifier*") if p.is_dir()]
    assert len(classifiers) == 1 and classifiers[0].startswith("classifier-folder-")
    summary = json.loads((out / "runs" / classifiers[0] / "summary.json").read_text())
    assert summary["choices"]["dataset"] == "folder"
