"""Image data sets, each loaded once into whole tensors (pixels in [0, 1], shape N x C x H x W).

``digits`` (scikit-learn's bundled 8x8 handwritten digits) needs no download and is the
default. MNIST, Fashion-MNIST, CIFAR-10 and CelebA come through torchvision; ``folder`` and
``tensor`` read a user's own images or array file.
"""

from __future__ import annotations

import errno
import logging
from pathlib import Path

import numpy as np
import torch
from torch import Tensor

from aelab.data.base import Split, TensorDataModule
from aelab.errors import DISK_ERRNOS, DataError

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp", ".tif", ".tiff"}

log = logging.getLogger(__name__)


def _labels(y) -> Tensor:
    return torch.as_tensor(np.asarray(y), dtype=torch.long)


class DigitsDataModule(TensorDataModule):
    """scikit-learn's 1,797 handwritten digits, 8x8, 17 grey levels scaled to [0, 1]."""

    def load(self) -> tuple[Split, None]:
        from sklearn.datasets import load_digits

        digits = load_digits()
        x = torch.as_tensor(digits.images, dtype=torch.float32).div_(16.0).unsqueeze(1)
        return (x, _labels(digits.target)), None


class TorchvisionDataModule(TensorDataModule):
    """MNIST, Fashion-MNIST or CIFAR-10 read by torchvision from ``root`` (stored as uint8).

    Without the files and without network, the run stops with a sentence naming the
    directory and the files torchvision expects there.
    """

    EXPECTED = {
        "MNIST": (
            "MNIST/raw",
            "train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte",
        ),
        "FashionMNIST": (
            "FashionMNIST/raw",
            "train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte",
        ),
        "CIFAR10": (
            "cifar-10-batches-py",
            "data_batch_1 .. data_batch_5, test_batch, batches.meta",
        ),
    }

    def __init__(self, name: str, root: str, download: bool = False, **kwargs) -> None:
        super().__init__(**kwargs)
        if name not in self.EXPECTED:
            raise DataError(f"dataset.name={name!r} is not one of {sorted(self.EXPECTED)}.")
        self.name, self.root, self.download = name, Path(root).expanduser(), download

    def _read(self, train: bool) -> Split:
        import torchvision

        subdir, files = self.EXPECTED[self.name]
        where = self.root / subdir
        existed = _existing_parents(where)
        try:
            ds = getattr(torchvision.datasets, self.name)(
                str(self.root), train=train, download=self.download
            )
        except RuntimeError as e:
            if not any(w in str(e) for w in ("not found", "ownload")):  # e.g. a truncated file
                raise _unreadable(self.name, where, files, e) from e
            _remove_empty_dirs(where, existed)  # a failed download leaves nothing behind
            how = (
                "could not be downloaded (no network?)"
                if self.download
                else "dataset.download=false"
            )
            raise DataError(
                f"{self.name} was not found in {where} and {how}: place {files} there, "
                f"or point AELAB_DATA_DIR (paths.data_dir) at a directory that holds {subdir}/."
            ) from e
        except OSError as e:
            _remove_empty_dirs(where, existed)
            if e.errno not in (*DISK_ERRNOS, errno.ENOTDIR):
                raise _unreadable(self.name, where, files, e) from e
            raise DataError(
                f"{self.name} is not in {where} and cannot be downloaded there ({e.strerror}): "
                f"point AELAB_DATA_DIR (paths.data_dir) at a writable directory, or at one that holds {subdir}/."
            ) from e
        except Exception as e:  # truncated or corrupt files: torchvision fails in many ways
            raise _unreadable(self.name, where, files, e) from e
        x = torch.as_tensor(np.asarray(ds.data))
        x = x.unsqueeze(1) if x.ndim == 3 else x.permute(0, 3, 1, 2)  # N x C x H x W, uint8
        return x.contiguous(), _labels(ds.targets)

    def load(self) -> tuple[Split, Split]:
        return self._read(train=True), self._read(train=False)


