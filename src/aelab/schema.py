"""The schema of every config group: each node's keys and types come from the signature of
its ``_target_`` (walking up ``**kwargs`` to the base classes), its ranges from ``RANGES``.

So a new option of any group is checked as soon as its class has type hints, and the error
names the key, the value and what is allowed::

    model.latent_dim='eight' is not allowed: it must be an integer.
    prior_loss.n_critic=0 is not allowed: it must be an integer >= 1.
"""

from __future__ import annotations

import inspect
import types
import typing
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from hydra.utils import get_object
from omegaconf import DictConfig, ListConfig, OmegaConf
from omegaconf.errors import InterpolationResolutionError

from aelab.errors import ConfigError

HYDRA_KEYS = {"_target_", "_partial_", "_args_", "_recursive_", "_convert_"}


@dataclass(frozen=True)
class Range:
    """``low <= value <= high`` (``<`` where open); ``integer``: whole numbers only;
    ``also``: values allowed outside the range (``-1`` for "no limit")."""

    low: float | None = None
    high: float | None = None
    low_open: bool = False
    high_open: bool = False
    integer: bool = False
    also: tuple[Any, ...] = ()

    def admits(self, value: Any) -> bool:
        if value is None or value in self.also:
            return True
        if not _is_number(value) or (self.integer and not float(value).is_integer()):
            return False
        if self.low is not None and (value <= self.low if self.low_open else value < self.low):
            return False
        return self.high is None or (value < self.high if self.high_open else value <= self.high)

    def describe(self) -> str:
        what = "an integer" if self.integer else "a number"
        bounds = []
        if self.low is not None:
            bounds.append(f"{'>' if self.low_open else '>='} {self.low:g}")
        if self.high is not None:
            bounds.append(f"{'<' if self.high_open else '<='} {self.high:g}")
        text = f"{what} {' and '.join(bounds)}".strip()
        return text + "".join(f" (or {v})" for v in self.also)


POSITIVE_INT = Range(low=0, low_open=True, integer=True)
POSITIVE = Range(low=0, low_open=True)
NON_NEGATIVE = Range(low=0)
FRACTION = Range(low=0, high=1, low_open=True, high_open=True)
PROBABILITY = Range(low=0, high=1, high_open=True)
AT_LEAST_ONE = Range(low=1, integer=True)

# Dotted config key -> allowed range. A key the chosen option lacks is not checked.
RANGES: dict[str, Range] = {
    "seed": Range(low=0, integer=True),
    "model.latent_dim": POSITIVE_INT,
    "model.sigma": POSITIVE,
    "model.sigma_max": POSITIVE,
    "model.levels": AT_LEAST_ONE,
    "model.mask_prob": PROBABILITY,
    "model.langevin_steps": AT_LEAST_ONE,
    "model.step_size": POSITIVE,
    "model.iwae_samples": Range(low=0, integer=True),
    "model.iwae_chunk": POSITIVE_INT,
    "model.train_samples": AT_LEAST_ONE,
    "model.gradient_clip": POSITIVE,
    "model.n_classes": Range(low=2, integer=True),
    "network.sigma": POSITIVE,
    "network.channels": POSITIVE_INT,
    "prior.k": AT_LEAST_ONE,
    "prior.radius": POSITIVE,
    "prior.std": POSITIVE,
    "prior.scale": POSITIVE,
    "prior.noise": NON_NEGATIVE,
    "prior_loss.weight": NON_NEGATIVE,
    "prior_loss.n_critic": AT_LEAST_ONE,
    "prior_loss.gp_weight": NON_NEGATIVE,
    "prior_loss.clip": POSITIVE,
    "dataset.batch_size": POSITIVE_INT,
    "dataset.eval_batch_size": POSITIVE_INT,
    "dataset.n_samples": POSITIVE_INT,
    "dataset.limit": POSITIVE_INT,
    "dataset.val_fraction": FRACTION,
    "dataset.test_fraction": FRACTION,
    "dataset.image_size": POSITIVE_INT,
    "dataset.noise": NON_NEGATIVE,
    "optimizer.lr": POSITIVE,
    "optimizer.weight_decay": NON_NEGATIVE,
    "optimizer.momentum": PROBABILITY,
    "scheduler.factor": FRACTION,
    "scheduler.patience": Range(low=0, integer=True),
    "trainer.max_epochs": Range(low=1, integer=True, also=(-1,)),
    "trainer.max_steps": Range(low=1, integer=True, also=(-1,)),
    "trainer.log_every_n_steps": AT_LEAST_ONE,
    "trainer.check_val_every_n_epoch": AT_LEAST_ONE,
    "trainer.accumulate_grad_batches": AT_LEAST_ONE,
    "trainer.gradient_clip_val": POSITIVE,
    "trainer.limit_train_batches": NON_NEGATIVE,  # 0: no training (an untrained baseline)
    "trainer.limit_val_batches": NON_NEGATIVE,  # 0: no validation
    "trainer.limit_test_batches": NON_NEGATIVE,
}


# The top level of train.yaml: switches and paths, not objects.
TOP_LEVEL: dict[str, Any] = {
    "test": bool,
    "resume": bool,
    "compile": bool,
    "channels_last": bool,
    "ckpt_path": str | None,
    "optimized_metric": str | None,
}


