"""Multiruns through the real command, their failures, and aelab-compare over them."""

from __future__ import annotations

import csv
import json
import subprocess
from pathlib import Path

import pytest

from conftest import command_env, run_module

QUICK = ("trainer.max_epochs=2", "callbacks=none", "logger=none")


def run(*args: str, cwd: Path, env: dict | None = None) -> subprocess.CompletedProcess:
    return run_module(args[0], *args[1:], cwd=cwd, env=env, timeout=600)


def multirun(
    tmp_path: Path, *overrides: str, env: dict | None = None
) -> tuple[subprocess.CompletedProcess, dict]:
    """``aelab-train -m overrides`` into ``tmp_path/sweep``, and its sweep summary."""
    sweep = tmp_path / "sweep"
    proc = run(
        "aelab.train", "-m", *QUICK, *overrides, f"hydra.sweep.dir={sweep}", cwd=tmp_path, env=env
    )
    path = sweep / "sweep_summary.json"
    return proc, json.loads(path.read_text()) if path.exists() else {}


@pytest.mark.slow
def test_multirun_of_two_models_and_two_seeds_compares_as_two_groups_of_two(tmp_path: Path) -> None:
    env = command_env(WANDB_MODE="offline")
    proc, summary = multirun(tmp_path, "model=ae,vae", "seed=0,1", "logger=[csv,wandb]", env=env)
    sweep = tmp_path / "sweep"
    assert proc.returncode == 0, proc.stderr[-3000:]
    last = proc.stdout.strip().splitlines()[-1]  # the multirun's own last line
    assert last.startswith("multirun: 4 of 4 jobs completed") and f"aelab-compare {sweep}" in last
    assert (summary["jobs"], summary["completed"], summary["failed"]) == (4, 4, 0)
    seeds = {r["job"]: r["metrics"]["test/recon_sse"] for r in summary["runs"]}
    assert seeds[0] != seeds[1]  # seed=0,1: two different runs of the same model
    out = tmp_path / "table"
    proc = run(
        "aelab.compare",
        str(sweep),
        "--by",
        "model",
        "--metric",
        "test/recon_sse,test/mmd_prior",
        "--x",
        "seed",
        "--out",
        str(out),
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    rows = list(csv.DictReader((out / "compare.csv").open()))
    assert [r["model"] for r in rows] == ["ae", "ae", "vae", "vae"]  # --x seed splits by seed
    proc = run("aelab.compare", str(sweep), "--by", "model", "--out", str(out), cwd=tmp_path)
    rows = {r["model"]: r for r in csv.DictReader((out / "compare.csv").open())}
    assert set(rows) == {"ae", "vae"}
    assert rows["ae"]["test/recon_sse_n"] == rows["vae"]["test/recon_sse_n"] == "2"
    mean = sum(s for j, s in seeds.items() if j < 2) / 2  # jobs 0 and 1 are model=ae
    assert float(rows["ae"]["test/recon_sse_mean"]) == pytest.approx(mean)
    assert float(rows["ae"]["test/recon_sse_std"]) > 0
    assert "| ae | " in (out / "compare.md").read_text()
    # the divergences yardstick (issue 15): the same keys for both families, in every summary
    # and in the table; the Gaussian encoder's collapse diagnostics only where they apply
    yardstick = ("kl_qp_knn", "kl_pq_knn_se", "c2st_accuracy", "jsd_c2st", "w1_prior")
    for run_record in summary["runs"]:
        metrics = run_record["metrics"]
        for key in (*yardstick, "active_units"):
            assert f"val/{key}" in metrics and f"test/{key}" in metrics, key
        assert ("test/mutual_info" in metrics) == ("model=vae" in run_record["overrides"])
    for key in (*yardstick, "active_units"):
        assert rows["ae"][f"test/{key}_mean"] and rows["vae"][f"test/{key}_mean"], key
    assert rows["vae"]["test/mutual_info_mean"] and not rows["ae"]["test/mutual_info_mean"]
    vae_summary = next(
        record
        for record in (json.loads(p.read_text()) for p in sweep.glob("*/summary.json"))
        if record["choices"]["model"] == "vae"
    )
    kl_per_dim = vae_summary["vectors"]["test/kl_per_dim"]
    assert len(kl_per_dim) == 16 and min(kl_per_dim) >= 0
    # without --by: grouped by every key that differs but the seed (model and its prior loss)
    proc = run("aelab.compare", str(sweep), "--curve", "val/loss", "--out", str(out), cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    table = (out / "compare.md").read_text()
    assert table.startswith("| model | prior_loss |") and "seed only" in table
    assert (out / "curves.png").stat().st_size > 0
    # the same table from the offline W&B runs on disk, without a network
    local = list(csv.DictReader((out / "compare.csv").open()))
    proc = run(
        "aelab.compare", str(sweep), "--wandb-dir", "--out", str(tmp_path / "w"), cwd=tmp_path
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    offline = list(csv.DictReader((tmp_path / "w" / "compare.csv").open()))
    assert [r["model"] for r in offline] == ["ae", "vae"]
    for a, b in zip(local, offline, strict=True):
        assert float(b["test/recon_sse_mean"]) == pytest.approx(float(a["test/recon_sse_mean"]))
    # a typo in --by stops with the keys there are; grouping by one key names what it mixes
    proc = run("aelab.compare", str(sweep), "--by", "modle", cwd=tmp_path)
    assert proc.returncode == 1 and "--by modle is not a config key" in proc.stderr
    proc = run("aelab.compare", str(sweep), "--by", "dataset", cwd=tmp_path)  # out: the sweep
    assert "these keys that differ: model, prior_loss" in (sweep / "compare.md").read_text()
    assert not (tmp_path / "compare.md").exists()


@pytest.mark.slow
def test_a_failing_job_leaves_the_other_jobs_whole_and_is_marked(tmp_path: Path) -> None:
    proc, summary = multirun(tmp_path, "model.latent_dim=0,4")
    sweep = tmp_path / "sweep"
    assert proc.returncode == 1  # the sweep as a whole reports the failure
    assert "model.latent_dim=0 is not allowed" in proc.stderr
    assert "Traceback" not in proc.stderr  # ... and ends with one line, not Hydra's traceback
    assert (
        proc.stdout.strip()
        .splitlines()[-1]
        .startswith(
            "multirun: 1 of 2 jobs completed, 1 failed (the first, job 0: model.latent_dim=0"
        )
    )
    assert (summary["completed"], summary["failed"]) == (1, 1)
    failed, done = summary["runs"]
    assert failed["status"] == "failed" and failed["error"].startswith(
        "model.latent_dim=0 is not allowed"
    )
    assert not (sweep / "0" / "summary.json").exists()  # nothing that looks like a result
    assert json.loads((sweep / "1" / "summary.json").read_text())["status"] == "completed"
    assert done["metrics"]["test/recon_sse"] > 0


def test_compare_says_what_to_do_when_there_is_nothing_to_compare(tmp_path: Path) -> None:
    proc = run("aelab.compare", str(tmp_path), cwd=tmp_path)
    assert (
        proc.returncode == 1
        and "no completed runs" in proc.stderr
        and "Traceback" not in proc.stderr
    )
    proc = run("aelab.compare", str(tmp_path / "nowhere"), cwd=tmp_path)
    assert proc.returncode == 1 and "does not exist" in proc.stderr


@pytest.mark.slow
def test_optuna_search_records_its_trials_resumes_with_new_points_and_keeps_one_budget(
    tmp_path: Path,
) -> None:
    import optuna

    args = (
        "aelab.train",
        "hparams_search=optuna_vae",
        "trainer.max_epochs=1",
        "callbacks=none",
        "logger=none",
    )
    storage = f"sqlite:///{tmp_path / 'logs' / 'optuna' / 'aelab_optuna.db'}"  # under the log dir
    proc = run(*args, "hydra.sweeper.n_trials=2", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    study = optuna.load_study(study_name="aelab_vae", storage=storage)
    assert [t.state.name for t in study.trials] == ["COMPLETE"] * 2
    assert all(t.value < 0 for t in study.trials)  # val/elbo in nats, as each job returned it
    proc = run(*args, "hydra.sweeper.n_trials=2", cwd=tmp_path)  # the same study, resumed
    assert proc.returncode == 0, proc.stderr[-3000:]
    study = optuna.load_study(study_name="aelab_vae", storage=storage)
    first, resumed = study.trials[:2], study.trials[2:]
    assert len(resumed) == 2
    assert [t.params for t in resumed] != [t.params for t in first]  # new points, not a replay
    # another budget in the same study is refused before any trial runs
    proc = run(*args[:2], "trainer.max_epochs=2", *args[3:], cwd=tmp_path)
    assert proc.returncode == 1 and "trials of different budgets do not compare" in proc.stderr
    assert len(optuna.load_study(study_name="aelab_vae", storage=storage).trials) == 4


@pytest.mark.slow
def test_joblib_launcher_runs_jobs_in_parallel_processes(tmp_path: Path) -> None:
    proc, summary = multirun(tmp_path, "launcher=joblib", "model=ae,vae")
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert (summary["jobs"], summary["completed"]) == (2, 2)
    models = {o for r in summary["runs"] for o in r["overrides"] if o.startswith("model=")}
    assert models == {"model=ae", "model=vae"}
