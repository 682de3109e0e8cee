"""``aelab-train``: compose the config, build the parts, fit, validate, test, write the summary.

aelab-train                                  # autoencoder on digits
aelab-train model=pca dataset=mnist
aelab-train -m experiment=hinton2006 model=ae,pca
aelab-train --help                           # groups and options
"""

from __future__ import annotations

import logging
import os
import sys
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import hydra
from omegaconf import DictConfig, OmegaConf

from aelab.assemble import build, build_all, build_callbacks, build_model
from aelab.config import check_group_options, config_dir, register_resolvers, validate
from aelab.console import print_config_tree, quiet
from aelab.errors import AelabError, ConfigError, DivergedError, disk_error, user_cause

log = logging.getLogger(__name__)


def _choices() -> dict[str, str | None]:
    from hydra.core.hydra_config import HydraConfig

    return dict(HydraConfig.get().runtime.choices) if HydraConfig.initialized() else {}


def _group_choices(choices: dict[str, str | None]) -> dict[str, str | None]:
    """The option chosen in each of aelab's config groups (Hydra's own left out)."""
    return {k: v for k, v in choices.items() if k != "hydra" and not k.startswith("hydra/")}


def _report_divergence(
    cfg: DictConfig, choices: dict[str, str | None], error: Exception, wall_s: float
) -> None:
    """Mark the run ``diverged`` in ``summary.json`` (no metrics; ``wall_s`` counts the
    processes before a resume too), name the last good checkpoint, and stop with one sentence."""
    from pathlib import Path

    from aelab.summary import versions, write_json_atomic

    last = Path(cfg.paths.output_dir) / "checkpoints" / "last.ckpt"
    checkpoint = str(last) if last.is_file() else None
    summary = {
        "status": "diverged",
        "error": str(error),
        "diverged_at_step": getattr(error, "step", None),
        "metrics": {},
        "choices": _group_choices(choices),
        "seed": cfg.get("seed"),
        "wall_time_s": round(wall_s, 3),
        "checkpoint": checkpoint,
        "versions": versions(),
    }
    write_json_atomic(Path(cfg.paths.output_dir) / "summary.json", summary)
    kept = (
        f"the last good checkpoint is {checkpoint}"
        if checkpoint
        else "no epoch finished, so no checkpoint was kept"
    )
    lr = OmegaConf.select(cfg, "optimizer.lr")
    raise AelabError(
        f"{error}; summary.json says diverged and {kept}: lower optimizer.lr (now {lr})."
    ) from error


def checkpoint_to_resume(cfg: DictConfig) -> tuple[str | None, int | None]:
    """``ckpt_path=PATH``, or with ``resume=true`` this run directory's ``last.ckpt``: the
    checkpoint training continues from (every optimizer, scheduler, loop counter and the
    random streams are restored) and its logged step; ``(None, None)`` for a fresh run.
    ``resume=true`` in a directory without a checkpoint yet (a run killed in its first epoch)
    starts from the beginning."""
    from pathlib import Path

    from aelab.checkpoint import check_compatible, read_checkpoint

    if cfg.get("ckpt_path"):
        path = str(Path(cfg.ckpt_path).expanduser())
    elif cfg.get("resume"):
        last = Path(cfg.paths.output_dir) / "checkpoints" / "last.ckpt"
        if not last.is_file():
            log.warning(
                "resume=true: no checkpoint in %s yet, starting from the beginning", last.parent
            )
            return None, None
        path = str(last)
    else:
        return None, None
    ckpt, ckpt_cfg = read_checkpoint(path)
    check_compatible(path, ckpt_cfg, cfg)
    return path, logged_step(ckpt)


def logged_step(ckpt: dict[str, Any]) -> int:
    """The step the loggers had reached at a checkpoint. Lightning's loggers count batches
    (``_batches_that_stepped``), not ``global_step``: a manually optimized family takes several
    optimizer steps per batch (the AAE 4 with n_critic=2), and truncating the history at its
    ``global_step`` kept rows past the checkpoint that the resumed run then logged again."""
    loop = ckpt.get("loops", {}).get("fit_loop", {}).get("epoch_loop.state_dict", {})
    return int(loop.get("_batches_that_stepped", ckpt.get("global_step", 0)))


