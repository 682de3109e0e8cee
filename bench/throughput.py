"""Training throughput: aelab's real training path against a hand-written PyTorch loop.

Both sides train the same network (built by the same ``network`` builder, from the same
seed) on the same training tensors, gathered by the same shuffled index per batch, with the
same optimizer and loss, for the same number of epochs, in one process. The two sides
alternate ``--repeats`` times (ABBA order, so neither always runs first); the table gives
the median samples/s of each, the min-max spread, and the ratio of the medians.

- suite: ``aelab.train.train(cfg, choices)`` on the config composed from ``conf/`` with
  Hydra's compose API; its figure is the summary's ``train_samples_per_s`` (the
  ``TrainThroughput`` callback: training batches only, validation excluded).
- hand: a plain loop timed with ``time.perf_counter`` over the training loop only.

Each side is also clocked in process CPU time over the same window (the suite by the
:class:`CPUClock` callback, added with one ``+callbacks.`` override): on a machine shared
with other work, wall-clock samples/s swing with the load, CPU-time samples/s much less
(best with ``--threads 1``, where no thread spins waiting for another).

After each pair the final weights of both sides are compared (the suite's last checkpoint
against the hand loop's modules): a difference of 0 shows that both did the same work.

    AELAB_DATA_DIR=/work/shared/data python bench/throughput.py --model ae --dataset mnist
    python bench/throughput.py --dataset digits --epochs 20 --startup
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import io
import json
import logging
import math
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytorch_lightning as pl
import torch

HERE = Path(__file__).resolve().parent
FAMILIES = ("ae", "vae", "aae", "wae", "dae")  # families the hand-written loops implement


# --- the suite side ----------------------------------------------------------------------
def overrides(args: argparse.Namespace, output_dir: str | None) -> list[str]:
    """The Hydra overrides of one benchmark run (no logger, callbacks, validation or test);
    ``output_dir=None`` leaves ``paths.output_dir`` to Hydra (a real ``aelab-train`` run)."""
    out = [
        f"model={args.model}",
        f"dataset={args.dataset}",
        f"network={args.network}",
        f"dataset.batch_size={args.batch_size}",
        f"trainer.max_epochs={args.epochs}",
        *([f"dataset.limit={args.limit}"] if getattr(args, "limit", None) else []),
        "logger=none",
        "callbacks=none",
        "trainer.accelerator=cpu",
        # not keys of conf/trainer/default.yaml: `++` adds them (and still works if they appear)
        "++trainer.enable_progress_bar=false",
        "++trainer.limit_val_batches=0",
        "test=false",
    ]
    return out if output_dir is None else [*out, f"paths.output_dir={output_dir}"]


class CPUClock(pl.Callback):
    """:class:`~aelab.callbacks.TrainThroughput`'s window, clocked in process CPU time.

    The instance built by Hydra files itself as ``CPUClock.last`` for the benchmark to read.
    """

    last: CPUClock | None = None

    def __init__(self) -> None:
        self.samples, self.seconds, self._t0 = 0, 0.0, 0.0
        CPUClock.last = self

    def on_train_epoch_start(self, *_: Any) -> None:
        self._t0 = time.process_time()

    def on_train_batch_end(
        self, trainer: Any, pl_module: Any, outputs: Any, batch: Any, batch_idx: int
    ) -> None:
        now = time.process_time()
        self.seconds += now - self._t0
        self._t0 = now
        self.samples += len(batch[0])


def compose(
    args: argparse.Namespace, output_dir: str, extra: Sequence[str] = ()
) -> tuple[Any, dict[str, str | None]]:
    """The composed ``train`` config (without its ``hydra`` node, as ``@hydra.main`` hands it
    to the task) and the group choices, as ``aelab-train`` would see them."""
    import hydra
    from omegaconf import open_dict

    from aelab.config import config_dir

    with hydra.initialize_config_dir(config_dir=str(config_dir()), version_base="1.3"):
        cfg = hydra.compose(
            "train", overrides=[*overrides(args, output_dir), *extra], return_hydra_config=True
        )
    choices = dict(cfg.hydra.runtime.choices)
    with open_dict(cfg):
        del cfg["hydra"]  # train() resolves the whole config; hydra.* needs a live Hydra run
    return cfg, choices


@contextlib.contextmanager
def quiet() -> Iterator[None]:
    """Silence Lightning's info lines, its warnings and train()'s final table."""
    loggers = [
        logging.getLogger(name) for name in ("pytorch_lightning", "lightning_fabric", "lightning")
    ]
    levels = [lg.level for lg in loggers]
    for lg in loggers:
        lg.setLevel(logging.WARNING)
    try:
        with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
            warnings.simplefilter("ignore")
            yield
    finally:
        for lg, level in zip(loggers, levels, strict=True):
            lg.setLevel(level)


def run_suite(args: argparse.Namespace, extra: Sequence[str] = ()) -> dict[str, Any]:
    """One run of ``aelab.train.train``; its samples/s and its final weights."""
    from aelab.train import train

    with tempfile.TemporaryDirectory(prefix="aelab-bench-") as tmp:
        cfg, choices = compose(
            args, tmp, [f"+callbacks.cpu_clock._target_={__name__}.CPUClock", *extra]
        )
        start = time.perf_counter()
        with quiet():
            summary = train(cfg, choices=choices)
        wall = time.perf_counter() - start
        state = None
        if summary.get("checkpoint"):
            ckpt = torch.load(summary["checkpoint"], map_location="cpu", weights_only=False)
            state = ckpt["state_dict"]
    clock = CPUClock.last
    return {
        "samples_per_s": summary["train_samples_per_s"],
        "cpu_samples_per_s": clock.samples / clock.seconds
        if clock and clock.seconds
        else float("nan"),
        "wall_s": wall,
        "state": state,
    }


# --- the hand-written side ---------------------------------------------------------------
def train_data(cfg: Any) -> tuple[torch.Tensor, torch.Tensor]:
    """The training split the suite trains on (the data module's ``splits["train"]``)."""
    import hydra

    datamodule = hydra.utils.instantiate(cfg.dataset)
    datamodule.setup()
    return datamodule.splits["train"]


def run_hand(
    cfg: Any, data: tuple[torch.Tensor, torch.Tensor], max_steps: int | None = None
) -> dict[str, Any]:
    """The same work as the suite, as a plain PyTorch loop; ``max_steps`` cuts it short (warm-up)."""
    import hydra

    family = cfg.model._target_.rsplit(".", 1)[-1]
    if family == "VAE":
        return run_hand_vae(cfg, data, max_steps)
    if family == "AdversarialAutoencoder":
        return run_hand_adversarial(cfg, data, max_steps)
    if family == "DenoisingAutoencoder" and (
        cfg.model.levels != 1 or cfg.model.corruption != "gaussian"
    ):
        raise SystemExit("the hand-written DAE loop has one Gaussian noise level")
    sigma = float(cfg.model.sigma) if family == "DenoisingAutoencoder" else 0.0
    x_all = data[0]
    if cfg.get("seed") is not None:
        pl.seed_everything(cfg.seed, workers=True, verbose=False)  # the call train() makes
    encoder, decoder = hydra.utils.instantiate(cfg.network)(
        data_shape=tuple(x_all.shape[1:]), latent_dim=cfg.model.latent_dim, n_params=1
    )
    encoder.train()
    decoder.train()
    optimizer = adam(cfg, [*encoder.parameters(), *decoder.parameters()])
    nll = decoder.likelihood.nll

    def step(x: torch.Tensor) -> None:
        x_in = x + sigma * torch.randn_like(x) if sigma else x  # the DAE's corruption
        loss = nll(decoder(encoder(x_in)), x).mean()
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()

    return hand_result(*timed(step, cfg, data, max_steps), {"encoder": encoder, "decoder": decoder})


def adam(cfg: Any, params: Any) -> torch.optim.Optimizer:
    """The config's optimizer, which the hand-written loops require to be Adam."""
    opt_cfg = cfg.optimizer
    if opt_cfg._target_ != "torch.optim.Adam":
        raise SystemExit(
            f"the hand-written loop uses Adam; the config has optimizer {opt_cfg._target_}"
        )
    return torch.optim.Adam(
        params, lr=opt_cfg.lr, betas=tuple(opt_cfg.betas), weight_decay=opt_cfg.weight_decay
    )


def batches(
    cfg: Any, data: tuple[torch.Tensor, torch.Tensor], max_steps: int | None
) -> Iterator[torch.Tensor]:
    """The training batches in the suite's order (``TensorBatches``: one shuffle per epoch
    from ``shuffle_seed + epoch``, uint8 -> float in [0, 1]), at most ``max_steps``."""
    x_all, y_all = data
    n, batch_size, seed = len(x_all), cfg.dataset.batch_size, cfg.dataset.shuffle_seed
    steps_per_epoch = math.ceil(n / batch_size)
    steps = 0
    for epoch in range(cfg.trainer.max_epochs):
        order = torch.randperm(n, generator=torch.Generator().manual_seed(seed + epoch))
        for i in range(steps_per_epoch):
            idx = order[i * batch_size : (i + 1) * batch_size]
            x, _y = x_all[idx], y_all[idx]
            if x.dtype == torch.uint8:
                x = x.float().div_(255)
            yield x
            steps += 1
            if max_steps is not None and steps >= max_steps:
                return


def timed(
    step: Any, cfg: Any, data: tuple[torch.Tensor, torch.Tensor], max_steps: int | None
) -> tuple[float, float, int]:
    """Run ``step(x)`` on every training batch; wall seconds, CPU seconds, samples."""
    samples = 0
    start, cpu_start = time.perf_counter(), time.process_time()
    for x in batches(cfg, data, max_steps):
        step(x)
        samples += len(x)
    return time.perf_counter() - start, time.process_time() - cpu_start, samples


def hand_result(
    seconds: float, cpu_seconds: float, samples: int, modules: dict[str, torch.nn.Module]
) -> dict[str, Any]:
    state = {
        f"{name}.{k}": v for name, module in modules.items() for k, v in module.state_dict().items()
    }
    return {
        "samples_per_s": samples / seconds,
        "cpu_samples_per_s": samples / cpu_seconds,
        "wall_s": seconds,
        "state": state,
    }


def run_hand_vae(
    cfg: Any, data: tuple[torch.Tensor, torch.Tensor], max_steps: int | None = None
) -> dict[str, Any]:
    """``model=vae`` (``prior_loss=kl``, Gaussian prior) as a plain loop: Gaussian encoder,
    z by the reparameterization trick, NLL + beta * analytic KL, one Adam step per batch."""
    import hydra

    from aelab.divergences.kl import gaussian_kl
    from aelab.priors import StandardGaussian

    if cfg.prior_loss._target_ != "aelab.prior_losses.KL":
        raise SystemExit(f"the hand-written VAE loop uses prior_loss=kl, not {cfg.prior_loss}")
    if cfg.get("seed") is not None:
        pl.seed_everything(cfg.seed, workers=True, verbose=False)  # the call train() makes
    prior = hydra.utils.instantiate(cfg.prior)
    if not isinstance(prior, StandardGaussian):
        raise SystemExit("the hand-written VAE loop uses the analytic KL: prior=gaussian")
    beta, scale = float(cfg.prior_loss.weight), prior.scale
    encoder, decoder = hydra.utils.instantiate(cfg.network)(
        data_shape=tuple(data[0].shape[1:]), latent_dim=cfg.model.latent_dim, n_params=2
    )
    encoder.train()
    decoder.train()
    optimizer = adam(cfg, [*encoder.parameters(), *decoder.parameters()])
    nll = decoder.likelihood.nll

    def step(x: torch.Tensor) -> None:
        mu, logvar = encoder(x).chunk(2, dim=-1)
        z = mu + torch.exp(0.5 * logvar) * torch.randn_like(mu)
        loss = nll(decoder(z), x).mean() + beta * gaussian_kl(mu, logvar, scale).mean()
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()

    seconds, cpu_seconds, samples = timed(step, cfg, data, max_steps)
    return hand_result(seconds, cpu_seconds, samples, {"encoder": encoder, "decoder": decoder})


def run_hand_adversarial(
    cfg: Any, data: tuple[torch.Tensor, torch.Tensor], max_steps: int | None = None
) -> dict[str, Any]:
    """``model=aae`` / ``model=wae`` (deterministic encoder, ``update=joint``) as a plain loop,
    the steps of ``AdversarialAutoencoder.training_step`` per batch: one joint step of encoder
    and decoder on reconstruction + lambda * the encoder's loss against the critic (critic
    frozen), then ``n_critic`` critic steps (the prior loss's own critic, loss and optimizer,
    codes under ``no_grad``). The suite's prior loss and prior objects are reused: only the
    loop is hand-written."""
    import hydra

    if cfg.model.get("stochastic_encoder") or cfg.model.get("gradient_clip"):
        raise SystemExit(
            "the hand-written adversarial loop has a deterministic encoder, no clipping"
        )
    if cfg.model.get("update", "joint") != "joint":
        raise SystemExit("the hand-written adversarial loop runs model.update=joint")
    if cfg.get("seed") is not None:
        pl.seed_everything(cfg.seed, workers=True, verbose=False)  # the call train() makes
    # train() builds the prior and the prior loss (the critic's weights) before the network
    prior = hydra.utils.instantiate(cfg.prior)
    prior_loss = hydra.utils.instantiate(cfg.prior_loss)
    encoder, decoder = hydra.utils.instantiate(cfg.network)(
        data_shape=tuple(data[0].shape[1:]), latent_dim=cfg.model.latent_dim, n_params=1
    )
    for module in (encoder, decoder, prior_loss):
        module.train()
    critic = prior_loss.critic
    critic_params = list(critic.parameters())
    opt_ae = adam(cfg, [*encoder.parameters(), *decoder.parameters()])
    opt_critic = prior_loss.optimizer_factory(critic_params)
    nll, weight, n_critic = decoder.likelihood.nll, prior_loss.weight, prior_loss.n_critic

    def step(x: torch.Tensor) -> None:
        # 1. the joint step of encoder + decoder, the critic frozen
        for p in critic_params:
            p.requires_grad_(False)
        z = encoder(x)
        loss = nll(decoder(z), x).mean() + weight * prior_loss.encoder_loss(z)
        opt_ae.zero_grad(set_to_none=True)
        loss.backward()
        opt_ae.step()
        for p in critic_params:
            p.requires_grad_(True)
        # 2. critic steps on fixed codes
        for _ in range(n_critic):
            with torch.no_grad():
                z_code = encoder(x)
            loss, _ = prior_loss.critic_loss(prior.sample(len(x)), z_code)
            opt_critic.zero_grad(set_to_none=True)
            loss.backward()
            opt_critic.step()
            prior_loss.after_critic_step()

    seconds, cpu_seconds, samples = timed(step, cfg, data, max_steps)
    return hand_result(
        seconds,
        cpu_seconds,
        samples,
        {"encoder": encoder, "decoder": decoder, "prior_loss": prior_loss},
    )


def max_weight_diff(a: dict[str, torch.Tensor] | None, b: dict[str, torch.Tensor]) -> float | None:
    """Largest absolute difference between the weights both state dicts share."""
    if not a:
        return None
    shared = [k for k in b if k in a]
    if len(shared) != len(b):
        return None
    return max(float((a[k].float() - b[k].float()).abs().max()) for k in shared)


# --- start-up ----------------------------------------------------------------------------
class FirstStepClock(pl.Callback):
    """Prints the wall clock at the end of the first training batch, then stops training."""

    def on_train_batch_end(self, trainer: Any, *_: Any) -> None:
        print(f"FIRST_STEP_AT {time.time():.6f}", flush=True)
        trainer.should_stop = True


def startup(args: argparse.Namespace, repeats: int) -> dict[str, Any]:
    """Wall time of ``python -m aelab.train --help``, and from launch to the end of the first
    training step of a real run (clocked by :class:`FirstStepClock`), median of ``repeats``."""
    help_s, first_s, total_s = [], [], []
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(HERE), os.environ.get("PYTHONPATH")])),
    }
    for _ in range(repeats):
        start = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "aelab.train", "--help"], check=True, capture_output=True
        )
        help_s.append(time.perf_counter() - start)
        with tempfile.TemporaryDirectory(prefix="aelab-bench-") as tmp:
            cmd = [
                sys.executable, "-m", "aelab.train",
                *overrides(args, None),
                f"hydra.run.dir={tmp}",
                "+callbacks.first_step._target_=throughput.FirstStepClock",
            ]  # fmt: skip
            launched, start = time.time(), time.perf_counter()
            out = subprocess.run(cmd, check=True, capture_output=True, text=True, env=env).stdout
            total_s.append(time.perf_counter() - start)
        stamps = [
            float(line.split()[1]) for line in out.splitlines() if line.startswith("FIRST_STEP_AT")
        ]
        if stamps:
            first_s.append(stamps[0] - launched)
    med = lambda xs: round(statistics.median(xs), 3) if xs else None  # noqa: E731
    return {
        "help_s": med(help_s),
        "first_step_s": med(first_s),
        "one_step_run_s": med(total_s),
        "repeats": repeats,
    }