class CelebADataModule(TensorDataModule):
    """CelebA aligned faces, centre-cropped to 140 and resized to ``image_size`` (DCGAN/WAE protocol).

    The first load converts torchvision's per-image files into one uint8 tensor cached beside
    them (``celeba/aelab_{image_size}.pt``), so later runs start in seconds.
    """

    def __init__(self, root: str, image_size: int = 64, download: bool = False, **kwargs) -> None:
        super().__init__(**kwargs)
        self.root, self.image_size, self.download = Path(root).expanduser(), image_size, download

    def _read(self, split: str) -> Split:
        import torchvision
        from torchvision import transforms as T

        cache = self.root / "celeba" / f"aelab_{self.image_size}_{split}.pt"
        if cache.exists():
            return _load_cache(cache)
        tf = T.Compose([T.CenterCrop(140), T.Resize(self.image_size), T.PILToTensor()])
        try:
            ds = torchvision.datasets.CelebA(
                str(self.root), split=split, transform=tf, download=self.download
            )
        except Exception as e:
            raise DataError(
                f"CelebA was not found or not readable in {self.root / 'celeba'}: place img_align_celeba/ "
                f"and list_eval_partition.txt, list_attr_celeba.txt, identity_CelebA.txt, "
                f"list_bbox_celeba.txt, list_landmarks_align_celeba.txt there ({e})."
            ) from e
        x = torch.stack([ds[i][0] for i in range(len(ds))])
        y = torch.full((len(x),), -1, dtype=torch.long)
        _save_cache(cache, x, y)
        return x, y

    def load(self) -> tuple[Split, Split]:
        return self._read("train"), self._read("test")


class FolderDataModule(TensorDataModule):
    """A directory of images of any size, centre-cropped to square and resized to ``image_size``.

    Images in sub-directories take the sub-directory's index as their label (the
    ``ImageFolder`` layout); images directly in ``path`` are unlabelled.
    """

    def __init__(self, path: str, image_size: int = 64, channels: int = 3, **kwargs) -> None:
        super().__init__(**kwargs)
        if channels not in (1, 3):
            raise DataError(f"dataset.channels={channels} is not allowed: use 1 (grey) or 3 (RGB).")
        self.path, self.image_size, self.channels = Path(path).expanduser(), image_size, channels

    def load(self) -> tuple[Split, None]:
        from PIL import Image, UnidentifiedImageError
        from torchvision.transforms import functional as F

        if not self.path.is_dir():
            raise DataError(
                f"dataset.path={str(self.path)!r} is not a directory: point it at a folder of images."
            )
        files = sorted(p for p in self.path.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES)
        if not files:
            raise DataError(
                f"{self.path} holds no images ({', '.join(sorted(IMAGE_SUFFIXES))}): add some or fix dataset.path."
            )
        top = [f for f in files if f.parent == self.path]
        deep = [f for f in files if f.parent != self.path and f.parent.parent != self.path]
        if deep or (top and len(top) < len(files)):
            where = deep[0].parent if deep else self.path
            raise DataError(
                f"{self.path} mixes layouts ({len(top)} images directly in it, "
                f"{len(files) - len(top)} in sub-directories, e.g. {where}): use one folder of "
                "images, or one sub-directory of images per class (the ImageFolder layout)."
            )
        classes = sorted({p.parent for p in files} - {self.path})
        label_of = {d: i for i, d in enumerate(classes)}
        log.info(
            "dataset=folder: %d images in %s",
            len(files),
            f"{len(classes)} classes ({', '.join(d.name for d in classes[:5])}{', ...' if len(classes) > 5 else ''}) under {self.path}"
            if classes
            else f"{self.path}, unlabelled",
        )
        images = []
        for f in files:
            try:
                with Image.open(f) as im:
                    im = im.convert("L" if self.channels == 1 else "RGB")
                    im = F.resize(
                        F.center_crop(im, min(im.size)),
                        [self.image_size, self.image_size],
                        antialias=True,
                    )
                    images.append(F.pil_to_tensor(im))
            except (OSError, UnidentifiedImageError) as e:
                raise DataError(f"{f} is not a readable image ({e}); remove or replace it.") from e
        y = torch.tensor([label_of.get(f.parent, -1) for f in files])
        return (torch.stack(images), y), None


