"""The benchmark suite: ``python bench/run.py`` measures, prints a table and writes
``bench/results.md`` (and the raw figures in ``bench/results.json``).

Sections (``--sections`` runs some of them and keeps the others' last figures):

- ``train``: training samples/s of the suite against a hand-written PyTorch loop doing the
  same steps with the same network, data, batch size and optimizer, alternating in one
  process (``throughput.py``), for ae, vae, aae, wae and dae with the MLP and the conv
  network on MNIST; median, min-max spread, ratio.
- ``memory``: peak resident memory of each side of each ``train`` row, one epoch in a fresh
  process.
- ``overhead``: Lightning's own loop per step, on a trivial model (``lightning_overhead.py``).
- ``startup``: ``aelab-train --help``, and launch to the end of the first training step.
- ``peer``: against pythae on the same networks (``peer_pythae.py``; needs ``.[bench]``).
- ``multirun``: a grid of 8 small jobs on digits, sequential against ``launcher=joblib``.

    AELAB_DATA_DIR=/work/shared/data python bench/run.py                 # everything
    AELAB_DATA_DIR=/work/shared/data python bench/run.py --sections train --families ae vae
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import throughput  # noqa: E402  (bench/ is not a package)

SECTIONS = ("train", "memory", "overhead", "startup", "peer", "multirun")
TARGETS = {"ae": 0.95, "vae": 0.95, "aae": 0.90, "wae": 0.90}  # issue 8, MLP rows
NETWORKS = ("mlp", "conv")
PEER_TARGET = 1.5  # issue 8: aelab / pythae training throughput on the same VAE


def train_row(family: str, network: str, args: argparse.Namespace) -> dict[str, Any]:
    """Suite against hand-written loop for one family and network."""
    with tempfile.TemporaryDirectory() as tmp:
        result = throughput.main([*_row_argv(family, network, args), "--out", f"{tmp}/row.json"])
    return {
        "family": family,
        "network": network,
        "train_examples": result["train_examples"],
        "suite": result["wall"]["suite"],
        "hand": result["wall"]["hand"],
        "ratio": result["wall"]["ratio_of_medians"],
        "cpu_ratio": result["cpu"]["ratio_of_medians"],
        "max_weight_diff": max(
            (d for d in result["max_weight_diff"] if d is not None), default=None
        ),
    }


def memory_row(family: str, network: str, args: argparse.Namespace) -> dict[str, Any]:
    """Peak resident memory of each side, each running one epoch in a fresh process."""
    peaks = {}
    with tempfile.TemporaryDirectory() as tmp:
        for side in ("suite", "hand"):
            out = subprocess.run(
                [sys.executable, str(HERE / "throughput.py"), *_row_argv(family, network, args),
                 "--epochs", "1", "--side", side, "--out", f"{tmp}/side.json"],
                capture_output=True, text=True, check=True,
            ).stdout  # fmt: skip
            peak = [ln.split()[1] for ln in out.splitlines() if ln.startswith("PEAK_RSS_MB")]
            peaks[side] = float(peak[0])
    return {"family": family, "network": network, "peak_rss_mb": peaks}


def _merge(old: list[dict[str, Any]], new: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The rows just measured, and the earlier ones they do not replace, in table order."""
    rows = {(r["network"], r["family"]): r for r in [*old, *new]}
    order = [(n, f) for n in NETWORKS for f in throughput.FAMILIES]
    return [rows[key] for key in order if key in rows]


def _row_argv(family: str, network: str, args: argparse.Namespace) -> list[str]:
    argv = [
        "--model", family, "--dataset", "mnist", "--network", network,
        "--epochs", str(args.epochs), "--repeats", str(args.repeats),
    ]  # fmt: skip
    if network == "conv":
        argv += ["--limit", str(args.conv_limit)]
    return argv + _threads(args)


def _threads(args: argparse.Namespace) -> list[str]:
    """``--threads N`` for the section scripts, when run.py was given one."""
    return ["--threads", str(args.threads)] if args.threads else []


