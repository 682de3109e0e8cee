"""Data: index batches, deterministic splits, and every data module's loading and errors."""

from __future__ import annotations

import math
import os
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from aelab.data import (
    DigitsDataModule,
    FolderDataModule,
    TensorBatches,
    TensorDataModule,
    TensorFileDataModule,
    TorchvisionDataModule,
    Toy2dDataModule,
    as_float,
)
from aelab.data.toy2d import NAMES, mixture_params
from aelab.errors import DataError
from conftest import MNIST_FILES

# --- helpers -------------------------------------------------------------------------------


def _ids(n: int) -> tuple[torch.Tensor, torch.Tensor]:
    """x whose single feature is the example's index, and y = index: a batch names its rows."""
    return torch.arange(n, dtype=torch.float32).unsqueeze(1), torch.arange(n)


def _served(batches: TensorBatches) -> list[int]:
    """Indices served in one pass, checking that x and y stay paired."""
    out: list[int] = []
    for x, y in batches:
        assert x.dtype == torch.float32
        assert torch.equal(x[:, 0].long(), y)
        out += y.tolist()
    return out


def _rows(x: torch.Tensor) -> Counter:
    """Multiset of the rows of x (as bytes), to compare splits with the whole data set."""
    flat = x.reshape(len(x), -1).numpy()
    return Counter(row.tobytes() for row in flat)


def _all_split_rows(dm: TensorDataModule) -> Counter:
    dm.setup()
    total: Counter = Counter()
    for split in ("train", "val", "test"):
        total += _rows(dm.splits[split][0])
    return total


class _Ids(TensorDataModule):
    """A data set of ``n`` examples whose x is the example's id (no official test split)."""

    def __init__(self, n: int, **kwargs) -> None:
        super().__init__(**kwargs)
        self.n = n

    def load(self):
        return _ids(self.n), None


# --- TensorBatches -------------------------------------------------------------------------


