"""The assembly of a run: config nodes instantiated into the data module, the model with its
networks, prior and prior loss, and the loggers and callbacks. The entry points (train, eval,
sample) and the checkpoint reader sit on top of it."""

from __future__ import annotations

import functools
from typing import Any

import hydra
from omegaconf import DictConfig

from aelab.errors import ConfigError, user_cause

#: decoder likelihoods that need data in [0, 1]
UNIT_INTERVAL_LIKELIHOODS = ("bernoulli", "continuous_bernoulli")


def build(node: DictConfig | None, **kwargs: Any) -> Any:
    """Instantiate a config node; an empty group option (``none``) builds nothing."""
    if not node or "_target_" not in node:
        return None
    try:
        return hydra.utils.instantiate(node, **kwargs)
    except Exception as e:
        # a constructor's refusal is the user's sentence: Hydra wraps it in an
        # InstantiationException, which the Python API would otherwise raise instead
        cause = user_cause(e)
        if cause is None:
            raise
        raise cause from None


def build_all(group: DictConfig | None) -> list[Any]:
    """Instantiate each entry of a group of named objects (``callbacks``, ``logger``);
    ``callbacks.NAME=null`` switches one off."""
    return [obj for node in (group or {}).values() if (obj := build(node)) is not None]


def choose_likelihood(name: str | None, datamodule: Any) -> str:
    """The decoder likelihood for this data: ``auto`` is Bernoulli for data in [0, 1] and
    Gaussian otherwise; a likelihood on [0, 1] asked for data outside it is refused."""
    in_unit = getattr(datamodule, "in_unit_interval", True)
    if name in (None, "auto"):
        return "bernoulli" if in_unit else "gaussian"
    if name in UNIT_INTERVAL_LIKELIHOODS and not in_unit:
        lo, hi = datamodule.value_range
        raise ConfigError(
            f"network.likelihood={name} is a density on [0, 1], but this data set's values span "
            f"[{lo:.3g}, {hi:.3g}]: use network.likelihood=gaussian (or auto)."
        )
    return name


def build_model(cfg: DictConfig, datamodule: Any) -> Any:
    """The family's LightningModule with its network, optimizer, scheduler, prior and prior
    loss, for the data of ``datamodule``."""
    network = build(cfg.get("network"))
    if network is not None:
        likelihood = choose_likelihood(cfg.network.get("likelihood"), datamodule)
        network = functools.partial(network, likelihood=likelihood)
    return build(
        cfg.model,
        data_shape=datamodule.data_shape,
        network=network,
        optimizer=build(cfg.get("optimizer")),
        scheduler=build(cfg.get("scheduler")),
        prior=build(cfg.get("prior")),
        prior_loss=build(cfg.get("prior_loss")),
        # a config composed before the group existed keeps the model's default estimators
        **({"divergences": build(cfg.divergences)} if "divergences" in cfg else {}),
    )


def build_callbacks(cfg: DictConfig, choices: dict[str, str | None]) -> list[Any]:
    """The ``callbacks`` group's objects. A selection without a checkpoint (``callbacks=
    sample_grid``) keeps the default checkpointing: only ``callbacks=none`` (or
    ``callbacks.model_checkpoint=null``) turns checkpoints off, since resume and the scoring
    of the best epoch rely on them."""
    import logging
    import os

    from omegaconf import OmegaConf
    from pytorch_lightning.callbacks import ModelCheckpoint

    from aelab.config import config_dir

    group = cfg.get("callbacks") or {}
    callbacks = build_all(group)
    chosen = str(choices.get("callbacks") or "")
    if "none" in chosen or "model_checkpoint" in group:
        return callbacks
    if not any(isinstance(c, ModelCheckpoint) for c in callbacks):
        node = OmegaConf.load(config_dir() / "callbacks" / "model_checkpoint.yaml")
        node.model_checkpoint.dirpath = os.path.join(cfg.paths.output_dir, "checkpoints")
        callbacks.append(build(node.model_checkpoint))
        logging.getLogger(__name__).info(
            "callbacks=%s: checkpoints are kept as well (callbacks=none turns them off)", chosen
        )
    return callbacks
