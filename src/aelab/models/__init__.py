"""Model families: one LightningModule each, all on :class:`AutoencoderModule`."""

from aelab.models.ae import Autoencoder
from aelab.models.base import AutoencoderModule
from aelab.models.pca import PCA

__all__ = ["PCA", "Autoencoder", "AutoencoderModule"]
