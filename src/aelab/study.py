"""Optuna studies that resume honestly (``hparams_search=optuna_*``, hydra-optuna-sweeper).

A relaunch of a stored study must continue it, not replay it: the sampler's seed is offset by
the trials the study holds already (:func:`sampler_seed`), so a resumed TPE search proposes
new points. And a study compares trials only at one budget: the first launch records its
budget (epochs, data, family, objective) with the study, and a launch with another budget is
refused before any trial runs (:func:`check_budget`, from the multirun's start).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from omegaconf import DictConfig, OmegaConf

from aelab.errors import ConfigError

#: what a trial's value depends on besides the searched parameters
BUDGET_KEYS = (
    "trainer.max_epochs",
    "trainer.max_steps",
    "dataset._target_",
    "dataset.limit",
    "dataset.binarize",
    "model._target_",
    "optimized_metric",
)
BUDGET_ATTR = "aelab_budget"


def _sqlite_path(storage: str) -> Path | None:
    return Path(storage.removeprefix("sqlite:///")) if storage.startswith("sqlite:///") else None


def _trials(storage: str, study_name: str) -> int:
    path = _sqlite_path(storage)
    if path is not None and not path.is_file():
        return 0
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    try:
        return len(optuna.load_study(study_name=study_name, storage=storage).trials)
    except KeyError:  # no such study in the storage yet
        return 0


def sampler_seed(storage: str, study_name: str, seed: int) -> int:
    """``seed`` plus the number of trials the stored study has: a resumed study continues."""
    return int(seed) + _trials(str(storage), str(study_name))


def budget(cfg: DictConfig) -> dict[str, Any]:
    return {k: OmegaConf.select(cfg, k) for k in BUDGET_KEYS}


def check_budget(cfg: DictConfig) -> None:
    """Record this launch's budget with the study, or refuse one that differs from it."""
    sweeper = cfg.hydra.sweeper
    if "optuna" not in str(sweeper.get("_target_", "")) or not sweeper.get("storage"):
        return
    import optuna

    storage, name = str(sweeper.storage), str(sweeper.study_name)
    path = _sqlite_path(storage)
    if path is not None:
        os.makedirs(path.parent, exist_ok=True)
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    direction = "maximize" if str(sweeper.get("direction")) == "maximize" else "minimize"
    study = optuna.create_study(
        study_name=name, storage=storage, load_if_exists=True, direction=direction
    )
    now = budget(cfg)
    was = study.user_attrs.get(BUDGET_ATTR)
    if was is None:
        study.set_user_attr(BUDGET_ATTR, now)
        return
    changed = [k for k in BUDGET_KEYS if was.get(k) != now[k]]
    if changed:
        k = changed[0]
        raise ConfigError(
            f"study {name} in {storage} holds trials at {k}={was.get(k)}, this launch has {k}={now[k]}: "
            f"trials of different budgets do not compare; use hydra.sweeper.study_name=<a new name> or {k}={was.get(k)}."
        )
