"""``aelab-compare``: gather finished runs, group them by config keys, aggregate over seeds.

aelab-compare logs/train/multiruns/<time>                # groups: every key that differs but seed
aelab-compare logs/train/multiruns/<time> --by model,prior_loss
aelab-compare logs/ --by model --metric test/recon_sse,test/mmd_prior --x model.latent_dim
aelab-compare logs/train/multiruns/<time> --curve val/loss  # learning curves, mean +- std
aelab-compare --wandb ENTITY/PROJECT --by model          # runs logged to W&B (online)
aelab-compare logs/train/runs --wandb-dir                 # offline W&B runs on disk

Runs are read from local run directories (``summary.json`` with ``status: completed`` and
the composed ``.hydra/config.yaml``) or from a W&B project through its API. A grouping key
is a config group (``model``, ``dataset``: the option chosen) or any dotted config key
(``model.latent_dim``). Without ``--by`` the runs are grouped by every key that differs
between them except ``seed``, so only seeds are averaged; with ``--by`` each table says which
keys still differ inside its groups. Per group: mean, sample std and n per metric. Writes
``compare.md``, ``compare.csv``, with ``--x`` ``compare.png`` (each metric against that key,
one line per group) and with ``--curve`` ``curves.png`` (a metric against epoch per group,
mean and std over the group's runs, from each run's ``csv/metrics.csv``).
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import io
import json
import math
import os
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


def _wandb_records(raw: bytes):
    """The records of a ``.wandb`` file: a 7-byte header (``:W&B``, magic, version), then
    LevelDB's log format, 32 KiB blocks of chunks (CRC32, length, type: 1 full, 2 first,
    3 middle, 4 last). W&B 0.31 ships no Python reader of its own."""
    import struct

    block, pos, pending = 32768, 7, b""
    while pos + 7 <= len(raw):
        left = block - pos % block
        if left < 7:  # a block's tail too short for a chunk header is padding
            pos += left
            continue
        _, length, kind = struct.unpack("<IHB", raw[pos : pos + 7])
        chunk = raw[pos + 7 : pos + 7 + length]
        pos += 7 + length
        if kind == 0 and length == 0:
            continue
        if kind in (1, 2):
            pending = chunk
        else:
            pending += chunk
        if kind in (1, 4):
            yield pending
            pending = b""


def offline_wandb_runs(dirs: list[Path]) -> list[dict[str, Any]]:
    """The W&B runs logged offline below ``dirs`` (``wandb/offline-run-*/run-ID.wandb``), read
    from disk with W&B's own record format: no network. A resumed run's parts (one run id)
    are one run; its metrics are the last value logged of each."""
    from wandb.proto import wandb_internal_pb2

    by_id: dict[str, dict[str, Any]] = {}
    files = sorted(
        (f for d in dirs for f in d.rglob("offline-run-*/run-*.wandb")), key=lambda f: f.parent.name
    )
    for file in files:
        run = by_id.setdefault(
            file.stem.removeprefix("run-"),
            {"config": {}, "choices": {}, "metrics": {}, "path": str(file.parent)},
        )
        for data in _wandb_records(file.read_bytes()):
            record = wandb_internal_pb2.Record()
            record.ParseFromString(data)
            kind = record.WhichOneof("record_type")
            if kind == "config":
                for item in record.config.update:
                    key = item.key or ".".join(item.nested_key)
                    run["config"][key] = json.loads(item.value_json)
            elif kind == "history":
                for item in record.history.item:
                    value = json.loads(item.value_json)
                    key = item.key or "/".join(item.nested_key)
                    if isinstance(value, int | float) and not key.startswith("_"):
                        run["metrics"][key] = value
    runs = []
    for run in by_id.values():
        run["choices"] = run["config"].pop("choices", {}) or {}
        run["config"].pop("_wandb", None)
        if any(k.startswith("test/") for k in run["metrics"]):  # the run finished its test
            runs.append(run)
    return runs


def plot_curves(runs: list[dict[str, Any]], by: list[str], metric: str, path: Path) -> Path:
    """``metric`` against epoch, one line per group: the mean over its runs, the std as a
    band, read from each run's ``csv/metrics.csv``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    curves: dict[tuple[str, ...], list[dict[int, float]]] = defaultdict(list)
    for run in runs:
        file = Path(run["path"]) / "csv" / "metrics.csv"
        if not file.is_file():
            continue
        points = {
            int(row["epoch"]): float(row[metric])
            for row in csv.DictReader(file.open())
            if row.get(metric) and row.get("epoch")
        }
        if points:
            curves[tuple(lookup(run, k) for k in by)].append(points)
    if not curves:
        raise AelabError(
            f"--curve {metric}: no run has it in csv/metrics.csv (logger=csv): name a logged metric such as val/loss or train/loss."
        )
    fig, ax = plt.subplots(figsize=(6, 4))
    for label, members in sorted(curves.items()):
        epochs = sorted(set().union(*members))
        values = [[m[e] for m in members if e in m] for e in epochs]
        mean = [sum(v) / len(v) for v in values]
        std = [
            math.sqrt(sum((x - mu) ** 2 for x in v) / (len(v) - 1)) if len(v) > 1 else 0.0
            for v, mu in zip(values, mean, strict=True)
        ]
        name = " ".join(f"{k}={v}" for k, v in zip(by, label, strict=True))
        (line,) = ax.plot(epochs, mean, label=f"{name} (n={len(members)})")
        ax.fill_between(
            epochs,
            [m - d for m, d in zip(mean, std, strict=True)],
            [m + d for m, d in zip(mean, std, strict=True)],
            color=line.get_color(),
            alpha=0.2,
        )
    ax.set_xlabel("epoch")
    ax.set_ylabel(metric)
    ax.legend(fontsize=8)
    return _save(fig, path)


