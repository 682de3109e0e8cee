"""Data: every data set is a :class:`TensorDataModule` serving whole in-memory tensors."""

from aelab.data.base import TensorBatches, TensorDataModule, as_float
from aelab.data.images import (
    CelebADataModule,
    DigitsDataModule,
    FolderDataModule,
    TensorFileDataModule,
    TorchvisionDataModule,
)
from aelab.data.toy2d import Toy2dDataModule

__all__ = [
    "CelebADataModule",
    "DigitsDataModule",
    "FolderDataModule",
    "TensorBatches",
    "TensorDataModule",
    "TensorFileDataModule",
    "Toy2dDataModule",
    "TorchvisionDataModule",
    "as_float",
]
