"""The Python API, for notebooks: the commands' own functions, called without a shell.

>>> from aelab import api
>>> summary = api.train("model=vae", "trainer.max_epochs=5")   # what aelab-train returns
>>> run = api.load(summary["run_dir"])                          # model, data and config
>>> x = api.sample(run, n=64)                                   # what aelab-sample draws
>>> record = api.evaluate(summary["run_dir"], "n_samples=1000")  # what aelab-eval writes

(``aelab.train``, ``aelab.sample`` and ``aelab.eval`` are the commands' modules, hence a
module of its own.)

Each function composes the same Hydra config as its command (every override a command line
takes works here), writes the same files into a run directory, and raises
:class:`aelab.errors.AelabError` with the command's sentence where the command would exit 1.
"""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from omegaconf import DictConfig, OmegaConf


@dataclass
class Run:
    """A finished run read back: its model (in eval mode), data module and config."""

    model: Any
    datamodule: Any
    config: DictConfig


@contextmanager
def _composed(config_name: str, overrides: tuple[str, ...]):
    """The config a command composes from ``overrides``, with Hydra's runtime set as in a
    command-line run (its run directory made, ``.hydra/`` written: ``resume=<dir>`` works)."""
    from hydra import compose, initialize_config_dir
    from hydra.core.global_hydra import GlobalHydra
    from hydra.core.hydra_config import HydraConfig
    from hydra.types import RunMode

    from aelab.config import check_group_options, config_dir, register_resolvers

    register_resolvers()
    check_group_options(overrides)
    GlobalHydra.instance().clear()
    with initialize_config_dir(str(config_dir()), version_base="1.3"):
        cfg = compose(config_name, overrides=list(overrides), return_hydra_config=True)
        run_dir = Path(OmegaConf.select(cfg, "hydra.run.dir")).resolve()
        chosen = any(o.startswith(("hydra.run.dir=", "resume=")) for o in overrides)
        for n in range(1, 1000):  # two calls in one second: the time-stamped name is taken
            if chosen or not run_dir.exists():
                break
            run_dir = run_dir.with_name(f"{run_dir.name.split('+')[0]}+{n}")
        with _unlocked(cfg):
            cfg.hydra.runtime.output_dir = str(run_dir)
            cfg.hydra.mode = RunMode.RUN
        HydraConfig.instance().set_config(cfg)
        (run_dir / ".hydra").mkdir(parents=True, exist_ok=True)
        OmegaConf.save(list(overrides), run_dir / ".hydra" / "overrides.yaml")
        choices = dict(cfg.hydra.runtime.choices)
        with _unlocked(cfg):
            del cfg["hydra"]
        OmegaConf.save(cfg, run_dir / ".hydra" / "config.yaml")
        yield cfg, choices, run_dir


@contextmanager
def _unlocked(cfg: DictConfig):
    from omegaconf import open_dict, read_write

    with read_write(cfg), open_dict(cfg):
        yield


def train(*overrides: str) -> dict[str, Any]:
    """Train as ``aelab-train OVERRIDES`` does; the run's summary (``summary.json``) with its
    ``run_dir`` added."""
    from aelab.train import train as command

    with _composed("train", overrides) as (cfg, choices, run_dir):
        summary = command(cfg, choices)
    return {**summary, "run_dir": str(run_dir)}


def load(run: str | Path) -> Run:
    """A run directory (its scored checkpoint, else ``last.ckpt``) or a ``.ckpt`` file, read
    back into its model, data module and config."""
    from aelab.checkpoint import load_model

    return Run(*load_model(run))


def sample(run: Run | str | Path, n: int = 64, **options: Any) -> Any:
    """``n`` samples as ``aelab-sample`` draws them (``options``: its ``steps``,
    ``step_size``, ``start``, ``denoise``, ``seed``), as a tensor."""
    import torch

    from aelab.config import config_dir
    from aelab.sample import check_arguments, draw

    run = run if isinstance(run, Run) else load(run)
    cfg = OmegaConf.load(config_dir() / "sample.yaml")  # aelab-sample's defaults
    cfg = OmegaConf.merge(cfg, {"ckpt_path": "(loaded)", "n": n, **options})
    check_arguments(cfg)
    torch.manual_seed(cfg.seed)
    return draw(run.model, run.datamodule, cfg)


def evaluate(run: str | Path, *overrides: str) -> dict[str, Any]:
    """Score a run directory or checkpoint as ``aelab-eval`` does (``overrides``: its
    ``n_samples=``, ``iwae_k=``, ``classifier_ckpt=``, ...); the record of ``eval.json``."""
    from aelab.eval import evaluate as command

    with _composed("eval", (f"ckpt_path={run}", *overrides)) as (cfg, _, _):
        return command(cfg)
