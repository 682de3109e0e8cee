"""Lightning's own cost per training step: a trivial model (Linear(4, 4), batch of one) fit
by ``pl.Trainer`` against the same steps in a plain loop, so that the step's compute is
negligible and the difference is the framework's loop (hooks, closure, progress tracking).

This is the floor under every suite/hand ratio in ``results.md``: a step of duration T
cannot run faster than T + this overhead under Lightning's automatic optimization.

    python bench/lightning_overhead.py --steps 3000 --repeats 3
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytorch_lightning as pl
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
import throughput  # noqa: E402  (bench/ is not a package)


class _Tiny(pl.LightningModule):
    def __init__(self) -> None:
        super().__init__()
        self.net = torch.nn.Linear(4, 4)

    def training_step(self, batch: tuple[torch.Tensor], batch_idx: int) -> torch.Tensor:
        return self.net(batch[0]).pow(2).mean()

    def configure_optimizers(self) -> torch.optim.Optimizer:
        return torch.optim.Adam(self.parameters())


class _Batches:
    """Batches of one row (an iterable: a list would read as several data loaders)."""

    def __init__(self, x: torch.Tensor) -> None:
        self.x = x

    def __iter__(self) -> Iterator[tuple[torch.Tensor]]:
        for i in range(len(self.x)):
            yield (self.x[i : i + 1],)

    def __len__(self) -> int:
        return len(self.x)


def lightning_us(x: torch.Tensor, checkpointing: bool) -> float:
    with tempfile.TemporaryDirectory(prefix="aelab-lightning-overhead-") as tmp:
        trainer = pl.Trainer(
            max_epochs=1,
            logger=False,
            enable_progress_bar=False,
            enable_model_summary=False,
            enable_checkpointing=checkpointing,
            accelerator="cpu",
            default_root_dir=tmp,
        )
        model, batches = _Tiny(), _Batches(x)
        start = time.perf_counter()
        trainer.fit(model, batches)
        return (time.perf_counter() - start) / len(x) * 1e6


def hand_us(x: torch.Tensor) -> float:
    net = torch.nn.Linear(4, 4)
    opt = torch.optim.Adam(net.parameters())
    start = time.perf_counter()
    for (b,) in _Batches(x):
        loss = net(b).pow(2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    return (time.perf_counter() - start) / len(x) * 1e6


def main(argv: list[str] | None = None) -> dict[str, float]:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--steps", type=int, default=3000)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--threads", type=int, default=1)
    args = p.parse_args(argv)
    x = torch.randn(args.steps, 4)
    runs: dict[str, list[float]] = {"lightning": [], "lightning_no_checkpoint": [], "hand": []}
    threads = torch.get_num_threads()  # restored: run.py goes on in this process
    torch.set_num_threads(args.threads)
    try:
        with throughput.quiet():
            for _ in range(args.repeats):
                runs["hand"].append(hand_us(x))
                runs["lightning"].append(lightning_us(x, checkpointing=True))
                runs["lightning_no_checkpoint"].append(lightning_us(x, checkpointing=False))
    finally:
        torch.set_num_threads(threads)
    med = {k: round(statistics.median(v), 1) for k, v in runs.items()}
    med["overhead_us"] = round(med["lightning"] - med["hand"], 1)
    med["threads"] = args.threads
    print(
        f"us/step (median of {args.repeats}, {args.threads} thread(s)): Lightning {med['lightning']}, without "
        f"checkpointing {med['lightning_no_checkpoint']}, plain loop {med['hand']}; "
        f"Lightning's loop costs {med['overhead_us']} us per step"
    )
    return med


if __name__ == "__main__":
    main()
