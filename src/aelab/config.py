"""Checks of the composed config that run before anything is built or trained.

Each failure is a :class:`~aelab.errors.ConfigError` of one sentence naming the key, the
value and what is allowed.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from pathlib import Path

import yaml
from hydra.utils import get_class
from omegaconf import DictConfig

from aelab import schema
from aelab.errors import ConfigError


def config_dir() -> Path:
    """``conf/`` of a source checkout or editable install, else the copy inside the wheel."""
    checkout = Path(__file__).resolve().parents[2] / "conf"
    return checkout if checkout.is_dir() else Path(__file__).resolve().parent / "conf"


def options(group: str) -> list[str]:
    """The options of a config group a user may choose: files beginning with ``_`` are shared
    parts of the others (``dataset/_split.yaml``), not options."""
    return sorted(
        p.stem for p in (config_dir() / group).glob("*.yaml") if not p.stem.startswith("_")
    )


def groups_help() -> str:
    """``aelab-train --help``'s list of groups and their options (Hydra's own would offer the
    shared ``_`` parts too)."""
    groups = sorted(p.name for p in config_dir().iterdir() if p.is_dir() and p.name != "hydra")
    return "\n".join(f"{g}: {', '.join(options(g))}" for g in groups if options(g))


def check_group_options(overrides: Sequence[str]) -> None:
    """A ``GROUP=OPTION`` whose option is no file of ``conf/GROUP/`` (Hydra's own message is a
    dozen lines ending in its search path): one sentence naming the options, before Hydra
    composes. A command line that adds a search path (``hydra.searchpath``, ``--config-dir``),
    which may hold more options, and a malformed override are left to Hydra."""
    from hydra.core.override_parser.overrides_parser import OverridesParser

    if any(o.lstrip("+~").startswith("hydra.searchpath") for o in overrides) or any(
        o.split("=")[0] in ("-cd", "--config-dir", "-cp", "--config-path") for o in overrides
    ):
        return
    overrides = [o for o in overrides if "=" in o and not o.startswith("-")]  # not -m, --cfg
    try:
        parsed = OverridesParser.create().parse_overrides(overrides)
    except Exception:  # Hydra names the malformed override itself
        return
    for override in parsed:
        group = override.key_or_group
        if (
            override.is_delete()
            or override.package
            or group.split("/")[0] == "hydra"
            or not (config_dir() / group).is_dir()
        ):
            continue
        try:
            values = (
                list(override.sweep_string_iterator())
                if override.is_sweep_override()
                else [override.value()]
            )
        except Exception:  # a glob sweep: Hydra expands and checks it
            continue
        for value in values:
            if isinstance(value, str) and not (config_dir() / group / f"{value}.yaml").is_file():
                raise ConfigError(
                    f"{group}={value} is not an option of {group}: use one of {', '.join(options(group))}."
                )


def register_resolvers() -> None:
    from omegaconf import OmegaConf

    if not OmegaConf.has_resolver("aelab_groups"):
        OmegaConf.register_new_resolver("aelab_groups", groups_help)
    if not OmegaConf.has_resolver("aelab_study_seed"):
        from aelab.study import sampler_seed

        OmegaConf.register_new_resolver("aelab_study_seed", sampler_seed)


def _check_missing(cfg: DictConfig, choices: dict[str, str | None]) -> None:
    """A mandatory value (``???``) left unset, such as ``dataset=tensor``'s path."""
    from omegaconf import OmegaConf

    def walk(node: DictConfig, prefix: str):  # without resolving interpolations
        for key in node:
            if OmegaConf.is_missing(node, key):
                yield f"{prefix}{key}"
            elif isinstance(child := node._get_node(key), DictConfig) and key != "hydra":
                yield from walk(child, f"{prefix}{key}.")

    missing = sorted(walk(cfg, ""))
    if missing:
        key = missing[0]
        group = key.split(".")[0]
        by = f" (needed by {group}={choices[group]})" if choices.get(group) else ""
        raise ConfigError(f"{key} has no value{by}: give it on the command line, {key}=VALUE.")


def _check_choices(choices: dict[str, str | None]) -> None:
    for group, choice in choices.items():
        if (
            isinstance(choice, str)
            and Path(choice).name.startswith("_")
            and (config_dir() / group).is_dir()
        ):
            raise ConfigError(
                f"{group}={choice} is a part shared by the {group} options, not an option: use one of {', '.join(options(group))}."
            )


@cache
def families() -> dict[str, type]:
    """``model=`` choice -> LightningModule class, read from ``conf/model/*.yaml``."""
    out = {}
    for path in sorted((config_dir() / "model").glob("*.yaml")):
        target = (yaml.safe_load(path.read_text()) or {}).get("_target_")
        if target:
            out[path.stem] = get_class(target)
    return out