def _spread(samples: dict[str, float]) -> str:
    """``median (min-max)`` of samples/s."""
    return f"{samples['median']:.0f} ({samples['min']:.0f}-{samples['max']:.0f})"


def render(results: dict[str, Any]) -> str:
    """``results.md`` from the raw figures."""
    m = results.get("machine", {})
    lines = [
        "# Benchmark results",
        "",
        f"Measured {m.get('date')} on {m.get('cpu')} ({m.get('logical_cpus')} logical CPUs, "
        f"torch threads: {m.get('torch_threads')}), CPU only; torch {m.get('torch')}, "
        f"Lightning {m.get('pytorch_lightning')}, Python {m.get('python')}, aelab commit "
        f"{m.get('aelab_commit')}. Commands, in order: {'; '.join(results.get('commands', []))}.",
        "",
    ]
    if rows := results.get("train"):
        cfg = results["train_config"]
        lines += [
            "## Training throughput: suite against a hand-written loop",
            "",
            f"MNIST, batch 128, Adam, {cfg['epochs']} epochs per run, {cfg['repeats']} runs "
            f"per side alternating in one process; conv rows on the first {cfg['conv_limit']} "
            "training images. samples/s: median (min-max) of wall clock over training batches. "
            "ratio: suite / hand of the medians (wall; CPU time in brackets). weights: the "
            "largest difference between the two sides' final weights (0: the same computation). "
            "Peak memory: resident set of a fresh process running one epoch of one side.",
            "",
            "| family | network | suite samples/s | hand samples/s | ratio (CPU) | target | weights | peak MB suite / hand |",
            "| --- | --- | --- | --- | --- | --- | --- | --- |",
        ]
        peaks = {(m["family"], m["network"]): m["peak_rss_mb"] for m in results.get("memory", [])}
        for r in rows:
            s, h = r["suite"], r["hand"]
            peak = peaks.get((r["family"], r["network"]))
            peak_text = f"{peak['suite']:.0f} / {peak['hand']:.0f}" if peak else "-"
            target = TARGETS.get(r["family"]) if r["network"] == "mlp" else None
            verdict = (
                "" if target is None else f"{target} {'met' if r['ratio'] >= target else 'missed'}"
            )
            lines.append(
                f"| {r['family']} | {r['network']} | {_spread(s)} | {_spread(h)} "
                f"| {r['ratio']:.3f} ({r['cpu_ratio']:.3f}) | {verdict} | {r['max_weight_diff']} "
                f"| {peak_text} |"
            )
        lines.append("")
    if oh := results.get("overhead"):
        lines += [
            "## Lightning's loop alone",
            "",
            f"A trivial model (Linear(4, 4), batch of one, {oh.get('threads', 1)} thread(s)), "
            "µs per step: "
            f"`pl.Trainer` {oh['lightning']} (without checkpointing "
            f"{oh['lightning_no_checkpoint']}), plain loop {oh['hand']}: Lightning's loop costs "
            f"**{oh['overhead_us']} µs per step**, the floor of the overhead in the table above "
            "(`lightning_overhead.py`).",
            "",
        ]
    if st := results.get("startup"):
        lines += [
            "## Start-up",
            "",
            f"Median of {st['repeats']} launches: `aelab-train --help` {st['help_s']} s; launch "
            f"to the end of the first training step of `aelab-train model=ae dataset=mnist` "
            f"(no logger) {st['first_step_s']} s (target < 5 s).",
            "",
        ]
    if peer := results.get("peer"):
        lines += [
            "## Peer: pythae",
            "",
            "Same networks, data, batch and optimizer; samples/s over each library's training "
            "loop and over its whole training call (set-up and final save included), median "
            "(min-max) of alternating runs (`peer_pythae.py`).",
            "",
            "| model | clock | aelab samples/s | pythae samples/s | aelab / pythae |",
            "| --- | --- | --- | --- | --- |",
        ]
        for name, clocks in peer.items():
            for clock, r in clocks.items():
                lines.append(
                    f"| {name} | {clock} | {_spread(r['aelab'])} | {_spread(r['pythae'])} "
                    f"| {r['ratio']} |"
                )
        if vae := peer.get("vae"):
            ratio = vae["loop"]["ratio"]
            verdict = "met" if ratio >= PEER_TARGET else "missed"
            lines.append(
                f"\nTarget: aelab / pythae >= {PEER_TARGET} on the VAE: {verdict} ({ratio})."
            )
        lines.append("")
    if mr := results.get("multirun"):
        lines += [
            "## Multirun throughput",
            "",
            f"`aelab-train -m {mr['grid']}` ({mr['jobs']} jobs on digits), wall time end to "
            f"end, each way run {len(mr['joblib_s'])} times: one job after another with "
            f"torch's default threads {mr['sequential_s']} s, the same with one thread "
            f"{mr.get('sequential_1thread_s')} s, `launcher=joblib` (2 jobs at a time, one "
            f"thread each) {mr['joblib_s']} s. joblib / sequential, ratio of medians: "
            f"**{mr['ratio']}** (default threads), **{mr.get('ratio_1thread')}** (one thread).",
            "",
        ]
    lines += [
        "## GPU",
        "",
        f"Not measured: `throughput.py` times the CPU only (`trainer.accelerator=cpu`; a GPU "
        f"mode with synchronised clocks is not written yet), and this machine has "
        f"{m.get('cuda_devices', 0)} CUDA devices. The GPU target (an MNIST MLP autoencoder "
        "epoch within 1.2x of the hand-written loop, data resident on the GPU) remains open.",
        "",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--sections", nargs="+", default=list(SECTIONS), choices=SECTIONS)
    p.add_argument(
        "--families", nargs="+", default=list(throughput.FAMILIES), choices=throughput.FAMILIES
    )
    p.add_argument("--networks", nargs="+", default=list(NETWORKS), choices=NETWORKS)
    p.add_argument("--epochs", type=int, default=2)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--conv-limit", type=int, default=4096)
    p.add_argument("--threads", type=int, default=None)
    p.add_argument("--out", type=Path, default=HERE / "results.md")
    args = p.parse_args(argv)
    args.out.parent.mkdir(parents=True, exist_ok=True)  # before the measuring, not after
    raw = args.out.with_suffix(".json")
    results = json.loads(raw.read_text()) if raw.is_file() else {}
    results["machine"] = throughput.machine()
    if args.threads:
        results["machine"]["torch_threads"] = args.threads
    command = "python bench/run.py " + " ".join(argv if argv is not None else sys.argv[1:])
    # a partial rerun keeps the other sections' figures: the list says what made each
    runs = [] if set(args.sections) == set(SECTIONS) else results.get("commands", [])
    results["commands"] = [*runs, f"{results['machine']['date'][:16]} `{command.strip()}`"]
    if "train" in args.sections:
        results["train_config"] = {k: getattr(args, k) for k in ("epochs", "repeats", "conv_limit")}
        rows = [train_row(f, n, args) for n in args.networks for f in args.families]
        results["train"] = _merge(results.get("train", []), rows)
    if "memory" in args.sections:
        rows = [memory_row(f, n, args) for n in args.networks for f in args.families]
        results["memory"] = _merge(results.get("memory", []), rows)
    if "overhead" in args.sections:
        import lightning_overhead

        results["overhead"] = lightning_overhead.main(
            ["--repeats", str(args.repeats), *_threads(args)]
        )
    if "startup" in args.sections:
        bench_args = throughput.parse_args(["--model", "ae", "--dataset", "mnist"])
        results["startup"] = throughput.startup(bench_args, repeats=args.repeats)
    if "peer" in args.sections:
        import peer_pythae

        results["peer"] = peer_pythae.main(["--repeats", str(args.repeats), *_threads(args)])
    if "multirun" in args.sections:
        import multirun

        results["multirun"] = multirun.main(["--repeats", str(max(1, args.repeats - 1))])
    raw.write_text(json.dumps(results, indent=2) + "\n")
    text = render(results)
    args.out.write_text(text + "\n")
    print("\n" + text)
    print(f"written: {args.out}, {raw}")
    return results


if __name__ == "__main__":
    os.environ.setdefault("WANDB_MODE", "disabled")
    main()
