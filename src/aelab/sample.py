"""``aelab-sample ckpt_path=... n=64``: draw samples from a trained model of any family.

A denoising autoencoder samples by Langevin dynamics on its learned score
(x <- x + step * score(x) + sqrt(2 step) z, from uniform noise, Gaussian noise or noisy
data; annealed over its noise ladder when it was trained on several levels); every other
family decodes prior draws. Writes ``samples.png`` (images) or, for 2-D
data, ``samples_scatter.png`` (samples over the test data) and, for a DAE,
``score_field.png`` (a quiver plot of the learned score), plus ``samples.pt``.
"""

from __future__ import annotations

import os
from pathlib import Path

import hydra
import torch
from omegaconf import DictConfig

from aelab.config import config_dir, register_resolvers
from aelab.errors import AelabError
from aelab.train import user_errors


@torch.no_grad()
def draw(model, datamodule, cfg: DictConfig) -> torch.Tensor:
    """``cfg.n`` samples; a DAE's chains start where ``cfg.start`` says."""
    from aelab.data import as_float

    if not model.can_generate:
        raise AelabError(
            "this model has nothing to sample from: train model=vae, aae, wae, dae (gaussian corruption), or ae with a prior."
        )
    if not hasattr(model, "score"):
        return model.generate(cfg.n)
    shape = (cfg.n, *model.data_shape)
    if cfg.start == "uniform":
        x0 = None  # the model's own start: uniform over its training data's range
    elif cfg.start == "gaussian":
        x0 = torch.randn(shape)
    elif cfg.start == "data":
        x0 = as_float(datamodule.splits["test"][0][: cfg.n]) + model.sigmas[0] * torch.randn(shape)
    else:
        raise AelabError(f"start={cfg.start!r} is not allowed: use uniform, gaussian or data.")
    return model.generate(cfg.n, x0, cfg.steps, cfg.step_size, cfg.denoise)


@torch.no_grad()
def save_pictures(model, datamodule, samples: torch.Tensor, out: Path) -> list[Path]:
    written = [out / "samples.pt"]
    torch.save(samples, written[0])
    if samples.dim() == 4:
        from torchvision.utils import save_image

        from aelab.callbacks.images import image_grid

        save_image(image_grid(samples, 8), out / "samples.png")
        return [*written, out / "samples.png"]
    if samples.shape[1] != 2:
        return written
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    data = datamodule.splits["test"][0]
    fig, ax = plt.subplots(figsize=(5, 5), dpi=100)
    ax.scatter(data[:, 0], data[:, 1], s=2, c="lightgrey", label="test data")
    ax.scatter(samples[:, 0], samples[:, 1], s=2, c="tab:red", label="samples")
    ax.legend(loc="upper right")
    fig.savefig(out / "samples_scatter.png")
    plt.close(fig)
    written.append(out / "samples_scatter.png")
    if hasattr(model, "score"):
        lo, hi = data.min(0).values - 0.5, data.max(0).values + 0.5
        g0, g1 = torch.linspace(lo[0], hi[0], 25), torch.linspace(lo[1], hi[1], 25)
        grid = torch.cartesian_prod(g0, g1)
        field = model.score(grid)
        fig, ax = plt.subplots(figsize=(5, 5), dpi=100)
        ax.scatter(data[:, 0], data[:, 1], s=1, c="lightgrey")
        ax.quiver(grid[:, 0], grid[:, 1], field[:, 0], field[:, 1], color="tab:blue")
        ax.set_title(f"learned score (r(x) - x) / sigma^2, sigma = {model.sigma}")
        fig.savefig(out / "score_field.png")
        plt.close(fig)
        written.append(out / "score_field.png")
    return written


def check_arguments(cfg: DictConfig) -> None:
    """One sentence for an argument that cannot work, before the checkpoint is read."""
    from omegaconf import OmegaConf

    if OmegaConf.is_missing(cfg, "ckpt_path"):
        raise AelabError(
            "ckpt_path has no value: give ckpt_path=<a run directory or its .ckpt file>."
        )
    if not isinstance(cfg.n, int) or cfg.n < 1:
        raise AelabError(
            f"n={cfg.n!r} is not allowed: it must be an integer >= 1 (samples to draw)."
        )
    if cfg.steps is not None and (not isinstance(cfg.steps, int) or cfg.steps < 1):
        raise AelabError(
            f"steps={cfg.steps!r} is not allowed: it must be an integer >= 1, or null."
        )
    if cfg.step_size is not None and not (
        isinstance(cfg.step_size, int | float) and cfg.step_size > 0
    ):
        raise AelabError(
            f"step_size={cfg.step_size!r} is not allowed: it must be a number > 0, or null."
        )


register_resolvers()


@hydra.main(version_base="1.3", config_path=str(config_dir()), config_name="sample")
def main(cfg: DictConfig) -> None:
    with user_errors():
        check_arguments(cfg)
        torch.manual_seed(cfg.seed)
        from aelab.checkpoint import load_model

        model, datamodule, _ = load_model(cfg.ckpt_path)
        samples = draw(model, datamodule, cfg)
        out = Path(cfg.paths.output_dir)
        for path in save_pictures(model, datamodule, samples, out):
            print(f"wrote {os.path.relpath(path)}")


if __name__ == "__main__":
    main()
