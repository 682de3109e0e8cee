"""``aelab-eval ckpt_path=...``: every metric that applies to a trained model, on its test split.

aelab-eval ckpt_path=logs/train/runs/<time>/checkpoints/last.ckpt
aelab-eval ckpt_path=... classifier_ckpt=logs/train/runs/<time>/checkpoints/last.ckpt iwae_k=5000

The family's own test metrics come from Lightning's test loop with the training callbacks
(reconstruction, the ``divergences`` yardstick of q(z) against p(z), ``mmd_data``, score
quality, ``nll_iwae``); then, for models that generate, the Parzen-window log-likelihood of
``n_samples`` samples (Goodfellow et al. 2014 protocol), FID/KID, precision, recall, density
and coverage (Kynkaanniemi et al. 2019; Naeem et al. 2020) and class coverage under a
classifier's (or Inception's) features; for models with an encoder, linear-probe, k-NN and clustering accuracy of the codes.
Writes ``eval.json``, ``samples.png`` and ``reconstructions.png`` to the run directory.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import hydra
import torch
from omegaconf import DictConfig, OmegaConf

from aelab.config import config_dir, register_resolvers
from aelab.errors import AelabError
from aelab.train import user_errors


@torch.no_grad()
def _codes(model: Any, x: torch.Tensor, batch_size: int = 1000) -> torch.Tensor:
    from aelab.data import as_float

    return torch.cat(
        [model.encode(as_float(b).to(model.device)).cpu() for b in x.split(batch_size)]
    )


def generative_metrics(model: Any, datamodule: Any, cfg: DictConfig, out: Path) -> dict[str, float]:
    """Parzen, FID/KID, precision/recall/density/coverage, class coverage and sample diversity
    of ``cfg.n_samples`` samples (the feature metrics under each feature extractor)."""
    from aelab.callbacks.images import image_grid
    from aelab.data import as_float
    from aelab.metrics.features import classifier_from_checkpoint, extract, inception_features
    from aelab.metrics.fid import feature_distances
    from aelab.metrics.parzen import GOODFELLOW_GRID, parzen_log_likelihood
    from aelab.metrics.precision_recall import precision_recall
    from aelab.metrics.sample_classes import class_coverage, feature_diversity

    torch.manual_seed(cfg.seed)
    samples = torch.cat(
        [model.generate(len(c)).float().cpu() for c in torch.arange(cfg.n_samples).split(1000)]
    )
    test, val = (as_float(datamodule.splits[s][0]) for s in ("test", "val"))
    metrics: dict[str, float] = {}
    if datamodule.is_image:
        from torchvision.utils import save_image

        save_image(image_grid(samples[:64], 8), out / "samples.png")
    if cfg.parzen.enabled:
        grid = cfg.parzen.bandwidths or GOODFELLOW_GRID
        metrics.update(parzen_log_likelihood(samples, test, val[: cfg.parzen.n_val], list(grid)))
    extractors = {}
    if cfg.classifier_ckpt:
        classifier = classifier_from_checkpoint(cfg.classifier_ckpt).to(model.device)
        extractors["classifier"] = classifier.features
        logits = extract(classifier, samples, model.device)
        metrics.update(class_coverage(logits, classifier.n_classes))
    if cfg.inception and datamodule.is_image:
        extractors["inception"] = inception_features(str(cfg.inception)).to(model.device)
    others = other_image_sets(model, datamodule, cfg) if extractors else {}
    for name, features in extractors.items():
        real, fake = extract(features, test, model.device), extract(features, samples, model.device)
        suffix = "" if name == "classifier" else f"_{name}"
        scores = {**feature_distances(real, fake), **precision_recall(real, fake, cfg.prdc_k)}
        metrics.update({f"{k}{suffix}": v for k, v in scores.items()})
        metrics[f"sample_diversity{suffix}"] = feature_diversity(fake, real)
        for kind, images in others.items():
            other = extract(features, images, model.device)
            metrics[f"fid_{kind}{suffix}"] = feature_distances(real, other)["fid"]
    return metrics


@torch.no_grad()
def other_image_sets(model: Any, datamodule: Any, cfg: DictConfig) -> dict[str, torch.Tensor]:
    """Ghosh et al. 2020's further FIDs (``fid_of``): ``recon``, the test images'
    reconstructions; ``gmm``, the decoder's means at ``n_samples`` draws from a Gaussian
    mixture fitted to the codes of (up to ``probes.n_train``) training images."""
    from aelab.data import as_float
    from aelab.sampling.expost import fit_code_mixture, mixture_draws

    sets = {}
    test = as_float(datamodule.splits["test"][0])
    if cfg.fid_of.reconstructions and hasattr(model, "reconstruct"):
        sets["recon"] = torch.cat(
            [model.reconstruct(b.to(model.device)).cpu() for b in test.split(1000)]
        )
    if cfg.fid_of.gmm_components and hasattr(model, "encode"):
        codes = _codes(model, datamodule.splits["train"][0][: cfg.probes.n_train])
        mixture = fit_code_mixture(codes, cfg.fid_of.gmm_components, cfg.seed)
        z = mixture_draws(mixture, cfg.n_samples, cfg.seed)
        sets["gmm"] = torch.cat(
            [model.decode_mean(c.to(model.device)).cpu() for c in z.split(1000)]
        )
    return sets


def scored_checkpoint(ckpt_path: str) -> Path:
    from aelab.checkpoint import run_checkpoint

    path = Path(ckpt_path).expanduser()
    return (run_checkpoint(path) or path) if path.is_dir() else path


def evaluate(cfg: DictConfig) -> dict[str, Any]:
    """Score the checkpoint; return the evaluation record (also written to ``eval.json``)."""
    import pytorch_lightning as pl

    from aelab.assemble import build_all
    from aelab.checkpoint import load_model
    from aelab.metrics.probes import code_probes
    from aelab.summary import print_metrics_table, versions, write_json_atomic

    start = time.perf_counter()
    if (cfg.fid_of.reconstructions or cfg.fid_of.gmm_components) and not (
        cfg.classifier_ckpt or cfg.inception
    ):
        raise AelabError(
            "fid_of needs features to compute its FIDs with: give classifier_ckpt=<a model=classifier checkpoint> or inception=fid."
        )
    model, datamodule, run_cfg = load_model(cfg.ckpt_path)
    datamodule.setup("test")
    if cfg.iwae_k is not None:
        if cfg.iwae_k and not hasattr(model, "iwae_samples"):  # iwae_k=0 (off) fits any model
            raise AelabError(
                f"iwae_k={cfg.iwae_k} applies to model=vae only, and this checkpoint is {run_cfg.model._target_}: drop iwae_k."
            )
        if hasattr(model, "iwae_samples"):
            model.iwae_samples = cfg.iwae_k
    pl.seed_everything(cfg.seed, verbose=False)
    trainer = pl.Trainer(
        accelerator=cfg.accelerator,
        devices=1,
        logger=False,
        callbacks=build_all(cfg.callbacks),
        enable_progress_bar=False,
        enable_model_summary=False,
    )
    metrics = {
        k: float(v) for r in trainer.test(model, datamodule, verbose=False) for k, v in r.items()
    }
    model.eval()
    out = Path(cfg.paths.output_dir)
    if getattr(model, "can_generate", False):
        metrics.update(
            {f"test/{k}": v for k, v in generative_metrics(model, datamodule, cfg, out).items()}
        )
    labels = datamodule.splits["train"][1]
    if cfg.probes.enabled and hasattr(model, "encode") and bool((labels >= 0).all()):
        n = cfg.probes.n_train
        (x_train, y_train), (x_test, y_test) = datamodule.splits["train"], datamodule.splits["test"]
        probes = code_probes(
            _codes(model, x_train[:n]),
            y_train[:n],
            _codes(model, x_test),
            y_test,
            cfg.probes.k_neighbours,
            cfg.probes.n_clusters,
            cfg.seed,
        )
        metrics.update({f"test/{k}": v for k, v in probes.items()})
    if datamodule.is_image and hasattr(model, "reconstruct"):
        from torchvision.utils import save_image

        from aelab.callbacks.images import image_grid, label_rows
        from aelab.data import as_float

        x = as_float(datamodule.splits["test"][0][:32]).to(model.device)
        rows = max(1, len(x) // 8)  # rows of 8 test images, each above its reconstructions
        x = x[: rows * 8]
        with torch.no_grad():
            shape = (rows, -1, *x.shape[1:])
            pairs = torch.cat([x.view(shape), model.reconstruct(x).view(shape)], 1)
        grid = image_grid(pairs.flatten(0, 1), pairs.shape[1] // 2)
        save_image(label_rows(grid, ["data", "recon"] * rows), out / "reconstructions.png")
    record = {
        "status": "completed",
        "metrics": dict(sorted(metrics.items())),
        "vectors": dict(sorted(getattr(model, "latent_vectors", {}).items())),  # kl_per_dim
        "ckpt_path": str(scored_checkpoint(cfg.ckpt_path).resolve()),
        "model": run_cfg.model.get("_target_"),
        "dataset": run_cfg.dataset.get("_target_"),
        "eval_config": OmegaConf.to_container(cfg, resolve=True),
        "wall_time_s": round(time.perf_counter() - start, 3),
        "versions": versions(),
    }
    path = write_json_atomic(os.path.join(out, "eval.json"), record)
    print_metrics_table(metrics, title=f"aelab-eval {cfg.ckpt_path}")
    print(f"eval: {path}")
    return record


register_resolvers()


@hydra.main(version_base="1.3", config_path=str(config_dir()), config_name="eval")
def main(cfg: DictConfig) -> None:
    with user_errors():
        if OmegaConf.is_missing(cfg, "ckpt_path"):
            raise AelabError(
                "ckpt_path has no value: give ckpt_path=<a run directory or its .ckpt file>."
            )
        evaluate(cfg)


if __name__ == "__main__":
    main()
