"""In-memory data: a LightningDataModule over whole tensors, served by index batches.

Every data set in the suite is small enough to sit in memory as one float tensor, so the hot
path is a single gather ``x[idx]`` per batch: no per-sample ``__getitem__``, no collate, no
PIL. Splits are drawn once from ``split_seed`` (independent of the training ``seed``), so
every run of a sweep is scored on the same validation and test images.
"""

from __future__ import annotations

import math
from collections.abc import Iterator

import pytorch_lightning as pl
import torch
from torch import Tensor

from aelab.errors import ConfigError

# (x, y): x is float, or uint8 pixels (0..255) turned into [0, 1] floats one batch at a time so
# that large image sets stay small in memory; y is long labels, -1 where there are none.
Split = tuple[Tensor, Tensor]


def as_float(x: Tensor) -> Tensor:
    """Pixels stored as uint8 become floats in [0, 1]; floats pass through."""
    return x.float().div_(255) if x.dtype == torch.uint8 else x


class TensorBatches:
    """Iterable of ``(x, y)`` batches gathered by index from whole tensors.

    Shuffling is seeded by ``seed + epoch`` (Lightning calls ``set_epoch``), so a run repeats
    exactly. Under DDP each rank takes every ``world_size``-th index of the shared order;
    training shards are padded to equal length like ``DistributedSampler`` (ranks must take
    the same number of steps), evaluation shards are not (no example is counted twice).
    """

    def __init__(
        self,
        x: Tensor,
        y: Tensor,
        batch_size: int,
        shuffle: bool = False,
        drop_last: bool = False,
        seed: int = 0,
        rank: int = 0,
        world_size: int = 1,
        binarize: bool = False,
        dequantize: bool = False,
    ) -> None:
        self.x, self.y, self.binarize, self.dequantize = x, y, binarize, dequantize
        self.batch_size, self.shuffle, self.drop_last = batch_size, shuffle, drop_last
        self.seed, self.rank, self.world_size = seed, rank, world_size
        self.epoch = 0
        n = len(x)
        self.per_rank = math.ceil(n / world_size) if shuffle else len(range(rank, n, world_size))

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    # Lightning calls ``dataloader.sampler.set_epoch(epoch)`` each epoch and inspects
    # ``batch_sampler``: this object is its own sampler and has no batch sampler.
    batch_sampler = None

    @property
    def sampler(self) -> TensorBatches:
        return self

    def __len__(self) -> int:
        if self.drop_last:
            return self.per_rank // self.batch_size
        return math.ceil(self.per_rank / self.batch_size)

    def _indices(self) -> Tensor:
        n = len(self.x)
        if self.shuffle:
            g = torch.Generator().manual_seed(self.seed + self.epoch)
            order = torch.randperm(n, generator=g)
        else:
            order = torch.arange(n)
        if self.world_size > 1:
            if self.shuffle:  # pad by repeating the order, as DistributedSampler does
                padded = self.per_rank * self.world_size
                order = order.repeat(math.ceil(padded / n))[:padded]
            order = order[self.rank :: self.world_size]
        return order

    def __iter__(self) -> Iterator[tuple[Tensor, Tensor]]:
        order = self._indices().to(self.x.device)  # one copy per epoch, not one per batch
        for i in range(len(self)):
            idx = order[i * self.batch_size : (i + 1) * self.batch_size]
            x = as_float(self.x[idx])
            if self.binarize:
                x = torch.bernoulli(x)
            elif self.dequantize:  # 256 levels spread uniformly over their bins of [0, 1]
                x = x.mul_(255 / 256).add_(torch.rand_like(x), alpha=1 / 256)
            yield x, self.y[idx]


