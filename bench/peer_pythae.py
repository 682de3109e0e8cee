"""aelab against a peer library, pythae (Chadebec et al. 2022), on the same work.

Both train the same network (aelab's ``network=mlp`` builder, same sizes, same seed: pythae
gets it wrapped in its ``BaseEncoder`` / ``BaseDecoder`` interfaces), on the same MNIST
training split, with Adam(1e-3), batch 128, for the same number of epochs, alternating in
one process. Each side's figure is training samples per second of wall clock over its whole
training call: ``aelab.train.train`` (data set-up, fit, checkpoint) and pythae's
``BaseTrainer.train`` (its set-up, epochs, final save), neither with evaluation; and over
the training loop alone (aelab's ``TrainThroughput`` window, pythae's ``train_step`` epochs).

Models both libraries have, and how their objectives are matched:

- ``vae``: aelab ``model=vae`` (Bernoulli likelihood, BCE on logits) vs pythae ``VAE``
  (``reconstruction_loss="bce"`` on sigmoid outputs); both sum over pixels, analytic KL.
- ``ae``: aelab ``model=ae network.likelihood=gaussian`` vs pythae ``AE`` (MSE).
- ``wae_mmd``: aelab ``model=ae prior_loss=mmd network.likelihood=gaussian`` vs pythae
  ``WAE_MMD`` (IMQ kernel), both MSE plus an MMD penalty against N(0, I).

pythae's ``Adversarial_AE`` is not compared: its batch is one combined autoencoder step and
one discriminator step, aelab's ``aae`` three phases, so they do different work.

    pip install -e ".[bench]"
    AELAB_DATA_DIR=/work/shared/data python bench/peer_pythae.py --models vae ae wae_mmd
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
import throughput  # noqa: E402  (bench/ is not a package)

# model -> (aelab overrides, pythae model and config class names, pythae config kwargs)
MODELS: dict[str, tuple[list[str], str, str, dict[str, Any]]] = {
    "vae": (["model=vae"], "VAE", "VAEConfig", {"reconstruction_loss": "bce"}),
    "ae": (["model=ae", "network.likelihood=gaussian"], "AE", "AEConfig", {}),
    "wae_mmd": (
        ["model=ae", "prior_loss=mmd", "network.likelihood=gaussian"],
        "WAE_MMD",
        "WAE_MMD_Config",
        {"kernel_choice": "imq", "reg_weight": 10.0, "kernel_bandwidth": 1.0},
    ),
}


def _pythae_networks(cfg: Any, data_shape: tuple[int, ...], n_params: int, bce: bool):
    """aelab's encoder and decoder behind pythae's interfaces."""
    import hydra
    from pythae.models.base.base_utils import ModelOutput
    from pythae.models.nn import BaseDecoder, BaseEncoder

    encoder, decoder = hydra.utils.instantiate(cfg.network)(
        data_shape=data_shape, latent_dim=cfg.model.latent_dim, n_params=n_params
    )

    class Encoder(BaseEncoder):
        def __init__(self) -> None:
            super().__init__()
            self.net = encoder

        def forward(self, x: torch.Tensor) -> ModelOutput:
            h = self.net(x)
            if n_params == 1:
                return ModelOutput(embedding=h)
            mu, logvar = h.chunk(2, dim=-1)
            return ModelOutput(embedding=mu, log_covariance=logvar)

    class Decoder(BaseDecoder):
        def __init__(self) -> None:
            super().__init__()
            self.net = decoder

        def forward(self, z: torch.Tensor) -> ModelOutput:
            out = self.net(z)
            return ModelOutput(reconstruction=torch.sigmoid(out) if bce else out)

    return Encoder(), Decoder()


def run_pythae(name: str, cfg: Any, data: tuple[torch.Tensor, torch.Tensor], epochs: int):
    import pythae.models as models
    from pythae.data.datasets import BaseDataset
    from pythae.trainers import BaseTrainer, BaseTrainerConfig

    _, model_cls, config_cls, extra = MODELS[name]
    x = data[0].float().div(255) if data[0].dtype == torch.uint8 else data[0]
    data_shape = tuple(x.shape[1:])
    torch.manual_seed(0)
    encoder, decoder = _pythae_networks(
        cfg, data_shape, 2 if name == "vae" else 1, bce=extra.get("reconstruction_loss") == "bce"
    )
    model_config = getattr(models, config_cls)(
        input_dim=data_shape, latent_dim=cfg.model.latent_dim, **extra
    )
    model = getattr(models, model_cls)(model_config=model_config, encoder=encoder, decoder=decoder)
    with tempfile.TemporaryDirectory(prefix="pythae-bench-") as tmp:
        training_config = BaseTrainerConfig(
            output_dir=tmp,
            num_epochs=epochs,
            learning_rate=1e-3,
            per_device_train_batch_size=cfg.dataset.batch_size,
            optimizer_cls="Adam",
            no_cuda=True,
        )
        trainer = BaseTrainer(
            model=model,
            train_dataset=BaseDataset(x, data[1]),
            training_config=training_config,
        )
        epoch_seconds: list[float] = []
        train_step = trainer.train_step

        def timed_train_step(epoch: int) -> Any:  # one epoch of pythae's training loop
            start = time.perf_counter()
            out = train_step(epoch)
            epoch_seconds.append(time.perf_counter() - start)
            return out

        trainer.train_step = timed_train_step
        start = time.perf_counter()
        with throughput.quiet():
            trainer.train()
        seconds = time.perf_counter() - start
    return {
        "loop": epochs * len(x) / sum(epoch_seconds),
        "call": epochs * len(x) / seconds,
    }


def run_aelab(name: str, args: argparse.Namespace, n: int) -> dict[str, float]:
    overrides = [o for o in MODELS[name][0] if not o.startswith("model=")]
    result = throughput.run_suite(args, overrides)
    return {"loop": result["samples_per_s"], "call": args.epochs * n / result["wall_s"]}


def main(argv: list[str] | None = None) -> dict[str, Any]:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--models", nargs="+", default=list(MODELS), choices=list(MODELS))
    p.add_argument("--epochs", type=int, default=2)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--threads", type=int, default=None)
    args = p.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    results = {}
    for name in args.models:
        model = MODELS[name][0][0].split("=")[1]
        bench_args = throughput.parse_args(
            ["--model", model, "--dataset", "mnist", "--epochs", str(args.epochs)]
        )
        with tempfile.TemporaryDirectory() as tmp:
            cfg, _ = throughput.compose(bench_args, tmp, MODELS[name][0][1:])
        data = throughput.train_data(cfg)
        sides: dict[str, dict[str, list[float]]] = {
            side: {"loop": [], "call": []} for side in ("aelab", "pythae")
        }
        for r in range(args.repeats):
            for side in ("aelab", "pythae") if r % 2 == 0 else ("pythae", "aelab"):
                rates = (
                    run_aelab(name, bench_args, len(data[0]))
                    if side == "aelab"
                    else run_pythae(name, cfg, data, args.epochs)
                )
                for clock, rate in rates.items():
                    sides[side][clock].append(rate)
                print(
                    f"  {name} repeat {r + 1} {side:6s} training loop {rates['loop']:9.1f} samples/s,"
                    f" whole call {rates['call']:9.1f} samples/s",
                    flush=True,
                )
        results[name] = {}
        for clock in ("loop", "call"):
            a, p = (throughput.summarize(sides[s][clock]) for s in ("aelab", "pythae"))
            results[name][clock] = {
                "aelab": a,
                "pythae": p,
                "ratio": round(a["median"] / p["median"], 2),
            }
            print(f"{name} {clock}: aelab / pythae = {results[name][clock]['ratio']}", flush=True)
    return results


if __name__ == "__main__":
    main()