def _save(fig: Any, path: Path) -> Path:
    """Write a figure under a temporary name and rename it into place."""
    import matplotlib.pyplot as plt

    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp.png")
    fig.savefig(tmp)
    plt.close(fig)
    tmp.replace(path)
    return path


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


#: keys that differ between runs without making them different experiments
IGNORED = ("seed", "paths.", "hydra.", "tags", "print_config", "resume", "ckpt_path")


def flatten(node: Any, prefix: str = "") -> dict[str, str]:
    """Dotted key -> value (as text) of every leaf of a config."""
    if isinstance(node, dict):
        out: dict[str, str] = {}
        for k, v in node.items():
            out.update(flatten(v, f"{prefix}{k}."))
        return out
    return {prefix[:-1]: str(node)}


def groups_of(runs: list[dict[str, Any]]) -> list[str]:
    return sorted({k for r in runs for k in r["choices"]})


def keys_of(runs: list[dict[str, Any]]) -> list[str]:
    """Every grouping key the runs have: config groups, then dotted config keys."""
    groups = groups_of(runs)
    return [*groups, *sorted({k for r in runs for k in flatten(r["config"])} - set(groups))]


def differing(runs: list[dict[str, Any]]) -> list[str]:
    """The keys whose values differ between the runs (``seed`` and paths left out). A key
    inside a group whose chosen option differs is kept only where it varies among runs with
    the same option (``model.latent_dim`` in a sweep of it, not ``model._target_``)."""
    found = [
        k
        for k in keys_of(runs)
        if not k.startswith(IGNORED)
        and not k.endswith(("dirpath", "save_dir", "default_root_dir"))  # the run's own path
        and len({lookup(r, k) for r in runs}) > 1
        and any(lookup(r, k) != lookup(r, "seed") for r in runs)  # not a copy of the seed
    ]
    chosen = [k for k in found if "." not in k]
    out = []
    for k in found:
        group = k.split(".")[0]
        if "." in k and group in chosen:
            by_option: dict[str, set[str]] = defaultdict(set)
            for r in runs:
                by_option[lookup(r, group)].add(lookup(r, k))
            if all(len(v) == 1 for v in by_option.values()):
                continue  # follows from the option chosen
        out.append(k)
    return out


def check_keys(runs: list[dict[str, Any]], by: list[str]) -> None:
    known = keys_of(runs)
    for key in by:
        if key not in known:
            groups = groups_of(runs)
            raise AelabError(
                f"--by {key} is not a config key of these runs: use config groups ({', '.join(groups)}) or dotted keys such as model.latent_dim (`--cfg job` lists them)."
            )


