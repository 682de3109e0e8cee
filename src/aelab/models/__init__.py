"""Model families: one LightningModule each, all on :class:`AutoencoderModule`; and the
classifier whose features the generative metrics use."""

from aelab.models.adversarial import AdversarialAutoencoder
from aelab.models.ae import Autoencoder
from aelab.models.base import AutoencoderModule
from aelab.models.classifier import Classifier
from aelab.models.dae import DenoisingAutoencoder
from aelab.models.pca import PCA
from aelab.models.vae import VAE

__all__ = [
    "PCA",
    "VAE",
    "AdversarialAutoencoder",
    "Autoencoder",
    "AutoencoderModule",
    "Classifier",
    "DenoisingAutoencoder",
]
