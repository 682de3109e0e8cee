"""Checks of the composed config that run before anything is built or trained.

Each failure is a :class:`~aelab.errors.ConfigError` of one sentence naming the key, the
value and what is allowed.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import yaml
from hydra.utils import get_class
from omegaconf import DictConfig

from aelab.errors import ConfigError


def config_dir() -> Path:
    """``conf/`` of a source checkout or editable install, else the copy inside the wheel."""
    checkout = Path(__file__).resolve().parents[2] / "conf"
    return checkout if checkout.is_dir() else Path(__file__).resolve().parent / "conf"


@cache
def families() -> dict[str, type]:
    """``model=`` choice -> LightningModule class, read from ``conf/model/*.yaml``."""
    out = {}
    for path in sorted((config_dir() / "model").glob("*.yaml")):
        target = (yaml.safe_load(path.read_text()) or {}).get("_target_")
        if target:
            out[path.stem] = get_class(target)
    return out


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _positive(cfg: DictConfig, key: str, kind: type = int) -> None:
    value = cfg
    for part in key.split("."):
        if not isinstance(value, DictConfig) or part not in value:
            return  # not every group has every key
        value = value[part]
    if value is None:
        return
    ok = _is_number(value) and value > 0
    if kind is int:
        ok = ok and float(value).is_integer()
    if not ok:
        what = "a positive integer" if kind is int else "a positive number"
        raise ConfigError(f"{key}={value!r} is not allowed: it must be {what}.")


def validate(cfg: DictConfig, choices: dict[str, str | None]) -> None:
    """Raise a one-sentence :class:`ConfigError` for the first problem found."""
    for key in (
        "model.latent_dim",
        "dataset.batch_size",
        "dataset.eval_batch_size",
        "dataset.n_samples",
        "dataset.limit",
    ):
        _positive(cfg, key)
    _positive(cfg, "optimizer.lr", float)
    for key in ("dataset.val_fraction", "dataset.test_fraction"):
        value = cfg.dataset.get(key.split(".")[1])
        if value is not None and not (_is_number(value) and 0 < value < 1):
            raise ConfigError(
                f"{key}={value!r} is not allowed: it must lie strictly between 0 and 1."
            )
    epochs = cfg.trainer.get("max_epochs")
    if epochs is not None and (
        not _is_number(epochs) or not isinstance(epochs, int) or epochs < -1 or epochs == 0
    ):
        raise ConfigError(
            f"trainer.max_epochs={epochs!r} is not allowed: use a positive integer (or -1 for no limit)."
        )
    seed = cfg.get("seed")
    if seed is not None and (not _is_number(seed) or not isinstance(seed, int) or seed < 0):
        raise ConfigError(
            f"seed={seed!r} is not allowed: use a non-negative integer, or seed=null for no seeding."
        )
    if cfg.get("prior") and cfg.prior.get("dim") != cfg.model.latent_dim:
        raise ConfigError(
            f"prior.dim={cfg.prior.get('dim')} differs from model.latent_dim={cfg.model.latent_dim}: leave prior.dim at its default ${{model.latent_dim}}."
        )
    _check_family(cfg, choices)


def _check_family(cfg: DictConfig, choices: dict[str, str | None]) -> None:
    """The family (``model._target_``) must accept the prior loss (the loss class's ``name``)."""
    family = get_class(cfg.model._target_)
    model = choices.get("model") or next(
        (n for n, c in families().items() if c is family), cfg.model._target_
    )
    node = cfg.get("prior_loss")
    loss = get_class(node._target_).name if node and "_target_" in node else "none"
    if loss in getattr(family, "prior_losses", (loss,)):
        return
    others = [name for name, cls in families().items() if loss in cls.prior_losses]
    instead = f"use prior_loss={' or '.join(family.prior_losses)} with model={model}"
    if others:
        instead += f", or model={' or '.join(others)} for prior_loss={loss}"
    raise ConfigError(f"model={model} does not take prior_loss={loss}: {instead}.")