def completed_summary(cfg: DictConfig) -> dict[str, Any] | None:
    """With ``resume=true``, the summary of a run directory that already completed: such a
    run is left as it is."""
    import json
    from pathlib import Path

    path = Path(cfg.paths.output_dir) / "summary.json"
    if not cfg.get("resume") or not path.is_file():
        return None
    summary = json.loads(path.read_text())
    return summary if summary.get("status") == "completed" else None


def train(cfg: DictConfig, choices: dict[str, str | None] | None = None) -> dict[str, Any]:
    """Run one experiment; return its summary (also written to ``summary.json``)."""
    start = time.perf_counter()
    choices = _choices() if choices is None else choices
    validate(cfg, choices)  # before the heavy imports: a typo fails in a second
    done = completed_summary(cfg)
    if done is not None:
        print(
            f"{cfg.paths.output_dir} completed already (summary.json), so it is left as it is; "
            "to train it longer, start a new run with ckpt_path=<its last.ckpt> trainer.max_epochs=N."
        )
        return done
    resume_from, resume_step = checkpoint_to_resume(cfg)
    quiet()
    if cfg.get("print_config") and os.environ.get("LOCAL_RANK", "0") == "0":
        print_config_tree(cfg, choices, os.path.join(cfg.paths.output_dir, "config_tree.log"))

    import pytorch_lightning as pl
    import torch

    from aelab.callbacks import TrainThroughput
    from aelab.checkpoint import AtomicCheckpointIO
    from aelab.summary import print_metrics_table, versions, write_json_atomic

    if cfg.get("seed") is not None:  # `is not None`: seed=0 is a seed
        pl.seed_everything(cfg.seed, workers=True, verbose=False)

    datamodule = build(cfg.dataset)
    model = build_model(cfg, datamodule)
    if cfg.get("channels_last"):
        model = model.to(memory_format=torch.channels_last)
    if cfg.get("compile"):
        model.compile_networks()
    model.run_config = OmegaConf.to_container(cfg, resolve=True)
    loggers = build_all(cfg.get("logger"))
    for logger in loggers:
        if hasattr(logger, "resume_at"):  # keep the history up to the checkpoint, or none
            logger.resume_at(resume_step)
    throughput = TrainThroughput(started=start)
    callbacks = [*build_callbacks(cfg, choices), throughput]
    try:
        trainer: pl.Trainer = build(
            cfg.trainer,
            logger=loggers or False,
            callbacks=callbacks,
            plugins=[AtomicCheckpointIO()],
        )
    except Exception as e:  # Lightning's own checks of accelerator, strategy, precision, ...
        reason = str(e.__cause__ or e).strip().splitlines()[-1]
        raise ConfigError(
            f"Lightning rejected the trainer config ({reason}): fix the trainer.* value it names."
        ) from e
    group_choices = _group_choices(choices)
    for logger in loggers:  # the choices too: W&B and aelab-compare group runs by them
        logger.log_hyperparams({**model.run_config, "choices": group_choices})

    try:
        trainer.fit(model, datamodule=datamodule, ckpt_path=resume_from)
    except DivergedError as e:
        _report_divergence(cfg, choices, e, throughput.wall_s())
    if trainer.interrupted:
        raise AelabError("training was interrupted, so no summary was written; rerun to get one.")
    best = trainer.checkpoint_callback.best_model_path if trainer.checkpoint_callback else ""
    ckpt_path = best or None  # score the checkpoint the monitor chose, else the last weights
    metrics: dict[str, float] = {}
    for results in (
        trainer.validate(model, datamodule=datamodule, ckpt_path=ckpt_path, verbose=False),
        trainer.test(model, datamodule=datamodule, ckpt_path=ckpt_path, verbose=False)
        if cfg.get("test", True)
        else [],
    ):
        for result in results:
            metrics.update({k: float(v) for k, v in result.items()})

    summary = {
        "status": "debug" if trainer.fast_dev_run else "completed",
        "metrics": dict(sorted(metrics.items())),
        "vectors": dict(sorted(getattr(model, "latent_vectors", {}).items())),  # kl_per_dim
        "choices": group_choices,
        "seed": cfg.get("seed"),
        # with a resume, the earlier processes' time up to the checkpoint is added
        "wall_time_s": round(throughput.wall_s(), 3),
        "train_samples_per_s": round(throughput.samples_per_s, 1),
        "epochs": trainer.current_epoch,
        "checkpoint": best or None,
        "versions": versions(),
    }
    if trainer.is_global_zero:
        path = write_json_atomic(os.path.join(cfg.paths.output_dir, "summary.json"), summary)
        print_metrics_table(
            metrics, title=f"model={choices.get('model')} dataset={choices.get('dataset')}"
        )
        print(f"summary: {path}")
    return summary


