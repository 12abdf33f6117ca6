"""AVE head: per-segment event relevance and per-video event class."""
import math
from typing import Dict, List, Optional

import torch
from torch import Tensor, nn
from torch.nn import functional as F

from molt.registry import MODELS
from molt.structures import AVDataSample
from .base import BaseAVEHead

__all__ = ['AVEHead']


@MODELS.register_module()
class AVEHead(BaseAVEHead):
    """The peers' AVE head (CMBS/LAVisH style) on fused MoLT tokens.

    Per segment, the pooled audio tokens attend over the visual tokens
    (audio-guided grounding); the grounded visual and the audio vectors are
    concatenated and a BiLSTM adds temporal context across the ``T``
    segments. Two outputs follow:

    * event relevance per segment, ``(B, T)`` logits (event vs background),
      trained with binary cross-entropy;
    * the video's event class, ``(B, num_classes)`` logits from the
      max-pooled sequence, trained with cross-entropy.

    Prediction: :meth:`BaseAVEHead.predict` (a segment is the video's
    event class when its relevance exceeds ``event_threshold``, background
    otherwise).

    Args:
        visual_dims: Width of the visual tokens.
        audio_dims: Width of the audio tokens.
        num_classes: Event classes (28 for AVE), background excluded.
        hidden_dims: Width of the projections and of each LSTM direction.
        dropout: Dropout before the classifiers.
        event_loss_weight: Weight of the relevance loss.
        class_loss_weight: Weight of the event-class loss.
        event_threshold: Relevance probability above which a segment holds
            the event.
    """

    def __init__(self,
                 visual_dims: int,
                 audio_dims: int,
                 num_classes: int = 28,
                 hidden_dims: int = 128,
                 dropout: float = 0.1,
                 event_loss_weight: float = 1.0,
                 class_loss_weight: float = 1.0,
                 event_threshold: float = 0.5,
                 init_cfg: Optional[dict] = None):
        super().__init__(visual_dims, audio_dims, num_classes,
                         event_threshold, init_cfg)
        self.visual_proj = nn.Linear(visual_dims, hidden_dims)
        self.audio_proj = nn.Linear(audio_dims, hidden_dims)
        self.temporal = nn.LSTM(
            2 * hidden_dims, hidden_dims, batch_first=True,
            bidirectional=True)
        self.dropout = nn.Dropout(dropout)
        self.event_fc = nn.Linear(2 * hidden_dims, 1)
        self.class_fc = nn.Linear(2 * hidden_dims, num_classes)
        self.event_loss_weight = event_loss_weight
        self.class_loss_weight = class_loss_weight

    def forward(self, feats: Dict[str, Tensor]) -> Dict[str, Tensor]:
        """Returns ``event_logits`` ``(B, T)`` and ``class_logits``
        ``(B, num_classes)``."""
        visual = self.visual_proj(feats['visual'])  # (B, T, N, h)
        audio = self.audio_proj(feats['audio']).mean(2)  # (B, T, h)
        scores = torch.einsum('btnh,bth->btn', visual, audio)
        attn = (scores / math.sqrt(visual.shape[-1])).softmax(-1)
        grounded = torch.einsum('btn,btnh->bth', attn, visual)
        sequence, _ = self.temporal(torch.cat([grounded, audio], -1))
        sequence = self.dropout(sequence)
        return dict(
            event_logits=self.event_fc(sequence).squeeze(-1),
            class_logits=self.class_fc(sequence.max(1).values))

    def loss(self, feats: Dict[str, Tensor],
             data_samples: List[AVDataSample]) -> Dict[str, Tensor]:
        outputs = self(feats)
        labels = torch.stack([s.gt_label for s in data_samples]).to(
            outputs['event_logits'].device)  # (B, T)
        is_event = labels != self.num_classes
        loss_event = F.binary_cross_entropy_with_logits(
            outputs['event_logits'], is_event.float())
        # The video's class: the label of its event segments.
        has_event = is_event.any(1)
        video_class = torch.where(is_event, labels, -1).max(1).values
        if has_event.any():
            loss_class = F.cross_entropy(outputs['class_logits'][has_event],
                                         video_class[has_event])
        else:
            loss_class = outputs['class_logits'].sum() * 0
        return dict(
            loss_event=self.event_loss_weight * loss_event,
            loss_class=self.class_loss_weight * loss_class)
