"""summary.json is written atomically: old file or new file, never half of one, no leftovers."""

from __future__ import annotations

import json
import os
import pickle
import stat

import pytest

from aelab.summary import versions, write_json_atomic


def test_writes_valid_json(tmp_path):
    obj = {
        "status": "completed",
        "metrics": {"val/loss": 1.5, "test/recon_sse": 3.0},
        "seed": 0,
        "checkpoint": None,
    }
    path = write_json_atomic(tmp_path / "summary.json", obj)
    assert path == tmp_path / "summary.json"
    text = path.read_text()
    assert json.loads(text) == obj
    assert text.endswith("\n")
    assert list(json.loads(text)) == list(obj)  # key order kept
    assert sorted(p.name for p in tmp_path.iterdir()) == ["summary.json"]


def test_creates_missing_parent_directories(tmp_path):
    path = write_json_atomic(str(tmp_path / "a" / "b" / "summary.json"), [1, 2])
    assert json.loads(path.read_text()) == [1, 2]


def test_replaces_existing_file(tmp_path):
    path = tmp_path / "summary.json"
    path.write_text('{"old": true, "padding": "' + "x" * 1000 + '"}\n')
    write_json_atomic(path, {"new": 1})
    assert json.loads(path.read_text()) == {"new": 1}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["summary.json"]


def test_failed_dump_leaves_old_file_and_no_temp(tmp_path):
    path = tmp_path / "summary.json"
    write_json_atomic(path, {"old": 1})
    before = path.read_bytes()
    with pytest.raises(TypeError):
        write_json_atomic(path, {"fine": 1, "bad": object()})  # not JSON serialisable
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["summary.json"]


def test_failed_dump_without_old_file_leaves_nothing(tmp_path):
    with pytest.raises(TypeError):
        write_json_atomic(tmp_path / "summary.json", {"bad": {1, 2}})
    assert list(tmp_path.iterdir()) == []


def test_written_file_has_normal_permissions(tmp_path):
    old = os.umask(0o022)  # a usual umask, whatever the test process had
    try:
        path = write_json_atomic(tmp_path / "summary.json", {})
        plain = tmp_path / "plain.json"
        plain.write_text("{}")
    finally:
        os.umask(old)
    assert stat.S_IMODE(plain.stat().st_mode) == 0o644
    assert stat.S_IMODE(path.stat().st_mode) == 0o644


def test_versions():
    v = versions()
    assert {"python", "torch", "aelab"} <= set(v)
    assert all(isinstance(x, str) and x for x in v.values())


def test_atomic_checkpoint_io_keeps_the_old_checkpoint_when_a_save_fails(tmp_path):
    import torch

    from aelab.checkpoint import AtomicCheckpointIO

    io, path = AtomicCheckpointIO(), tmp_path / "checkpoints" / "last.ckpt"
    io.save_checkpoint({"state_dict": {"w": torch.ones(2)}}, path)
    with pytest.raises((AttributeError, TypeError, pickle.PicklingError)):
        io.save_checkpoint({"state_dict": {"w": lambda: None}}, path)  # cannot be pickled
    assert torch.load(path, weights_only=True)["state_dict"]["w"].tolist() == [1.0, 1.0]
    assert [p.name for p in path.parent.iterdir()] == ["last.ckpt"]  # no temporary left
    assert oct(path.stat().st_mode & 0o777) != oct(0o600)  # the usual mode, not mkstemp's


@pytest.mark.parametrize(
    ("errno_", "says"),
    [(28, "the disk is full"), (27, "the file size limit was reached"), (30, "read-only")],
)
def test_disk_errors_become_one_sentence(errno_, says):
    import os

    from aelab.errors import disk_error

    try:
        try:
            raise OSError(errno_, os.strerror(errno_))
        except OSError as inner:
            raise RuntimeError("wrapped by a library") from inner
    except RuntimeError as e:
        error = disk_error(e, "/runs/x")
    assert error is not None and says in str(error) and "/runs/x" in str(error)
    assert disk_error(ValueError("not a disk")) is None