class TensorDataModule(pl.LightningDataModule):
    """Base of every data set: subclasses implement :meth:`load`, this class splits and serves.

    ``load`` returns ``(train, test)``; ``test`` may be ``None`` for data sets without an
    official test split, in which case ``test_fraction`` of the data is held out.
    ``val_fraction`` of the training split is held out for validation.

    ``binarize=True`` is the dynamic binarization of Burda et al. (2015, Sec. 5.1): every
    training batch draws its pixels as Bernoulli(intensity) afresh; the validation and test
    splits are drawn once (from ``split_seed``), so every run is scored on the same bits.

    ``dequantize=True`` adds uniform noise to every training batch, x * 255/256 + U(0, 1/256),
    so that 8-bit pixels become a continuous density's samples (Song & Ermon's NCSN code,
    ermongroup/ncsn ``runners/anneal_runner.py``; Theis et al. 2016); evaluation sees the
    stored pixels.
    """

    def __init__(
        self,
        batch_size: int = 128,
        eval_batch_size: int = 1000,
        val_fraction: float = 0.1,
        test_fraction: float = 0.2,
        split_seed: int = 0,
        shuffle_seed: int | None = 0,
        limit: int | None = None,
        binarize: bool = False,
        dequantize: bool = False,
        on_device: bool = True,
    ) -> None:
        super().__init__()
        if binarize and dequantize:
            raise ConfigError(
                "dataset.binarize=true and dataset.dequantize=true exclude each other: binary pixels need no dequantization, so keep one."
            )
        self.binarize, self.dequantize, self.on_device = binarize, dequantize, on_device
        self._device_splits: dict[str, Split] = {}
        self.batch_size, self.eval_batch_size = batch_size, eval_batch_size
        self.val_fraction, self.test_fraction = val_fraction, test_fraction
        if shuffle_seed is None:  # seed=null: unseeded, but still one fixed order per epoch
            shuffle_seed = int(torch.randint(2**31, ()))
        self.split_seed, self.shuffle_seed, self.limit = split_seed, shuffle_seed, limit
        self.splits: dict[str, Split] | None = None

    def load(self) -> tuple[Split, Split | None]:
        raise NotImplementedError

    @property
    def data_shape(self) -> tuple[int, ...]:
        """Shape of one example, e.g. ``(1, 28, 28)`` or ``(2,)``."""
        self.setup()
        return tuple(self.splits["train"][0].shape[1:])

    @property
    def is_image(self) -> bool:
        return len(self.data_shape) == 3

    @property
    def value_range(self) -> tuple[float, float]:
        """The smallest and largest value of the training split (uint8 pixels read as [0, 1])."""
        self.setup()
        x = self.splits["train"][0]
        scale = 255.0 if x.dtype == torch.uint8 else 1.0
        return float(x.min()) / scale, float(x.max()) / scale

    @property
    def in_unit_interval(self) -> bool:
        """Whether every training value lies in [0, 1] (what a Bernoulli decoder needs)."""
        lo, hi = self.value_range
        return lo >= 0.0 and hi <= 1.0

    @property
    def is_binary(self) -> bool:
        """Whether the data a model is scored on are 0 / 1 (dynamically binarized, or binary
        as stored): only then is a Bernoulli decoder's NLL a log-likelihood."""
        if self.binarize:
            return True
        self.setup()
        x = self.splits["train"][0]
        one = 255 if x.dtype == torch.uint8 else 1
        return bool(((x == 0) | (x == one)).all())

    def setup(self, stage: str | None = None) -> None:
        if self.splits is not None:
            return
        train, test = self.load()
        g = torch.Generator().manual_seed(self.split_seed)
        if test is None:
            train, test = _split(train, self.test_fraction, g)
        train, val = _split(train, self.val_fraction, g)
        if self.limit is not None:  # a quick look at a big data set: first `limit` of each split
            train, val, test = ((x[: self.limit], y[: self.limit]) for x, y in (train, val, test))
        if self.binarize:
            val, test = (_binarized(x, y, g) for x, y in (val, test))
        self.splits = {"train": train, "val": val, "test": test}

    def _loader(self, split: str, batch_size: int, shuffle: bool) -> TensorBatches:
        self.setup()
        x, y = self.splits[split]
        trainer = self.trainer
        device = trainer.strategy.root_device if trainer else None
        if self.on_device and device is not None and device.type != "cpu":
            x, y = self._resident(split, device)
        return TensorBatches(
            x,
            y,
            batch_size,
            shuffle=shuffle,
            seed=self.shuffle_seed,
            rank=trainer.global_rank if trainer else 0,
            world_size=trainer.world_size if trainer else 1,
            binarize=self.binarize and split == "train",
            dequantize=self.dequantize and split == "train",
        )

    def _resident(self, split: str, device: torch.device) -> Split:
        """The split copied to the accelerator once (uint8 images stay uint8): batches are then
        gathered there, with no host-to-device copy per step."""
        if split not in self._device_splits:
            x, y = self.splits[split]
            self._device_splits[split] = (x.to(device), y.to(device))
        return self._device_splits[split]

    def train_dataloader(self) -> TensorBatches:
        return self._loader("train", self.batch_size, shuffle=True)

    def val_dataloader(self) -> TensorBatches:
        return self._loader("val", self.eval_batch_size, shuffle=False)

    def test_dataloader(self) -> TensorBatches:
        return self._loader("test", self.eval_batch_size, shuffle=False)


def _binarized(x: Tensor, y: Tensor, g: torch.Generator) -> Split:
    """One fixed Bernoulli draw of every pixel, kept as uint8 0 / 255 (``as_float``: 0 / 1)."""
    bits = torch.bernoulli(as_float(x.clone()), generator=g)
    return bits.mul_(255).to(torch.uint8), y


def _split(data: Split, fraction: float, g: torch.Generator) -> tuple[Split, Split]:
    """Random split of ``data`` into ``(1 - fraction, fraction)`` parts."""
    x, y = data
    order = torch.randperm(len(x), generator=g)
    n_held = max(1, round(fraction * len(x)))
    keep, held = order[n_held:], order[:n_held]
    return (x[keep], y[keep]), (x[held], y[held])
