"""A minimal clip classification head."""
from typing import Dict, List, Optional

import torch
from torch import Tensor, nn
from torch.nn import functional as F

from molt.registry import MODELS
from molt.structures import AVDataSample
from .base import BaseAVHead

__all__ = ['AVClsHead']


@MODELS.register_module()
class AVClsHead(BaseAVHead):
    """Mean-pools each modality's tokens over segments and tokens,
    concatenates them and classifies the clip (one label per sample,
    ``data_sample.gt_label``).

    Args:
        visual_dims: Width of the visual tokens.
        audio_dims: Width of the audio tokens.
        num_classes: Number of classes.
    """

    def __init__(self,
                 visual_dims: int,
                 audio_dims: int,
                 num_classes: int,
                 init_cfg: Optional[dict] = None):
        super().__init__(visual_dims, audio_dims, init_cfg=init_cfg)
        self.fc = nn.Linear(visual_dims + audio_dims, num_classes)

    def forward(self, feats: Dict[str, Tensor]) -> Tensor:
        """Logits ``(B, num_classes)``."""
        pooled = torch.cat(
            [feats['visual'].mean((1, 2)), feats['audio'].mean((1, 2))], -1)
        return self.fc(pooled)

    def loss(self, feats: Dict[str, Tensor],
             data_samples: List[AVDataSample]) -> Dict[str, Tensor]:
        logits = self(feats)
        labels = torch.stack([s.gt_label for s in data_samples]).view(-1)
        return dict(loss_cls=F.cross_entropy(logits, labels.to(logits.device)))

    def predict(self, feats: Dict[str, Tensor],
                data_samples: List[AVDataSample]) -> List[AVDataSample]:
        scores = self(feats).softmax(-1)
        for sample, score in zip(data_samples, scores):
            sample.pred_score = score
            sample.pred_label = score.argmax()
        return data_samples
