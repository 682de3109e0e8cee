"""A quiet console: only what concerns the user's run. Lightning's advertising tip, library
deprecation notices the user cannot act on, and notes that restate what aelab does on
purpose (the checkpoint it scores, a resumed run's existing checkpoint directory, PCA's
closed-form fit without an optimizer) are filtered out; everything else passes."""

from __future__ import annotations

import logging
import re
import warnings

NOISE = (
    r".*try installing \[lit",  # "Tip: ... try installing litlogger / litmodels"
    r".*`isinstance\(treespec, LeafSpec\)` is deprecated",
    r"Restoring states from the checkpoint path",  # validate/test of the chosen checkpoint
    r"Loaded model weights from the checkpoint",
    r"Checkpoint directory .* exists and is not empty",  # resume=true continues in it
    r".*`LightningModule.configure_optimizers` returned `None`",  # PCA fits in closed form
    r"The anonymous setting has no effect",  # W&B, passed by Lightning's WandbLogger
)
_pattern = re.compile("|".join(f"(?:{n})" for n in NOISE), re.DOTALL)


class _DropNoise(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return not _pattern.match(record.getMessage())


def quiet() -> None:
    """Install the filters (idempotent); call before Lightning logs or warns."""
    for message in NOISE:
        warnings.filterwarnings("ignore", message=message)
    # filters act where a record is made: Lightning logs its notes through these two
    for name in ("pytorch_lightning.utilities.rank_zero", "lightning_fabric.utilities.rank_zero"):
        logger = logging.getLogger(name)
        if not any(isinstance(f, _DropNoise) for f in logger.filters):
            logger.addFilter(_DropNoise())


def print_config_tree(cfg, choices: dict, save_to: str | None = None) -> None:
    """The composed config as a tree, one branch per group labelled with its chosen option
    (as lightning-hydra-template prints it), on the console and in ``save_to``."""
    import rich
    import rich.syntax
    import rich.tree
    from omegaconf import DictConfig, OmegaConf

    tree = rich.tree.Tree("config", guide_style="dim")
    scalars = {}
    for key, value in cfg.items():
        if key == "hydra":
            continue
        if not isinstance(value, DictConfig):
            scalars[key] = value
            continue
        label = f"{key} ({choices[key]})" if choices.get(key) else str(key)
        yaml = OmegaConf.to_yaml(value, resolve=True).rstrip()
        tree.add(label).add(rich.syntax.Syntax(yaml, "yaml", theme="ansi_dark"))
    yaml = OmegaConf.to_yaml(OmegaConf.create(scalars), resolve=True).rstrip()
    tree.add("run").add(rich.syntax.Syntax(yaml, "yaml", theme="ansi_dark"))
    rich.print(tree)
    if save_to:
        from rich.console import Console

        with open(save_to, "w") as file:
            Console(file=file, width=100).print(tree)
