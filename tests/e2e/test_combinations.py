"""Every family x prior x prior loss either trains or is refused before training: one
multirun of the real command over all 175 combinations (one batch each, 2-d codes so that
every prior applies), read back from ``sweep_summary.json`` and stderr."""

from __future__ import annotations

import json
import re

import pytest

from conftest import run_module

MODELS = ("ae", "pca", "vae", "aae", "wae", "dae", "classifier")
PRIORS = ("gaussian", "mixture", "swiss_roll", "uniform", "none")
PRIOR_LOSSES = ("none", "kl", "mmd", "jsd", "wasserstein")


@pytest.mark.slow
def test_every_combination_trains_or_is_refused_with_one_sentence(tmp_path):
    sweep = tmp_path / "sweep"
    proc = run_module(
        "aelab.train",
        "-m",
        f"model={','.join(MODELS)}",
        f"prior={','.join(PRIORS)}",
        f"prior_loss={','.join(PRIOR_LOSSES)}",
        "model.latent_dim=2",
        "trainer=debug",
        "logger=none",
        "callbacks=none",
        "divergences=none",  # the yardstick is tested elsewhere; here each job only has to start
        "dataset.limit=64",
        "dataset.eval_batch_size=64",
        f"hydra.sweep.dir={sweep}",
        cwd=tmp_path,
    )
    assert proc.returncode == 1  # a multirun with failed jobs ends non-zero
    summary = json.loads((sweep / "sweep_summary.json").read_text())
    assert summary["jobs"] == len(MODELS) * len(PRIORS) * len(PRIOR_LOSSES)
    outcome = {}
    for run in summary["runs"]:
        choice = dict(o.split("=", 1) for o in run["overrides"][:3])
        key = (choice["model"], choice["prior"], choice["prior_loss"])
        outcome[key] = run["status"]
        if run["status"] == "failed":
            error = run["error"]
            # one sentence, on stderr as the user sees it, that says what to use instead
            assert "\n" not in error and error.endswith("."), error
            assert re.search(r"\b(use|drop)\b", error), error
            assert f"aelab: error: {error}" in proc.stderr
    completed = {k for k, v in outcome.items() if v == "completed"}
    # each family trains with its own prior losses on a prior it can use ...
    assert {
        ("ae", "gaussian", "none"),
        ("ae", "swiss_roll", "mmd"),
        ("pca", "none", "none"),
    } <= completed
    assert {("vae", "gaussian", "kl"), ("vae", "mixture", "mmd")} <= completed
    for family in ("aae", "wae"):
        for prior in ("gaussian", "mixture", "swiss_roll", "uniform"):
            assert {(family, prior, "jsd"), (family, prior, "wasserstein")} <= completed
    assert {("dae", "none", "none"), ("classifier", "none", "none")} <= completed
    # ... and is refused where the combination means nothing
    refused = {
        ("vae", "swiss_roll", "kl"),  # no density for the KL
        ("vae", "uniform", "kl"),  # bounded support: an infinite KL
        ("vae", "uniform", "mmd"),  # the ELBO and IWAE bound still need the density
        ("dae", "gaussian", "none"),  # a DAE has no latent prior
        ("ae", "none", "mmd"),  # nothing to match
        ("ae", "gaussian", "kl"),
    }
    assert not refused & completed
    assert len(completed) == 36