class TensorFileDataModule(TensorDataModule):
    """A user's own array: a ``.pt`` file (a tensor, or a dict with ``x`` and optional ``y``),
    or a ``.npy`` / ``.npz`` file (``.npz`` with arrays ``x`` and optional ``y``).

    Accepted shapes: N x D vectors, N x H x W, N x C x H x W or N x H x W x C images. uint8
    images are scaled from 0..255 to [0, 1]; float data is used as it is.
    """

    def __init__(self, path: str, **kwargs) -> None:
        super().__init__(**kwargs)
        self.path = Path(path).expanduser()

    def load(self) -> tuple[Split, None]:
        x, y = _read_array_file(self.path)
        if x.ndim == 3:
            x = x.unsqueeze(1)
        elif x.ndim == 4 and x.shape[-1] in (1, 3, 4) and x.shape[1] not in (1, 3, 4):
            x = x.permute(0, 3, 1, 2).contiguous()
        elif x.ndim not in (2, 4):
            raise DataError(
                f"{self.path} holds an array of shape {tuple(x.shape)}: expected N x D, N x H x W, N x C x H x W or N x H x W x C."
            )
        if x.dtype != torch.uint8:
            x = x.float()
        if y is None:
            y = torch.full((len(x),), -1, dtype=torch.long)
        elif len(y) != len(x):
            raise DataError(
                f"{self.path} has {len(x)} examples but {len(y)} labels: give one label per example."
            )
        return (x, y.long()), None


def _read_array_file(path: Path) -> tuple[Tensor, Tensor | None]:
    if not path.is_file():
        raise DataError(
            f"dataset.path={str(path)!r} does not exist: point it at a .pt, .npy or .npz file."
        )
    try:
        if path.suffix == ".pt":
            obj = torch.load(path, map_location="cpu", weights_only=True)
            if isinstance(obj, dict):
                return torch.as_tensor(obj["x"]), (
                    torch.as_tensor(obj["y"]) if "y" in obj else None
                )
            return torch.as_tensor(obj), None
        if path.suffix == ".npy":
            return torch.from_numpy(np.load(path, allow_pickle=False)), None
        if path.suffix == ".npz":
            with np.load(path, allow_pickle=False) as f:
                return torch.from_numpy(f["x"]), (torch.from_numpy(f["y"]) if "y" in f else None)
    except Exception as e:
        raise DataError(
            f"{path} could not be read as an array file ({type(e).__name__}: {e}); check or re-export it."
        ) from e
    raise DataError(
        f"dataset.path={str(path)!r} has suffix {path.suffix!r}: use a .pt, .npy or .npz file."
    )


def _unreadable(name: str, where: Path, files: str, e: Exception) -> DataError:
    first = str(e).splitlines()[0] if str(e) else ""
    return DataError(
        f"{name} in {where} could not be read ({type(e).__name__}: {first}); "
        f"delete the damaged files among {files} and fetch them again."
    )


def _existing_parents(path: Path) -> set[Path]:
    return {p for p in (path, *path.parents) if p.exists()}


def _remove_empty_dirs(path: Path, keep: set[Path]) -> None:
    """Remove the empty directories a failed download created on the way to ``path``."""
    for p in (path, *path.parents):
        if p in keep or not p.is_dir() or any(p.iterdir()):
            return
        p.rmdir()


def _save_cache(path: Path, x: Tensor, y: Tensor) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    torch.save({"x": x, "y": y}, tmp)
    tmp.replace(path)  # atomic: a killed conversion never leaves a half-written cache


def _load_cache(path: Path) -> Split:
    obj = torch.load(path, map_location="cpu", weights_only=True)
    return obj["x"], obj["y"]