def peak_rss_mb() -> float:
    """This process's peak resident memory since its ``exec``: ``VmHWM``. (``ru_maxrss`` is
    no use here: Linux carries it across ``exec``, so a child started by a large parent
    reports the parent's peak.)"""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM in /proc/self/status (Linux only)")


# --- report ------------------------------------------------------------------------------
def machine() -> dict[str, Any]:
    """CPU, cores, load and library versions of this run."""
    cpu = platform.processor() or platform.machine()
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    commit = None
    with contextlib.suppress(OSError, subprocess.CalledProcessError):
        git = ["git", "-C", str(HERE.parent)]
        commit = subprocess.run(
            [*git, "rev-parse", "--short", "HEAD"], check=True, capture_output=True, text=True
        ).stdout.strip()
        if subprocess.run(
            [*git, "status", "--porcelain", "--", "src", "conf"], capture_output=True, text=True
        ).stdout.strip():
            commit += " + uncommitted changes in src/ or conf/"
    return {
        "cpu": cpu,
        "logical_cpus": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "torch": torch.__version__,
        "pytorch_lightning": pl.__version__,
        "python": platform.python_version(),
        "aelab_commit": commit,
        "platform": platform.platform(),
        "cuda_devices": torch.cuda.device_count(),
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "loadavg_start": [round(x, 2) for x in os.getloadavg()],
    }


