"""The ready-made sweeps: W&B sweep files name options that compose, and a multirun job's
W&B run is grouped by sweep and setting (seeds share a group)."""

from __future__ import annotations

from pathlib import Path

import hydra
import pytest
import yaml
from hydra.core.hydra_config import HydraConfig
from omegaconf import open_dict

from aelab.config import config_dir, validate
from aelab.loggers import multirun_names

WANDB_SWEEPS = sorted((Path(__file__).parents[2] / "sweeps" / "wandb").glob("*.yaml"))


def _compose(overrides: list[str], hydra_config: bool = False):
    with hydra.initialize_config_dir(config_dir=str(config_dir()), version_base="1.3"):
        return hydra.compose("train", overrides=overrides, return_hydra_config=hydra_config)


@pytest.mark.parametrize("path", WANDB_SWEEPS, ids=[p.stem for p in WANDB_SWEEPS])
def test_wandb_sweep_files_run_aelab_train_with_overrides_that_compose(path: Path) -> None:
    sweep = yaml.safe_load(path.read_text())
    assert sweep["program"] == "aelab-train" and "${args_no_hyphens}" in sweep["command"]
    assert sweep["method"] in ("grid", "random", "bayes")
    overrides = []
    for key, spec in sweep["parameters"].items():
        value = spec["values"][0] if "values" in spec else spec.get("value", spec.get("min"))
        overrides.append(f"{key}={value}")
    cfg = _compose(overrides)
    choices = {k: v for k, v in (o.split("=") for o in overrides) if "." not in k}
    model = choices.get("model", "ae")
    family_loss = {"vae": "kl", "aae": "jsd", "wae": "wasserstein"}.get(model, "none")
    validate(cfg, {"model": model, "prior_loss": family_loss, **choices})


def test_multirun_jobs_share_a_wandb_group_across_seeds() -> None:
    names = []
    for seed in (0, 1):
        cfg = _compose([], hydra_config=True)
        with open_dict(cfg):
            cfg.hydra.mode = "MULTIRUN"
            cfg.hydra.overrides.task = ["model=vae", f"seed={seed}"]
            cfg.hydra.sweep.dir = "logs/train/multiruns/2026-11-25_18-00-00"
        HydraConfig.instance().set_config(cfg)
        names.append(multirun_names())
    HydraConfig.instance().cfg = None
    (group0, name0), (group1, name1) = names
    assert group0 == group1 == "2026-11-25_18-00-00 model=vae"
    assert (name0, name1) == ("model=vae seed=0", "model=vae seed=1")


def test_the_wandb_sweep_files_are_there() -> None:
    assert [p.stem for p in WANDB_SWEEPS] == ["bayes", "grid", "random"]