def mixed_within(runs: list[dict[str, Any]], by: list[str]) -> list[str]:
    """The keys (besides ``seed``) that differ between runs of one group."""
    groups: dict[tuple[str, ...], list[dict[str, Any]]] = defaultdict(list)
    for run in runs:
        groups[tuple(lookup(run, k) for k in by)].append(run)
    return sorted({k for members in groups.values() for k in differing(members)} - set(by))


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
    rows: list[dict[str, Any]],
    by: list[str],
    metrics: list[str],
    out: Path,
    x: str | None,
    note: str = "",
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
        # a metric a group lacks (or a std of one run) is an empty cell, as in compare.md
        cells = [
            ("" if isinstance(v, float) and math.isnan(v) else v) for m in metrics for v in r[m]
        ]
        writer.writerow([*(r[k] for k in by), *cells])
    written = [
        write_text_atomic(
            out / "compare.md", "\n".join(md) + "\n" + (f"\n{note}\n" if note else "")
        ),
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
    return _save(fig, path)


def compare(
    dirs: list[Path],
    by: list[str],
    metrics: list[str] | None,
    x: str | None,
    out: Path,
    wandb_project: str | None = None,
    curve: str | None = None,
    wandb_dir: bool = False,
) -> list[dict[str, Any]]:
    if wandb_project:
        runs = wandb_runs(wandb_project)
    else:
        runs = offline_wandb_runs(dirs) if wandb_dir else local_runs(dirs)
    if not runs:
        raise AelabError(
            f"no completed runs (summary.json with status completed) under {', '.join(map(str, dirs))}: point at run or multirun directories."
        )
    check_keys(runs, [*by, *([x] if x else [])])
    if not by:
        by = differing(runs) or ["model"]
    if x and x not in by:
        by = [*by, x]
    mixed = mixed_within(runs, by)
    if metrics is None:
        metrics = sorted({m for r in runs for m in r["metrics"] if m.startswith("test/")})
    missing = [m for m in metrics if not any(m in r["metrics"] for r in runs)]
    if missing:
        known = sorted({m for r in runs for m in r["metrics"]})
        raise AelabError(f"--metric {missing[0]} is in no run: use one of {', '.join(known)}.")
    rows = aggregate(runs, by, metrics)
    note = (
        f"Averaged inside each group: seed, and these keys that differ: {', '.join(mixed)}."
        if mixed
        else "Averaged inside each group: seed only (no other config key differs)."
    )
    written = write_outputs(rows, by, metrics, out, x, note)
    if curve:
        written.append(plot_curves(runs, by, curve, out / "curves.png"))
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
        default="",
        help="comma-separated grouping keys: groups (model, dataset) or dotted config keys "
        "(default: every key that differs between the runs, except seed)",
    )
    parser.add_argument("--metric", help="comma-separated metrics (default: every test/ metric)")
    parser.add_argument("--x", help="a key to plot the metrics against (compare.png)")
    parser.add_argument(
        "--out",
        type=Path,
        help="where compare.md/.csv/.png go (default: the first directory compared; with "
        "--wandb, <log dir>/compare)",
    )
    parser.add_argument(
        "--curve", metavar="METRIC", help="plot METRIC against epoch per group (curves.png)"
    )
    parser.add_argument(
        "--wandb", metavar="ENTITY/PROJECT", help="read the runs of a W&B project instead (online)"
    )
    parser.add_argument(
        "--wandb-dir",
        action="store_true",
        help="read the offline W&B runs (wandb/offline-run-*) below the directories instead",
    )
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    from aelab.train import user_errors

    with user_errors():
        metrics = args.metric.split(",") if args.metric else None
        if args.out is None:
            log_dir = Path(os.environ.get("AELAB_LOG_DIR", "logs"))
            args.out = log_dir / "compare" if args.wandb else args.dirs[0]
        compare(
            args.dirs,
            [k for k in args.by.split(",") if k],
            metrics,
            args.x,
            args.out,
            args.wandb,
            args.curve,
            args.wandb_dir,
        )


if __name__ == "__main__":
    main()
