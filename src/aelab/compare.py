"""``aelab-compare``: gather finished runs, group them by config keys, aggregate over seeds.

aelab-compare logs/train/multiruns/<time> --by model,prior_loss
aelab-compare logs/ --by model --metric test/recon_sse,test/mmd_prior --x model.latent_dim
aelab-compare --wandb ENTITY/PROJECT --by model          # runs logged to W&B (online)

Runs are read from local run directories (``summary.json`` with ``status: completed`` and
the composed ``.hydra/config.yaml``) or from a W&B project through its API. A grouping key
is a config group (``model``, ``dataset``: the option chosen) or any dotted config key
(``model.latent_dim``); runs that differ only in the rest (usually ``seed``) are aggregated:
mean, sample std and n per metric. Writes ``compare.md``, ``compare.csv`` and, with ``--x``,
``compare.png`` (each metric against that key, one line per group).
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import io
import json
import math
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

from aelab.errors import AelabError


def local_runs(dirs: list[Path]) -> list[dict[str, Any]]:
    """``{"config", "choices", "metrics", "path"}`` of each completed run below ``dirs``."""
    from omegaconf import OmegaConf

    runs = []
    for d in dirs:
        if not d.exists():
            raise AelabError(
                f"{d} does not exist: give run or multirun directories (logs/<task>/...)."
            )
        for path in sorted(d.rglob("summary.json")):
            summary = json.loads(path.read_text())
            if summary.get("status") != "completed":
                continue
            config_file = path.parent / ".hydra" / "config.yaml"
            config = (
                OmegaConf.to_container(OmegaConf.load(config_file)) if config_file.is_file() else {}
            )
            runs.append(
                {
                    "config": config,
                    "choices": summary.get("choices", {}),
                    "metrics": summary["metrics"],
                    "path": str(path.parent),
                }
            )
    return runs


def wandb_runs(project: str) -> list[dict[str, Any]]:
    """The finished runs of a W&B project (``entity/project``), through the public API."""
    try:
        import wandb

        api = wandb.Api(timeout=20)
        found = list(api.runs(project, filters={"state": "finished"}))
    except Exception as e:  # no network, no key, no such project
        raise AelabError(
            f"could not read W&B project {project!r} ({type(e).__name__}): it needs a network and WANDB_API_KEY; compare local run directories instead."
        ) from e
    return [
        {
            "config": dict(r.config),
            "choices": dict(r.config.get("choices", {})),
            "metrics": {k: v for k, v in r.summary.items() if isinstance(v, int | float)},
            "path": r.url,
        }
        for r in found
    ]


def lookup(run: dict[str, Any], key: str) -> str:
    """A run's value of a grouping key: the chosen option of a group, else a dotted config key."""
    if key in run["choices"]:
        return str(run["choices"][key])
    node: Any = run["config"]
    for part in key.split("."):
        if not isinstance(node, dict) or part not in node:
            return "-"
        node = node[part]
    return str(node)


def aggregate(
    runs: list[dict[str, Any]], by: list[str], metrics: list[str]
) -> list[dict[str, Any]]:
    """One row per group: the key values, then ``metric: (mean, std, n)`` for each metric."""
    groups: dict[tuple[str, ...], list[dict[str, Any]]] = defaultdict(list)
    for run in runs:
        groups[tuple(lookup(run, k) for k in by)].append(run)
    rows = []
    for key, members in sorted(groups.items()):
        row: dict[str, Any] = dict(zip(by, key, strict=True))
        for m in metrics:
            values = [r["metrics"][m] for r in members if m in r["metrics"]]
            n = len(values)
            mean = sum(values) / n if n else math.nan
            std = math.sqrt(sum((v - mean) ** 2 for v in values) / (n - 1)) if n > 1 else math.nan
            row[m] = (mean, std, n)
        rows.append(row)
    return rows


def _cell(stat: tuple[float, float, int]) -> str:
    mean, std, n = stat
    if n == 0:
        return ""
    return f"{mean:.4g}" + (f" +- {std:.2g}" if n > 1 else "") + f" (n={n})"


