"""Where the suite's training step loses time against the hand-written loop.

Runs the suite's real training path (``bench/throughput.py``'s ``run_suite``) with variants
of ``AutoencoderModule.training_step`` patched in at run time (``src/`` is not edited), and
the hand-written loop, round-robin ``--repeats`` times in one process. Each variant drops one
piece of per-step work; the difference in ms/step (CPU time, so less sensitive to other
load) is what that piece costs.

    AELAB_DATA_DIR=/work/shared/data python bench/throughput_ablation.py --threads 1
"""

from __future__ import annotations

import statistics
import sys
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import torch

from aelab.models.base import AutoencoderModule

sys.path.insert(0, str(Path(__file__).resolve().parent))
import throughput as tp  # noqa: E402

Step = Callable[[AutoencoderModule, Any, int], torch.Tensor]
REAL: Step = AutoencoderModule.training_step


def _no_train_bce(self: AutoencoderModule, batch: Any, batch_idx: int) -> torch.Tensor:
    """As now, but the training ReconstructionError skips its binary cross-entropy."""
    self.recon["train_error"].with_bce = False
    return REAL(self, batch, batch_idx)


def _no_train_metric(self: AutoencoderModule, batch: Any, batch_idx: int) -> torch.Tensor:
    """As now, without ``self.recon["train_error"].update``."""
    loss, logs, _ = self.step(batch[0])
    self.log("train/loss", loss, prog_bar=True)
    self.log_dict({f"train/{k}": v for k, v in logs.items()})
    return loss


def _no_log(self: AutoencoderModule, batch: Any, batch_idx: int) -> torch.Tensor:
    """As now, without ``self.log`` / ``self.log_dict``."""
    x = batch[0]
    loss, _, x_hat = self.step(x)
    self.recon["train_error"].update(x_hat, x)
    return loss


def _no_bce_log_every_n(self: AutoencoderModule, batch: Any, batch_idx: int) -> torch.Tensor:
    """Proposed: no training BCE, and ``self.log`` every ``trainer.log_every_n_steps`` batches."""
    self.recon["train_error"].with_bce = False
    x = batch[0]
    loss, logs, x_hat = self.step(x)
    self.recon["train_error"].update(x_hat, x)
    if batch_idx % self.trainer.log_every_n_steps == 0:
        self.log("train/loss", loss, prog_bar=True)
        self.log_dict({f"train/{k}": v for k, v in logs.items()})
    return loss


def _loss_only(self: AutoencoderModule, batch: Any, batch_idx: int) -> torch.Tensor:
    """Only the loss: no reconstruction (sigmoid), metric or logging; Lightning's loop remains."""
    x = batch[0]
    return self.decoder.likelihood.nll(self.decode(self.encode(x)), x).mean()


# name -> (training_step, extra Hydra overrides)
VARIANTS: dict[str, tuple[Step, list[str]]] = {
    "suite as is": (REAL, []),
    "+ RichProgressBar": (
        REAL,
        [
            "+callbacks.progress_bar._target_=pytorch_lightning.callbacks.RichProgressBar",
            "++trainer.enable_progress_bar=true",
        ],
    ),
    "- train BCE": (_no_train_bce, []),
    "- train metric": (_no_train_metric, []),
    "- self.log": (_no_log, []),
    "- BCE, log every n": (_no_bce_log_every_n, []),
    "loss only": (_loss_only, []),
}


def main(argv: Sequence[str] | None = None) -> dict[str, list[float]]:
    """Run every variant and the hand loop ``--repeats`` times; print ms/step against the hand loop."""
    args = tp.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    with tempfile.TemporaryDirectory() as tmp:
        cfg, _ = tp.compose(args, tmp)
    data = tp.train_data(cfg)
    tp.run_hand(cfg, data, max_steps=args.warmup_steps)
    tp.run_suite(args, [f"++trainer.max_steps={args.warmup_steps}"])
    print(
        f"threads={torch.get_num_threads()} batch_size={args.batch_size} epochs={args.epochs}",
        flush=True,
    )

    res: dict[str, list[float]] = {name: [] for name in [*VARIANTS, "hand loop"]}
    try:
        for r in range(args.repeats):
            for name, (step, extra) in VARIANTS.items():
                AutoencoderModule.training_step = step
                res[name].append(tp.run_suite(args, extra)["cpu_samples_per_s"])
            AutoencoderModule.training_step = REAL
            res["hand loop"].append(tp.run_hand(cfg, data)["cpu_samples_per_s"])
            print(
                f"  round {r + 1}: " + ", ".join(f"{k} {v[-1]:.0f}" for k, v in res.items()),
                flush=True,
            )
    finally:
        AutoencoderModule.training_step = REAL

    hand = statistics.median(res["hand loop"])
    print(
        f"\n{'variant':20s} {'samples/CPU-s':>13s} {'ms/step':>8s} {'- hand':>7s} {'ratio':>6s}   runs"
    )
    for name, runs in res.items():
        m = statistics.median(runs)
        ms, ms_hand = 1e3 * args.batch_size / m, 1e3 * args.batch_size / hand
        print(
            f"{name:20s} {m:13.0f} {ms:8.2f} {ms - ms_hand:7.2f} {m / hand:6.3f}   {[round(x) for x in runs]}"
        )
    return res


if __name__ == "__main__":
    main()