@contextmanager
def user_errors():
    """Print an :class:`AelabError` as one sentence and exit 1; full traceback with
    HYDRA_FULL_ERROR=1. In a multirun the error is printed and the job recorded as failed
    instead, and the sweep goes on with the next job (:mod:`aelab.sweep`)."""
    quiet()
    try:
        yield
    except Exception as e:
        cause = user_cause(e) or disk_error(e, _output_dir())
        if cause is None or os.environ.get("HYDRA_FULL_ERROR") == "1":
            raise
        print(f"aelab: error: {cause}", file=sys.stderr)
        if not _multirun():
            sys.exit(1)
        from aelab.sweep import record_failure

        record_failure(str(cause))  # the sweep goes on, and ends non-zero
    finally:
        from aelab.loggers import finish_wandb

        finish_wandb()


def _output_dir() -> str | None:
    from hydra.core.hydra_config import HydraConfig

    return HydraConfig.get().runtime.output_dir if HydraConfig.initialized() else None


def _multirun() -> bool:
    from hydra.core.hydra_config import HydraConfig
    from hydra.types import RunMode

    return HydraConfig.initialized() and HydraConfig.get().mode == RunMode.MULTIRUN


def resume_arguments(argv: list[str]) -> list[str]:
    """``resume=<run dir>``: the command line that continues that run, its own overrides (from
    its ``.hydra/overrides.yaml``) replayed, with ``hydra.run.dir`` and ``resume=true``; the
    user's other arguments are kept and win over the replayed ones."""
    import yaml

    given = [a for a in argv if a.startswith("resume=")]
    if not given:
        return argv
    value = given[-1].split("=", 1)[1]
    if value.lower() in ("true", "false", "null", "0", "1", ""):
        return argv
    run_dir = Path(value).expanduser()
    recorded = run_dir / ".hydra" / "overrides.yaml"
    if not recorded.is_file():
        print(
            f"aelab: error: resume={value} is neither true/false nor a run directory of "
            f"aelab-train ({recorded} is missing): use resume=<the directory that holds "
            "summary.json or checkpoints/>, or resume=true with hydra.run.dir=<it>.",
            file=sys.stderr,
        )
        sys.exit(1)
    rest = [a for a in argv if not a.startswith("resume=")]
    keys = {a.split("=", 1)[0].lstrip("+~") for a in rest if "=" in a}
    replay = [
        o
        for o in yaml.safe_load(recorded.read_text()) or []
        if o.split("=", 1)[0].lstrip("+~") not in keys | {"resume", "hydra.run.dir"}
    ]
    return [*replay, *rest, f"hydra.run.dir={run_dir.resolve()}", "resume=true"]


def cli() -> None:
    """The ``aelab-train`` command: :func:`main` after :func:`resume_arguments`."""
    sys.argv[1:] = resume_arguments(sys.argv[1:])
    with user_errors():
        check_group_options(sys.argv[1:])
    main()


register_resolvers()  # before Hydra composes: --help lists the groups through one


@hydra.main(version_base="1.3", config_path=str(config_dir()), config_name="train")
def main(cfg: DictConfig) -> float | None:
    """Entry point of ``aelab-train``; returns ``cfg.optimized_metric`` for sweepers."""
    with user_errors():
        summary = train(cfg)
        metric = cfg.get("optimized_metric")
        return summary["metrics"].get(metric) if metric else None
    return float("nan")  # a failed multirun job (recorded as such): a sweeper's failed trial


if __name__ == "__main__":
    cli()