def write_outputs(
    rows: list[dict[str, Any]], by: list[str], metrics: list[str], out: Path, x: str | None
) -> list[Path]:
    from aelab.summary import write_text_atomic

    md = ["| " + " | ".join([*by, *metrics]) + " |", "|" + " --- |" * (len(by) + len(metrics))]
    md += [
        "| " + " | ".join([*(r[k] for k in by), *(_cell(r[m]) for m in metrics)]) + " |"
        for r in rows
    ]
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow([*by, *(f"{m}_{s}" for m in metrics for s in ("mean", "std", "n"))])
    for r in rows:
        writer.writerow([*(r[k] for k in by), *(v for m in metrics for v in r[m])])
    written = [
        write_text_atomic(out / "compare.md", "\n".join(md) + "\n"),
        write_text_atomic(out / "compare.csv", buf.getvalue()),
    ]
    if x:
        written.append(plot(rows, by, metrics, x, out / "compare.png"))
    return written


def plot(rows: list[dict[str, Any]], by: list[str], metrics: list[str], x: str, path: Path) -> Path:
    """Each metric against ``x``, one line (mean, std as error bars) per group of the other keys."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    others = [k for k in by if k != x]
    fig, axes = plt.subplots(1, len(metrics), figsize=(5 * len(metrics), 4), squeeze=False)
    for ax, m in zip(axes[0], metrics, strict=True):
        lines: dict[tuple[str, ...], list[tuple[Any, float, float]]] = defaultdict(list)
        for r in rows:
            value = r[x]
            with contextlib.suppress(ValueError):
                value = float(value)
            mean, std, _ = r[m]
            lines[tuple(r[k] for k in others)].append(
                (value, mean, 0.0 if math.isnan(std) else std)
            )
        for label, points in sorted(lines.items()):
            points.sort(key=lambda p: (isinstance(p[0], str), p[0]))
            xs, ys, es = zip(*points, strict=True)
            ax.errorbar(
                [str(v) if isinstance(v, str) else v for v in xs],
                ys,
                yerr=es,
                marker="o",
                capsize=3,
                label=" ".join(label) or m,
            )
        ax.set_xlabel(x)
        ax.set_ylabel(m)
        if others:
            ax.legend(title=" ".join(others), fontsize=8)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp.png")
    fig.savefig(tmp)
    plt.close(fig)
    tmp.replace(path)
    return path


def compare(
    dirs: list[Path],
    by: list[str],
    metrics: list[str] | None,
    x: str | None,
    out: Path,
    wandb_project: str | None = None,
) -> list[dict[str, Any]]:
    runs = wandb_runs(wandb_project) if wandb_project else local_runs(dirs)
    if not runs:
        raise AelabError(
            f"no completed runs (summary.json with status completed) under {', '.join(map(str, dirs))}: point at run or multirun directories."
        )
    if x and x not in by:
        by = [*by, x]
    if metrics is None:
        metrics = sorted({m for r in runs for m in r["metrics"] if m.startswith("test/")})
    missing = [m for m in metrics if not any(m in r["metrics"] for r in runs)]
    if missing:
        known = sorted({m for r in runs for m in r["metrics"]})
        raise AelabError(f"--metric {missing[0]} is in no run: use one of {', '.join(known)}.")
    rows = aggregate(runs, by, metrics)
    written = write_outputs(rows, by, metrics, out, x)
    print((out / "compare.md").read_text(), end="")
    print(f"{len(runs)} runs in {len(rows)} groups; wrote {', '.join(str(p) for p in written)}")
    return rows


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="aelab-compare",
        description="Group finished runs by config keys and aggregate their metrics over seeds.",
    )
    parser.add_argument(
        "dirs",
        nargs="*",
        type=Path,
        default=[Path("logs")],
        help="run or multirun directories (default: logs)",
    )
    parser.add_argument(
        "--by",
        default="model",
        help="comma-separated grouping keys: groups (model, dataset) or dotted config keys",
    )
    parser.add_argument("--metric", help="comma-separated metrics (default: every test/ metric)")
    parser.add_argument("--x", help="a key to plot the metrics against (compare.png)")
    parser.add_argument(
        "--out", type=Path, default=Path("."), help="where compare.md/.csv/.png go (default: here)"
    )
    parser.add_argument(
        "--wandb", metavar="ENTITY/PROJECT", help="read the runs of a W&B project instead (online)"
    )
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    from aelab.train import user_errors

    with user_errors():
        metrics = args.metric.split(",") if args.metric else None
        compare(
            args.dirs, [k for k in args.by.split(",") if k], metrics, args.x, args.out, args.wandb
        )


if __name__ == "__main__":
    main()
