"""Reading a finished run back: a checkpoint written by ``aelab-train`` carries the composed
config it was trained with (``aelab_config``), so any family rebuilds from it alone."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
from omegaconf import DictConfig, OmegaConf

from aelab.errors import AelabError


def load_model(ckpt_path: str) -> tuple[Any, Any, DictConfig]:
    """The model and its data module, rebuilt from the config stored in the checkpoint."""
    from aelab.train import build, build_model

    path = Path(ckpt_path).expanduser()
    if not path.is_file():
        raise AelabError(
            f"ckpt_path={str(path)!r} does not exist: point it at a .ckpt file of a finished run."
        )
    try:
        ckpt = torch.load(path, map_location="cpu", weights_only=False)
        run_cfg = OmegaConf.create(ckpt["aelab_config"])
    except Exception as e:
        raise AelabError(
            f"{path} is not a readable aelab checkpoint ({type(e).__name__}): use a checkpoint written by aelab-train."
        ) from e
    datamodule = build(run_cfg.dataset)
    model = build_model(run_cfg, datamodule.data_shape)
    model.load_state_dict(ckpt["state_dict"])
    return model.eval(), datamodule, run_cfg
