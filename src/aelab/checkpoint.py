"""Reading a finished run back: a checkpoint written by ``aelab-train`` carries the composed
config it was trained with (``aelab_config``), so any family rebuilds from it alone."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
from lightning_fabric.plugins.io.torch_io import TorchCheckpointIO
from omegaconf import DictConfig, OmegaConf

from aelab.errors import AelabError

# What must agree between a checkpoint and a run that continues from it: the weights' shapes.
ARCHITECTURE = ("model._target_", "model.latent_dim", "network", "prior_loss._target_")


class AtomicCheckpointIO(TorchCheckpointIO):
    """Checkpoints written to a temporary file in their own directory, synced, then renamed
    into place, so a kill at any moment leaves the old checkpoint or the new one. (Lightning's
    own save renames from the system's temporary directory; where that is another file system
    the "rename" is a copy into place, which a kill can cut in half.)"""

    def save_checkpoint(
        self, checkpoint: dict[str, Any], path: Any, storage_options: Any = None
    ) -> None:
        from aelab.summary import open_atomic

        with open_atomic(path, "wb") as f:
            torch.save(checkpoint, f)


def run_checkpoint(run_dir: Path) -> Path | None:
    """A run directory's checkpoint: the one its summary scored (the best by the monitor),
    else ``checkpoints/last.ckpt``; ``None`` if it has neither."""
    import json

    summary = run_dir / "summary.json"
    if summary.is_file():
        best = json.loads(summary.read_text()).get("checkpoint")
        if best and Path(best).is_file():
            return Path(best)
    last = run_dir / "checkpoints" / "last.ckpt"
    return last if last.is_file() else None


def read_checkpoint(ckpt_path: str, key: str = "ckpt_path") -> tuple[dict[str, Any], DictConfig]:
    """The checkpoint (a ``.ckpt`` file, or a run directory: its :func:`run_checkpoint`) and
    the config it was trained with; one sentence if it is missing, truncated, corrupt, or not
    written by ``aelab-train``."""
    path = Path(ckpt_path).expanduser()
    if path.is_dir():
        found = run_checkpoint(path)
        if found is None:
            raise AelabError(
                f"{key}={str(path)!r} is a directory without checkpoints/last.ckpt: point it at a .ckpt file or at the directory of an aelab-train run that kept checkpoints."
            )
        path = found
    if not path.is_file():
        raise AelabError(
            f"{key}={str(path)!r} does not exist: point it at a .ckpt file of an aelab-train run."
        )
    try:
        ckpt = torch.load(path, map_location="cpu", weights_only=False)
        return ckpt, OmegaConf.create(ckpt["aelab_config"])
    except Exception as e:
        raise AelabError(
            f"{path} is not a readable aelab checkpoint ({type(e).__name__}), perhaps truncated: use another checkpoint written by aelab-train."
        ) from e


def check_compatible(ckpt_path: str, ckpt_cfg: DictConfig, cfg: DictConfig) -> None:
    """A run continues from a checkpoint only with the architecture it was trained with."""
    for key in ARCHITECTURE:
        was, now = OmegaConf.select(ckpt_cfg, key), OmegaConf.select(cfg, key)
        was = OmegaConf.to_container(was) if isinstance(was, DictConfig) else was
        now = OmegaConf.to_container(now, resolve=True) if isinstance(now, DictConfig) else now
        if was != now:
            raise AelabError(
                f"{ckpt_path} was trained with {key}={_short(was)}, this run has {key}={_short(now)}: continue it with the options it was trained with, or start a new run without ckpt_path/resume."
            )


def _short(value: Any) -> str:
    if isinstance(value, dict) and "_target_" in value:
        return str(value["_target_"])
    return str(value)


def load_model(ckpt_path: str | Path) -> tuple[Any, Any, DictConfig]:
    """The model and its data module, rebuilt from the config stored in the checkpoint (or a
    run directory's checkpoint)."""
    from aelab.assemble import build, build_model

    ckpt, run_cfg = read_checkpoint(str(ckpt_path))
    datamodule = build(run_cfg.dataset)
    model = build_model(run_cfg, datamodule)
    model.load_state_dict(ckpt["state_dict"])
    return model.eval(), datamodule, run_cfg