@pytest.mark.parametrize("shuffle", [False, True])
@pytest.mark.parametrize(("n", "batch_size"), [(10, 3), (12, 4), (7, 10), (1, 1)])
def test_batches_cover_every_index_exactly_once(shuffle, n, batch_size):
    x, y = _ids(n)
    batches = TensorBatches(x, y, batch_size, shuffle=shuffle, seed=3)
    served = _served(batches)
    assert sorted(served) == list(range(n))
    assert len(batches) == math.ceil(n / batch_size)
    assert len(list(batches)) == len(batches)
    sizes = [len(b[1]) for b in batches]
    assert sizes == [batch_size] * (n // batch_size) + ([n % batch_size] if n % batch_size else [])


def test_unshuffled_batches_keep_the_stored_order():
    x, y = _ids(9)
    assert _served(TensorBatches(x, y, 4, shuffle=False)) == list(range(9))


def test_shuffle_order_depends_on_seed_and_epoch_only():
    x, y = _ids(50)
    a = TensorBatches(x, y, 8, shuffle=True, seed=7)
    b = TensorBatches(x, y, 8, shuffle=True, seed=7)
    first = _served(a)
    assert first != list(range(50))  # shuffled at all
    assert first == _served(b)  # same seed, same epoch: same order
    assert first == _served(a)  # iterating again does not move the order
    a.sampler.set_epoch(1)  # what Lightning calls each epoch
    second = _served(a)
    assert sorted(second) == list(range(50))
    assert second != first
    b.set_epoch(1)
    assert _served(b) == second
    a.set_epoch(0)
    assert _served(a) == first
    assert _served(TensorBatches(x, y, 8, shuffle=True, seed=8)) != first


def test_batches_are_their_own_sampler_for_lightning():
    x, y = _ids(4)
    batches = TensorBatches(x, y, 2)
    assert batches.sampler is batches
    assert batches.batch_sampler is None


@pytest.mark.parametrize("n", [10, 11, 13])
def test_shuffled_ddp_shards_are_equal_and_cover_everything(n):
    x, y = _ids(n)
    shards = [TensorBatches(x, y, 3, shuffle=True, seed=1, rank=r, world_size=2) for r in range(2)]
    served = [_served(s) for s in shards]
    per_rank = math.ceil(n / 2)
    assert [len(s) for s in served] == [per_rank, per_rank]
    assert len(shards[0]) == len(shards[1]) == math.ceil(per_rank / 3)
    assert set(served[0]) | set(served[1]) == set(range(n))
    # no index within a shard twice; across shards only the padding repeats
    assert all(len(set(s)) == len(s) for s in served)
    counts = Counter(served[0] + served[1])
    assert sum(c - 1 for c in counts.values()) == 2 * per_rank - n
    # a new epoch reshuffles both shards consistently
    for s in shards:
        s.set_epoch(5)
    again = [_served(s) for s in shards]
    assert set(again[0]) | set(again[1]) == set(range(n))
    assert again != served


def test_shuffled_ddp_shards_are_padded_when_smaller_than_world():
    x, y = _ids(1)
    served = [_served(TensorBatches(x, y, 2, shuffle=True, rank=r, world_size=4)) for r in range(4)]
    assert served == [[0], [0], [0], [0]]


@pytest.mark.parametrize("n", [10, 11])
def test_eval_ddp_shards_do_not_duplicate(n):
    x, y = _ids(n)
    shards = [TensorBatches(x, y, 4, shuffle=False, rank=r, world_size=2) for r in range(2)]
    served = [_served(s) for s in shards]
    assert served[0] == list(range(0, n, 2))
    assert served[1] == list(range(1, n, 2))
    assert sorted(served[0] + served[1]) == list(range(n))
    assert [len(s) for s in shards] == [math.ceil(len(s) / 4) for s in served]


def test_drop_last():
    x, y = _ids(10)
    batches = TensorBatches(x, y, 3, shuffle=True, drop_last=True)
    assert len(batches) == 3
    out = list(batches)
    assert [len(b[1]) for b in out] == [3, 3, 3]
    served = torch.cat([b[1] for b in out]).tolist()
    assert len(set(served)) == 9
    assert len(TensorBatches(x, y, 3, shuffle=False, drop_last=False)) == 4
    assert len(TensorBatches(x, y, 20, drop_last=True)) == 0
    assert list(TensorBatches(x, y, 20, drop_last=True)) == []


def test_uint8_storage_comes_out_as_float():
    x = torch.tensor([[0, 51, 255], [128, 1, 2]], dtype=torch.uint8)
    y = torch.tensor([0, 1])
    (xb, yb) = next(iter(TensorBatches(x, y, 2)))
    assert xb.dtype == torch.float32
    assert torch.allclose(xb, x.float() / 255)
    assert xb.min() >= 0 and xb.max() <= 1
    assert x.dtype == torch.uint8 and x[0, 2] == 255  # the stored tensor is untouched
    assert torch.equal(yb, y)


def test_as_float():
    u = torch.tensor([0, 255, 51], dtype=torch.uint8)
    assert torch.allclose(as_float(u), torch.tensor([0.0, 1.0, 0.2]))
    f = torch.tensor([0.5, 2.0])
    assert as_float(f) is f  # floats pass through unchanged (no scaling)


# --- TensorDataModule splits ---------------------------------------------------------------


def test_split_sizes_and_partition():
    dm = _Ids(100, val_fraction=0.25, test_fraction=0.2, split_seed=0)
    dm.setup()
    sizes = {k: len(v[0]) for k, v in dm.splits.items()}
    assert sizes == {"train": 60, "val": 20, "test": 20}
    ids = {k: set(v[1].tolist()) for k, v in dm.splits.items()}
    assert ids["train"] | ids["val"] | ids["test"] == set(range(100))
    assert sum(len(v) for v in ids.values()) == 100
    for _, (x, y) in dm.splits.items():
        assert torch.equal(x[:, 0].long(), y)  # x and y stay paired through the split


def test_limit_takes_the_first_examples_of_each_split():
    full = _Ids(100, split_seed=4)
    full.setup()
    dm = _Ids(100, split_seed=4, limit=5)
    dm.setup()
    for split in ("train", "val", "test"):
        assert torch.equal(dm.splits[split][1], full.splits[split][1][:5])


def test_datamodule_loaders_without_trainer():
    dm = _Ids(100, batch_size=16, eval_batch_size=7)
    train, val, test = dm.train_dataloader(), dm.val_dataloader(), dm.test_dataloader()
    assert (train.shuffle, val.shuffle, test.shuffle) == (True, False, False)
    assert (train.batch_size, val.batch_size) == (16, 7)
    assert (train.rank, train.world_size) == (0, 1)
    assert sorted(_served(val)) == sorted(dm.splits["val"][1].tolist())
    assert sorted(_served(train)) == sorted(dm.splits["train"][1].tolist())


def test_shuffle_seed_none_still_shuffles():
    dm = _Ids(20, shuffle_seed=None)
    assert sorted(_served(dm.train_dataloader())) == sorted(dm.splits["train"][1].tolist())


def test_digits_splits():
    dm = DigitsDataModule(val_fraction=0.1, test_fraction=0.2, split_seed=0)
    dm.setup()
    x = {k: v[0] for k, v in dm.splits.items()}
    n_test = round(0.2 * 1797)
    n_val = round(0.1 * (1797 - n_test))
    assert {k: len(v) for k, v in x.items()} == {
        "train": 1797 - n_test - n_val,
        "val": n_val,
        "test": n_test,
    }
    assert dm.data_shape == (1, 8, 8)
    assert dm.is_image
    for v in x.values():
        assert v.dtype == torch.float32
        assert v.min() >= 0 and v.max() <= 1
    assert x["train"].max() == 1.0  # 16 grey levels scaled by 1/16
    # together the splits are exactly the data set, no image used twice
    from sklearn.datasets import load_digits

    whole = torch.as_tensor(load_digits().images, dtype=torch.float32).div(16).unsqueeze(1)
    assert _all_split_rows(dm) == _rows(whole)
    for a, b in (("train", "val"), ("train", "test"), ("val", "test")):
        assert not set(_rows(x[a])) & set(_rows(x[b]))
    labels = torch.cat([dm.splits[k][1] for k in ("train", "val", "test")])
    assert sorted(labels.unique().tolist()) == list(range(10))


def test_digits_splits_follow_split_seed():
    a, b, c = (DigitsDataModule(split_seed=s) for s in (0, 0, 1))
    for dm in (a, b, c):
        dm.setup()
    for split in ("train", "val", "test"):
        assert torch.equal(a.splits[split][0], b.splits[split][0])
        assert torch.equal(a.splits[split][1], b.splits[split][1])
    assert not torch.equal(a.splits["test"][0], c.splits["test"][0])
    assert _rows(a.splits["test"][0]) != _rows(c.splits["test"][0])


def test_digits_split_ignores_shuffle_seed():
    a, b = DigitsDataModule(shuffle_seed=0), DigitsDataModule(shuffle_seed=9)
    a.setup()
    b.setup()
    assert torch.equal(a.splits["val"][0], b.splits["val"][0])
    order_a = [y.tolist() for _, y in a.train_dataloader()]
    order_b = [y.tolist() for _, y in b.train_dataloader()]
    assert order_a != order_b


# --- Toy 2-D -------------------------------------------------------------------------------


@pytest.mark.parametrize("name", NAMES)
def test_toy2d_shapes(name):
    dm = Toy2dDataModule(name=name, n_samples=400)
    dm.setup()
    assert dm.data_shape == (2,)
    assert not dm.is_image
    assert sum(len(v[0]) for v in dm.splits.values()) == 400
    for x, y in dm.splits.values():
        assert x.dtype == torch.float32
        assert x.ndim == 2 and x.shape[1] == 2
        assert y.dtype == torch.long and len(y) == len(x)
        assert torch.isfinite(x).all()
    again = Toy2dDataModule(name=name, n_samples=400)
    again.setup()
    assert torch.equal(again.splits["train"][0], dm.splits["train"][0])  # data_seed fixes the data


@pytest.mark.parametrize("name", ["ring8", "grid25"])
def test_toy2d_mixtures_sit_on_their_means(name):
    means, std = mixture_params(name)
    dm = Toy2dDataModule(name=name, n_samples=4000)
    dm.setup()
    x = torch.cat([v[0] for v in dm.splits.values()])
    y = torch.cat([v[1] for v in dm.splits.values()])
    assert y.min() >= 0 and y.max() == len(means) - 1
    d = (x - means[y]).norm(dim=1)
    assert d.max() < 6 * std  # every point near its own component's mean
    nearest = torch.cdist(x, means).argmin(dim=1)
    assert (nearest == y).float().mean() > 0.99
    # per-axis std of the offsets is the mixture's std
    assert abs((x - means[y]).std().item() - std) < 0.01


def test_ring8_means():
    means, std = mixture_params("ring8")
    assert means.shape == (8, 2)
    assert torch.allclose(means.norm(dim=1), torch.full((8,), 2.0))
    assert std == 0.1
    assert torch.allclose(means[0], torch.tensor([2.0, 0.0]))
    assert torch.allclose(means[2], torch.tensor([0.0, 2.0]), atol=1e-6)


def test_toy2d_bad_name():
    with pytest.raises(DataError, match="nope"):
        Toy2dDataModule(name="nope")


# --- FolderDataModule ----------------------------------------------------------------------

RED, BLUE = (200, 0, 0), (0, 0, 150)


def _solid(path: Path, size: tuple[int, int], colour, mode: str = "RGB") -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new(mode, size, colour).save(path)


@pytest.fixture
def image_folder(tmp_path: Path) -> Path:
    root = tmp_path / "images"
    _solid(root / "a_cats" / "1.png", (10, 20), RED)
    _solid(root / "a_cats" / "2.png", (33, 33), RED)
    _solid(root / "a_cats" / "3.PNG", (64, 12), RED)
    _solid(root / "b_dogs" / "1.png", (15, 9), BLUE)
    _solid(root / "b_dogs" / "2.png", (7, 7), (*BLUE, 255), mode="RGBA")
    (root / "b_dogs" / "notes.txt").write_text("not an image, ignored")
    return root


def _all(dm: TensorDataModule) -> tuple[torch.Tensor, torch.Tensor]:
    dm.setup()
    xs, ys = zip(*(dm.splits[k] for k in ("train", "val", "test")), strict=True)
    return torch.cat(xs), torch.cat(ys)


def test_folder_rgb(image_folder):
    dm = FolderDataModule(
        str(image_folder), image_size=8, channels=3, val_fraction=0.25, test_fraction=0.2
    )
    x, y = _all(dm)
    assert dm.data_shape == (3, 8, 8)
    assert dm.is_image
    assert x.shape == (5, 3, 8, 8)
    assert sorted(y.tolist()) == [0, 0, 0, 1, 1]  # sub-folders in sorted order are labels 0, 1
    xf = as_float(x)
    for img, label in zip(xf, y.tolist(), strict=True):
        colour = RED if label == 0 else BLUE
        expected = torch.tensor(colour, dtype=torch.float32).div(255).view(3, 1, 1).expand(3, 8, 8)
        assert torch.allclose(img, expected, atol=1 / 255)
    # served batches are floats in [0, 1]
    xb, _ = next(iter(dm.train_dataloader()))
    assert xb.dtype == torch.float32 and xb.min() >= 0 and xb.max() <= 1


def test_folder_grey_and_centre_crop(tmp_path):
    root = tmp_path / "imgs"
    # 30 wide x 10 tall: black side bars, white centre 10x10, so the centre crop is all white
    a = np.zeros((10, 30), dtype=np.uint8)
    a[:, 10:20] = 255
    root.mkdir()
    Image.fromarray(a).save(root / "bars.png")
    _solid(root / "grey.png", (12, 12), 128, mode="L")
    _solid(root / "grey2.png", (12, 12), 128, mode="L")
    dm = FolderDataModule(str(root), image_size=4, channels=1)
    x, y = _all(dm)
    assert x.shape == (3, 1, 4, 4)
    assert y.tolist() == [-1, -1, -1]  # images directly in path are unlabelled
    values = sorted(int(img.float().mean()) for img in x)
    assert values == [128, 128, 255]


def test_folder_corrupt_png_names_the_file(image_folder):
    bad = image_folder / "b_dogs" / "broken.png"
    bad.write_bytes(b"\x89PNG\r\n\x1a\n this is not really a png")
    with pytest.raises(DataError, match="broken.png") as e:
        FolderDataModule(str(image_folder), image_size=8).setup()
    assert str(bad) in str(e.value)


def test_folder_truncated_png_names_the_file(tmp_path):
    root = tmp_path / "imgs"
    _solid(root / "ok.png", (20, 20), RED)
    rng = np.random.default_rng(0)
    Image.fromarray(rng.integers(0, 255, (40, 40, 3), dtype=np.uint8)).save(root / "cut.png")
    data = (root / "cut.png").read_bytes()
    (root / "cut.png").write_bytes(data[: len(data) // 2])
    with pytest.raises(DataError, match="cut.png"):
        FolderDataModule(str(root), image_size=8).setup()


def test_folder_missing_directory(tmp_path):
    missing = tmp_path / "nowhere"
    with pytest.raises(DataError, match="nowhere") as e:
        FolderDataModule(str(missing)).setup()
    assert "not a directory" in str(e.value)


def test_folder_without_images(tmp_path):
    (tmp_path / "readme.txt").write_text("no images here")
    with pytest.raises(DataError, match="holds no images"):
        FolderDataModule(str(tmp_path)).setup()


def test_folder_bad_channels(tmp_path):
    with pytest.raises(DataError, match="channels=2"):
        FolderDataModule(str(tmp_path), channels=2)


# --- TensorFileDataModule ------------------------------------------------------------------


def _graded(n: int, h: int, w: int) -> np.ndarray:
    """n uint8 images, image i filled with the value 20 * i (so each image is recognisable)."""
    return (np.arange(n, dtype=np.uint8) * 20)[:, None, None].repeat(h, 1).repeat(w, 2)


def test_tensor_file_npy_uint8_images(tmp_path):
    path = tmp_path / "imgs.npy"
    arr = _graded(10, 5, 6)
    np.save(path, arr)
    dm = TensorFileDataModule(str(path))
    x, y = _all(dm)
    assert dm.data_shape == (1, 5, 6)
    assert x.dtype == torch.uint8
    assert y.tolist() == [-1] * 10
    assert _rows(x) == _rows(torch.from_numpy(arr).unsqueeze(1))
    served = torch.cat([b[0] for b in dm.train_dataloader()])
    assert served.dtype == torch.float32 and served.min() >= 0 and served.max() <= 1
    expected = {round(20 * i / 255, 5) for i in range(10)}
    assert {round(v, 5) for v in served.flatten().tolist()} <= expected


def test_tensor_file_pt_dict_with_labels(tmp_path):
    path = tmp_path / "data.pt"
    x = torch.randn(20, 4)
    y = torch.arange(20) % 3
    x[:, 0] = torch.arange(20).float()  # row id, to check labels stay with their rows
    torch.save({"x": x, "y": y.int()}, path)
    dm = TensorFileDataModule(str(path))
    xs, ys = _all(dm)
    assert dm.data_shape == (4,)
    assert not dm.is_image
    assert xs.dtype == torch.float32 and ys.dtype == torch.long
    assert torch.equal(ys, xs[:, 0].long() % 3)
    assert _rows(xs) == _rows(x)


def test_tensor_file_pt_plain_tensor(tmp_path):
    path = tmp_path / "data.pt"
    torch.save(torch.rand(12, 3, 4, 4, dtype=torch.float64), path)
    dm = TensorFileDataModule(str(path))
    xs, ys = _all(dm)
    assert dm.data_shape == (3, 4, 4)
    assert xs.dtype == torch.float32  # float64 data becomes float32
    assert ys.tolist() == [-1] * 12


def test_tensor_file_npz(tmp_path):
    path = tmp_path / "data.npz"
    x = _graded(10, 4, 4)
    y = np.arange(10)
    np.savez(path, x=x, y=y)
    xs, ys = _all(TensorFileDataModule(str(path)))
    assert xs.shape == (10, 1, 4, 4)
    assert torch.equal(xs[:, 0, 0, 0].long(), ys * 20)


def test_tensor_file_nhwc_becomes_nchw(tmp_path):
    path = tmp_path / "rgb.npy"
    rng = np.random.default_rng(0)
    arr = rng.integers(0, 256, (6, 5, 7, 3), dtype=np.uint8)  # N x H x W x C
    np.save(path, arr)
    dm = TensorFileDataModule(str(path))
    xs, _ = _all(dm)
    assert dm.data_shape == (3, 5, 7)
    assert xs.is_contiguous()
    assert _rows(xs) == _rows(torch.from_numpy(arr).permute(0, 3, 1, 2))


def test_tensor_file_nchw_stays(tmp_path):
    path = tmp_path / "rgb.npy"
    arr = np.random.default_rng(0).random((6, 3, 5, 5)).astype(np.float32)
    np.save(path, arr)
    dm = TensorFileDataModule(str(path))
    assert dm.data_shape == (3, 5, 5)
    xs, _ = _all(dm)
    assert _rows(xs) == _rows(torch.from_numpy(arr))


@pytest.mark.parametrize("suffix", [".npy", ".pt", ".npz"])
def test_tensor_file_garbage_names_the_path(tmp_path, suffix):
    path = tmp_path / f"garbage{suffix}"
    path.write_bytes(b"\x00\x01garbage, not an array" * 10)
    with pytest.raises(DataError) as e:
        TensorFileDataModule(str(path)).setup()
    assert str(path) in str(e.value)
    assert "could not be read" in str(e.value)


def test_tensor_file_wrong_suffix(tmp_path):
    path = tmp_path / "data.csv"
    path.write_text("1,2,3\n")
    with pytest.raises(DataError, match=r"'\.csv'") as e:
        TensorFileDataModule(str(path)).setup()
    assert str(path) in str(e.value)


def test_tensor_file_missing(tmp_path):
    with pytest.raises(DataError, match="does not exist"):
        TensorFileDataModule(str(tmp_path / "absent.npy")).setup()


def test_tensor_file_bad_shape_and_label_count(tmp_path):
    np.save(tmp_path / "five.npy", np.zeros((4, 2, 2, 2, 2), dtype=np.float32))
    with pytest.raises(DataError, match=r"\(4, 2, 2, 2, 2\)"):
        TensorFileDataModule(str(tmp_path / "five.npy")).setup()
    np.savez(tmp_path / "labels.npz", x=np.zeros((5, 3), dtype=np.float32), y=np.zeros(4))
    with pytest.raises(DataError, match="5 examples but 4 labels"):
        TensorFileDataModule(str(tmp_path / "labels.npz")).setup()


# --- torchvision sets ----------------------------------------------------------------------


def test_torchvision_missing_files(tmp_path):
    dm = TorchvisionDataModule(name="MNIST", root=str(tmp_path), download=False)
    with pytest.raises(DataError) as e:
        dm.setup()
    msg = str(e.value)
    assert str(tmp_path / "MNIST" / "raw") in msg
    assert "train-images-idx3-ubyte" in msg
    assert "dataset.download=false" in msg
    assert list(tmp_path.iterdir()) == []  # nothing fetched or created


def test_torchvision_corrupt_files(tmp_path):
    raw = tmp_path / "MNIST" / "raw"
    raw.mkdir(parents=True)
    for name in MNIST_FILES:
        (raw / name).write_bytes(b"\x00\x00\x08\x03garbage")
    with pytest.raises(DataError, match="could not be read") as e:
        TorchvisionDataModule(name="MNIST", root=str(tmp_path), download=False).setup()
    assert str(raw) in str(e.value)


def test_torchvision_unknown_name(tmp_path):
    with pytest.raises(DataError, match="SVHN"):
        TorchvisionDataModule(name="SVHN", root=str(tmp_path))


def _shared_mnist_root() -> Path | None:
    root = os.environ.get("AELAB_DATA_DIR")
    if root and (Path(root) / "MNIST" / "raw" / "train-images-idx3-ubyte").is_file():
        return Path(root)
    return None


@pytest.mark.skipif(_shared_mnist_root() is None, reason="AELAB_DATA_DIR does not hold MNIST/raw")
def test_mnist_from_shared_data_dir():
    dm = TorchvisionDataModule(
        name="MNIST", root=str(_shared_mnist_root()), download=False, val_fraction=0.1
    )
    dm.setup()
    sizes = {k: len(v[0]) for k, v in dm.splits.items()}
    assert sizes == {"train": 18000, "val": 2000, "test": 10000}  # 20,000-image train prefix
    assert dm.data_shape == (1, 28, 28)
    for x, y in dm.splits.values():
        assert x.dtype == torch.uint8
        assert y.min() == 0 and y.max() == 9
    xb, yb = next(iter(dm.test_dataloader()))
    assert xb.dtype == torch.float32 and xb.min() == 0 and xb.max() == 1
    assert xb.shape == (1000, 1, 28, 28)


def test_dynamic_binarization_draws_training_bits_per_batch_and_fixes_evaluation_bits() -> None:
    from aelab.data import DigitsDataModule

    dm = DigitsDataModule(binarize=True, batch_size=2000)
    dm.setup()
    test = as_float(dm.splits["test"][0])
    assert set(test.unique().tolist()) == {0.0, 1.0}
    again = DigitsDataModule(binarize=True)
    again.setup()
    assert torch.equal(again.splits["test"][0], dm.splits["test"][0])  # the same bits every run
    torch.manual_seed(0)
    (x1, _), (x2, _) = next(iter(dm.train_dataloader())), next(iter(dm.train_dataloader()))
    assert set(x1.unique().tolist()) == {0.0, 1.0} and not torch.equal(x1, x2)
    grey = as_float(dm.splits["train"][0])
    assert abs(x1.mean().item() - grey.mean().item()) < 0.01  # E[bit] = intensity


def test_splits_are_kept_on_the_accelerator_once(monkeypatch):
    """On a GPU the split is copied to the device once and batches are gathered there ("meta"
    stands in for the accelerator: same code path, no GPU needed)."""
    from types import SimpleNamespace

    from aelab.data import DigitsDataModule

    dm = DigitsDataModule(batch_size=64)
    fake = SimpleNamespace(
        strategy=SimpleNamespace(root_device=torch.device("meta")), global_rank=0, world_size=1
    )
    monkeypatch.setattr(type(dm), "trainer", property(lambda self: fake), raising=False)
    loader = dm.train_dataloader()
    assert loader.x.device.type == "meta" and loader.x.dtype == dm.splits["train"][0].dtype
    x, y = next(iter(loader))
    assert x.device.type == "meta" and x.shape == (64, 1, 8, 8) and x.dtype == torch.float32
    assert dm.train_dataloader().x is loader.x  # copied once, not per epoch
    dm.on_device = False
    dm._device_splits.clear()
    assert dm.train_dataloader().x.device.type == "cpu"


def test_dequantization_spreads_each_level_over_its_bin_in_training_only() -> None:
    """x * 255/256 + U(0, 1/256) on training batches (NCSN's code); evaluation as stored."""
    from aelab.data import DigitsDataModule

    dm = DigitsDataModule(dequantize=True, batch_size=2000)
    torch.manual_seed(0)
    x, _ = next(iter(dm.train_dataloader()))
    grey = as_float(dm.splits["train"][0]).flatten()
    assert x.min() >= 0 and x.max() <= 1
    assert len(x.unique()) > 10 * len(grey.unique())  # continuous, not 17 levels
    assert abs(x.mean().item() - (grey.mean().item() * 255 / 256 + 1 / 512)) < 2e-3
    xv, _ = next(iter(dm.val_dataloader()))
    assert torch.equal(xv, as_float(dm.splits["val"][0][: len(xv)]))
    assert dm.in_unit_interval and not dm.is_binary
    assert DigitsDataModule(binarize=True).is_binary


def test_likelihood_auto_follows_the_data_and_bernoulli_off_the_unit_interval_is_refused():
    from aelab.assemble import choose_likelihood
    from aelab.data import DigitsDataModule, Toy2dDataModule
    from aelab.errors import ConfigError

    digits, ring = DigitsDataModule(), Toy2dDataModule(name="ring8")
    assert choose_likelihood("auto", digits) == "bernoulli"
    assert choose_likelihood("auto", ring) == "gaussian"
    assert choose_likelihood("continuous_bernoulli", digits) == "continuous_bernoulli"
    with pytest.raises(ConfigError, match="use network.likelihood=gaussian"):
        choose_likelihood("bernoulli", ring)