def check(cfg: DictConfig) -> None:
    """Check every ``_target_`` node's keys and value types, then every ranged key; raise a
    one-sentence :class:`ConfigError` for the first problem."""
    for key, hint in TOP_LEVEL.items():
        if key in cfg and not _admits(value := cfg[key], hint):
            raise ConfigError(f"{key}={value!r} is not allowed: it must be {_describe(hint)}.")
    for key, allowed in RANGES.items():
        try:
            value = OmegaConf.select(cfg, key, default=None)
        except InterpolationResolutionError:
            continue
        if not allowed.admits(value) or isinstance(value, bool):
            raise ConfigError(f"{key}={value!r} is not allowed: it must be {allowed.describe()}.")
    for key, node in _target_nodes(cfg):
        _check_node(key, node)


def _target_nodes(node: DictConfig, prefix: str = "") -> Iterator[tuple[str, DictConfig]]:
    for key in node:
        child = node._get_node(key)  # unresolved: ${hydra:...} only resolves inside a run
        if key == "hydra" or not isinstance(child, DictConfig):
            continue
        path = f"{prefix}{key}"
        if "_target_" in child:
            yield path, child
        else:  # a group of named objects: callbacks.*, logger.*
            yield from _target_nodes(child, f"{path}.")


def _check_node(key: str, node: DictConfig) -> None:
    try:
        target = get_object(node._target_)
    except Exception as e:
        raise ConfigError(
            f"{key}._target_={node._target_!r} cannot be imported ({type(e).__name__}): fix the name or install its package."
        ) from e
    params, open_ended = _parameters(target)
    for name in node:
        if name in HYDRA_KEYS:
            continue
        if name not in params:
            if open_ended:
                continue
            allowed = ", ".join(sorted(p for p in params if p not in ("self", "data_shape")))
            raise ConfigError(
                f"{key}.{name} is not a setting of {node._target_}: use one of {allowed}."
            )
        hint = params[name]
        try:
            value = node[name]
        except InterpolationResolutionError:  # e.g. ${hydra:...} outside a Hydra run
            continue
        if isinstance(value, (DictConfig, ListConfig)):
            value = OmegaConf.to_object(value)
        if hint is not None and not _admits(value, hint):
            raise ConfigError(
                f"{key}.{name}={value!r} is not allowed: it must be {_describe(hint)}."
            )


def _parameters(target: Callable[..., Any]) -> tuple[dict[str, Any], bool]:
    """Parameter name -> type hint (``None``: not checked) of ``target``'s constructor and, while
    it forwards ``**kwargs``, of its base classes'; and whether unknown keys are still accepted."""
    inits = (
        [c.__dict__["__init__"] for c in target.__mro__ if "__init__" in c.__dict__]
        if inspect.isclass(target)
        else [target]
    )
    params: dict[str, Any] = {}
    for init in inits:
        try:
            signature = inspect.signature(init)
        except (TypeError, ValueError):
            return params, True
        try:
            hints = typing.get_type_hints(init)
        except Exception:  # unresolvable annotations: check names only
            hints = {}
        for name, p in signature.parameters.items():
            if p.kind not in (p.VAR_KEYWORD, p.VAR_POSITIONAL):
                params.setdefault(name, hints.get(name))
        if not any(p.kind == p.VAR_KEYWORD for p in signature.parameters.values()):
            return params, False
        if init.__qualname__.split(".")[0] in ("object", "Module", "LightningModule"):
            break
    return params, True


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _admits(value: Any, hint: Any) -> bool:
    """Whether a config value fits a type hint; hints this cannot judge admit anything."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if hint is typing.Any or isinstance(hint, typing.TypeVar):
        return True
    if origin in (typing.Union, types.UnionType):
        return any(_admits(value, a) for a in args)
    if origin is typing.Literal:
        return value in args
    if hint is type(None):
        return value is None
    if hint is bool:
        return isinstance(value, bool)
    if hint is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if hint is float:
        return _is_number(value)
    if hint is str:
        return isinstance(value, str)
    if origin in (list, tuple, Sequence, typing.Sequence) or hint in (list, tuple):
        if not isinstance(value, (list, tuple)):
            return False
        if origin is tuple and args and args[-1] is not Ellipsis:
            return len(args) == len(value) and all(map(_admits, value, args))
        item = args[0] if args else typing.Any
        return all(_admits(v, item) for v in value)
    return True


def _describe(hint: Any) -> str:
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        literals = [v for a in args if typing.get_origin(a) is typing.Literal for v in a.__args__]
        parts = [_describe(typing.Literal[tuple(dict.fromkeys(literals))])] if literals else []
        parts += [_describe(a) for a in args if typing.get_origin(a) is not typing.Literal]
        parts = [p for p in parts if p and p != "null"]
        text = " or ".join(dict.fromkeys(parts))
        return f"{text} or null" if type(None) in args else text
    if origin is typing.Literal:
        return "one of " + ", ".join(dict.fromkeys(map(str, args)))
    if hint is type(None):
        return "null"
    names = {bool: "true or false", int: "an integer", float: "a number", str: "a string"}
    if hint in names:
        return names[hint]
    if origin in (list, tuple, Sequence, typing.Sequence) or hint in (list, tuple):
        item = _describe(args[0]).removeprefix("a ").removeprefix("an ") if args else ""
        return f"a list of {item}s" if item else "a list"
    return ""  # a Python object (a tensor, a module): not something a config holds
