"""DDP on CPU (2 gloo processes) through the real command: the same metrics as one process
with the same global batch, one run directory, one summary."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import command_env

HELPERS = Path(__file__).resolve().parents[1] / "helpers"

QUICK = ("trainer.accelerator=cpu", "trainer.max_epochs=3", "callbacks=none", "logger=none")


@pytest.mark.slow
@pytest.mark.parametrize(("model", "tolerance"), [("ae", 1e-4), ("aae", 0.05)])
def test_two_processes_match_one_with_the_same_global_batch(
    train, tmp_path, model, tolerance
) -> None:
    probe = tmp_path / "probe"
    ddp = train(
        f"model={model}",
        "trainer=ddp",
        "trainer.devices=2",
        *QUICK,
        "+callbacks.rank_probe._target_=rank_probe.RankProbe",
        f"+callbacks.rank_probe.out={probe}",
        run_dir=tmp_path / "ddp",
        env=command_env(PYTHONPATH=str(HELPERS)),
    )
    one = train(f"model={model}", "dataset.batch_size=256", *QUICK, run_dir=tmp_path / "one")
    assert ddp.returncode == 0, ddp.stderr[-3000:]
    assert one.returncode == 0, one.stderr[-3000:]
    a, b = ddp.summary["metrics"], one.summary["metrics"]
    # each rank takes every 2nd example of the same shuffled order, so 2 x 128 is the same
    # global batch as 256; the ae is deterministic (measured equal to 6 digits), the vae and
    # aae draw their own noise per rank (measured within 2%)
    for key in ("test/recon_sse", "val/recon_sse", "test/loss"):
        assert a[key] == pytest.approx(b[key], rel=tolerance), (key, a[key], b[key])
    # identical initial weights on both ranks, but each rank its own noise stream
    ranks = [json.loads((probe / f"rank{r}.json").read_text()) for r in (0, 1)]
    assert ranks[0]["weights"] == ranks[1]["weights"]
    assert ranks[0]["rng"] != ranks[1]["rng"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ddp", "one", "probe"]  # no stray run
    assert len(list((tmp_path / "ddp").rglob("summary.json"))) == 1
    assert json.loads((tmp_path / "ddp" / "summary.json").read_text())["status"] == "completed"