def validate(cfg: DictConfig, choices: dict[str, str | None]) -> None:
    """Raise a one-sentence :class:`ConfigError` for the first problem found: each group's
    keys, types and ranges (:mod:`aelab.schema`), then the checks across groups."""
    _check_choices(choices)
    _check_missing(cfg, choices)
    schema.check(cfg)
    if cfg.get("prior") and cfg.prior.get("dim") != cfg.model.latent_dim:
        raise ConfigError(
            f"prior.dim={cfg.prior.get('dim')} differs from model.latent_dim={cfg.model.latent_dim}: leave prior.dim at its default ${{model.latent_dim}}."
        )
    _check_family(cfg, choices)
    _check_prior(cfg, choices)
    _check_trainer(cfg)


def _check_trainer(cfg: DictConfig) -> None:
    """The accelerator's devices exist; the trainer's switches agree with the callbacks."""
    trainer = cfg.trainer
    accelerator = str(trainer.get("accelerator", "auto"))
    if accelerator in ("gpu", "cuda"):
        import torch

        have = torch.cuda.device_count()
        want = trainer.get("devices", 1)
        if have == 0:
            raise ConfigError(
                f"trainer.accelerator={accelerator} but no CUDA GPU is visible: use trainer=cpu, or run where a GPU is."
            )
        if isinstance(want, int) and want > have:
            raise ConfigError(
                f"trainer.devices={want} but only {have} GPU(s) are visible: use trainer.devices={have} or fewer (or -1 for all)."
            )
    callbacks = cfg.get("callbacks") or {}
    if trainer.get("enable_progress_bar") is False and callbacks.get("progress_bar"):
        raise ConfigError(
            "trainer.enable_progress_bar=false conflicts with callbacks.progress_bar: set callbacks.progress_bar=null instead."
        )
    if trainer.get("enable_checkpointing") is False and callbacks.get("model_checkpoint"):
        raise ConfigError(
            "trainer.enable_checkpointing=false conflicts with callbacks.model_checkpoint: set callbacks.model_checkpoint=null instead."
        )


def _target_class(node: DictConfig | None) -> type | None:
    return get_class(node._target_) if node and "_target_" in node else None


def _model_name(cfg: DictConfig, choices: dict[str, str | None]) -> str:
    family = get_class(cfg.model._target_)
    return choices.get("model") or next(
        (n for n, c in families().items() if c is family), cfg.model._target_
    )


def _check_family(cfg: DictConfig, choices: dict[str, str | None]) -> None:
    """The family (``model._target_``) must accept the prior loss (the loss class's ``name``)."""
    family = get_class(cfg.model._target_)
    model = _model_name(cfg, choices)
    loss_class = _target_class(cfg.get("prior_loss"))
    loss = loss_class.name if loss_class else "none"
    if loss in getattr(family, "prior_losses", (loss,)):
        return
    others = [name for name, cls in families().items() if loss in cls.prior_losses]
    instead = f"use prior_loss={' or '.join(family.prior_losses)} with model={model}"
    if others:
        instead += f", or model={' or '.join(others)} for prior_loss={loss}"
    raise ConfigError(f"model={model} does not take prior_loss={loss}: {instead}.")


def _check_prior(cfg: DictConfig, choices: dict[str, str | None]) -> None:
    """The prior suits the family and the prior loss: a DAE or classifier takes none, every
    prior loss and the prior-matching families need one, and the VAE's KL and IWAE bound need
    a density that is positive on all of R^d."""
    family = get_class(cfg.model._target_)
    model = _model_name(cfg, choices)
    prior_class = _target_class(cfg.get("prior"))
    prior = choices.get("prior") or (prior_class.__name__ if prior_class else "none")
    loss_class = _target_class(cfg.get("prior_loss"))
    if prior_class is not None and not getattr(family, "takes_prior", True):
        raise ConfigError(
            f"model={model} takes no latent prior ({family.takes_prior_reason}): drop prior={prior} or use prior=none."
        )
    if prior_class is None and (getattr(family, "needs_prior", False) or loss_class is not None):
        who = f"prior_loss={loss_class.name}" if loss_class is not None else f"model={model}"
        raise ConfigError(
            f"{who} matches the codes to a latent prior, and prior=none gives it none: use prior=gaussian, mixture, swiss_roll or uniform."
        )
    if (
        prior_class is not None
        and getattr(family, "needs_prior_density", False)
        and not prior_class.density_everywhere
    ):
        from aelab.priors import Prior

        why = (
            "has no closed-form density"
            if prior_class.log_prob is Prior.log_prob
            else "is zero outside its support, where the Gaussian encoder puts mass, so the KL is infinite"
        )
        raise ConfigError(
            f"model={model} needs a prior density on all of R^d for its KL and IWAE bound, and prior={prior} {why}: use prior=gaussian or prior=mixture, or match prior={prior} with samples (model=aae, model=wae, or model=ae prior_loss=mmd)."
        )