def summarize(values: Sequence[float]) -> dict[str, float]:
    return {
        "median": round(statistics.median(values), 1),
        "min": round(min(values), 1),
        "max": round(max(values), 1),
        "runs": [round(v, 1) for v in values],
    }


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--model", default="ae", choices=FAMILIES)
    p.add_argument("--dataset", default="mnist")
    p.add_argument("--network", default="mlp")
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--epochs", type=int, default=2)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument(
        "--threads", type=int, default=None, help="torch.set_num_threads (default: torch's)"
    )
    p.add_argument(
        "--warmup-steps", type=int, default=20, help="untimed hand-loop steps before the first run"
    )
    p.add_argument("--limit", type=int, default=None, help="dataset.limit: first N examples")
    p.add_argument("--startup", action="store_true", help="also time start-up in subprocesses")
    p.add_argument(
        "--side",
        choices=("suite", "hand"),
        default=None,
        help="run one side once, no warm-up, and print its peak resident memory (PEAK_RSS_MB)",
    )
    p.add_argument("--out", type=Path, default=HERE / "results_throughput.json")
    return p.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    """Run the benchmark, print the table, write the JSON; returns what was written."""
    args = parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    info = machine()
    with tempfile.TemporaryDirectory() as tmp:
        cfg, _ = compose(args, tmp)
    if args.side:  # one side in a fresh process: its peak memory
        run_suite(args) if args.side == "suite" else run_hand(cfg, train_data(cfg))
        print(f"PEAK_RSS_MB {peak_rss_mb():.1f}")
        return {}
    data = train_data(cfg)
    print(
        f"model={args.model} dataset={args.dataset} network={args.network} batch_size={args.batch_size} "
        f"epochs={args.epochs} train examples={len(data[0])} threads={torch.get_num_threads()}\n"
        f"cpu: {info['cpu']} ({info['logical_cpus']} logical), load {info['loadavg_start']}"
    )
    if args.warmup_steps:  # first-call costs (allocator, kernels, lazy imports) of both sides
        run_hand(cfg, data, max_steps=args.warmup_steps)
        run_suite(args, [f"++trainer.max_steps={args.warmup_steps}"])

    clocks = ("samples_per_s", "cpu_samples_per_s")  # wall clock, process CPU time
    runs: dict[str, dict[str, list[float]]] = {
        side: {c: [] for c in clocks} for side in ("suite", "hand")
    }
    diffs = []
    for r in range(args.repeats):
        order = ("suite", "hand") if r % 2 == 0 else ("hand", "suite")
        pair = {}
        for side in order:
            pair[side] = run_suite(args) if side == "suite" else run_hand(cfg, data)
            for c in clocks:
                runs[side][c].append(pair[side][c])
            print(
                f"  repeat {r + 1} {side:5s} {pair[side]['samples_per_s']:9.1f} samples/s wall"
                f" {pair[side]['cpu_samples_per_s']:9.1f} samples/CPU-s  load {os.getloadavg()[0]:.2f}",
                flush=True,
            )
        diffs.append(max_weight_diff(pair["suite"]["state"], pair["hand"]["state"]))

    info["loadavg_end"] = [round(x, 2) for x in os.getloadavg()]
    result: dict[str, Any] = {
        "config": {k: v for k, v in vars(args).items() if k != "out"},
        "train_examples": len(data[0]),
        "max_weight_diff": diffs,
        "machine": info,
    }
    print(
        f"\n{'clock':5s} {'side':6s} {'median':>9s} {'min':>9s} {'max':>9s}   samples/s, {args.repeats} runs each"
    )
    for c, label in zip(clocks, ("wall", "cpu"), strict=True):
        s, h = summarize(runs["suite"][c]), summarize(runs["hand"][c])
        ratio = s["median"] / h["median"]
        pairs = [round(a / b, 3) for a, b in zip(runs["suite"][c], runs["hand"][c], strict=True)]
        result[label] = {
            "suite": s,
            "hand": h,
            "ratio_of_medians": round(ratio, 3),
            "pair_ratios": pairs,
        }
        for name, v in (("suite", s), ("hand", h)):
            print(f"{label:5s} {name:6s} {v['median']:9.1f} {v['min']:9.1f} {v['max']:9.1f}")
        print(f"{label:5s} ratio suite/hand of medians {ratio:.3f}; per pair {pairs}")
        if label == "wall" and max(v["max"] / v["min"] for v in (s, h)) > 1.25:
            print(
                "      spread over 25%: the machine was busy; --threads 1 is steadier when it is shared"
            )
    print(f"max |weight difference| suite vs hand after training: {diffs}")
    if args.startup:
        result["startup"] = startup(args, repeats=max(1, min(args.repeats, 3)))
        st = result["startup"]
        print(
            f"start-up: --help {st['help_s']} s, launch to first step {st['first_step_s']} s, one-step run {st['one_step_run_s']} s"
        )
    print(f"load average at start {info['loadavg_start']}, at end {info['loadavg_end']}")

    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"written: {args.out}")
    return result


if __name__ == "__main__":
    main()
