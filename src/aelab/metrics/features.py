"""Feature extractors for FID, KID and sample classes: a classifier trained in the suite
(``aelab-train model=classifier``), or Inception-v3: the papers' FID network offline
(:mod:`aelab.metrics.inception`), or torch-fidelity's port where its weights are."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import torch
from torch import Tensor, nn

from aelab.errors import AelabError


def classifier_from_checkpoint(ckpt_path: str) -> nn.Module:
    """The :class:`~aelab.models.Classifier` saved at ``ckpt_path``, in eval mode."""
    from aelab.checkpoint import load_model
    from aelab.models import Classifier

    model, _, _ = load_model(ckpt_path)
    if not isinstance(model, Classifier):
        raise AelabError(
            f"{ckpt_path} holds a {type(model).__name__}, not a classifier: train one with aelab-train model=classifier and pass its checkpoint."
        )
    return model


class InceptionFeatures(nn.Module):
    """Inception-v3 pool features (2048) of images in [0, 1]; grey images are repeated to RGB."""

    num_features = 2048

    def __init__(self, weights_path: str) -> None:
        super().__init__()
        try:
            from torchmetrics.image.fid import NoTrainInceptionV3
        except ImportError as e:  # torchmetrics raises when torch-fidelity is missing
            raise AelabError(
                "Inception features need torch-fidelity: pip install torch-fidelity, or use the suite's classifier features."
            ) from e
        if not Path(weights_path).expanduser().is_file():
            raise AelabError(
                f"inception={weights_path!r} was not found: use inception=fid (the FID network, offline), the path of pt_inception-2015-12-05 weights, or inception=null."
            )
        self.net = NoTrainInceptionV3(
            name="inception-v3-compat",
            features_list=["2048"],
            feature_extractor_weights_path=str(Path(weights_path).expanduser()),
        )

    def forward(self, x: Tensor) -> Tensor:
        if x.shape[1] == 1:
            x = x.repeat(1, 3, 1, 1)
        return self.net((x.clamp(0, 1) * 255).to(torch.uint8))


def inception_features(choice: str) -> nn.Module:
    """``inception=fid``: the FID network of :mod:`aelab.metrics.inception`; a path: the
    pt_inception-2015-12-05 weights through torch-fidelity."""
    if choice == "fid":
        from aelab.metrics.inception import FIDInception

        return FIDInception()
    return InceptionFeatures(choice)


@torch.no_grad()
def extract(
    features: Callable[[Tensor], Tensor],
    images: Tensor,
    device: torch.device | str = "cpu",
    batch_size: int = 500,
) -> Tensor:
    """``features(images)`` in batches on ``device``, gathered on the CPU."""
    return torch.cat([features(b.to(device)).float().cpu() for b in images.split(batch_size)])
