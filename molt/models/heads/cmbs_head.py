"""AVE head: CMBS (Xia & Zhao, CVPR 2022) as DG-SCT and AVMoE instantiate
it on Swin-V2-L + HTS-AT features."""
from typing import Dict, List, Optional

import torch
from torch import Tensor, nn
from torch.nn import functional as F

from molt.registry import MODELS
from molt.structures import AVDataSample
from ..layers import TemporalRelationModule
from .base import BaseAVEHead

__all__ = ['CMBSHead', 'topk_mean']


def topk_mean(scores: Tensor, k: int) -> Tensor:
    """Mean of the ``k`` largest values over the time axis (CMBS's
    video-level class scores from segment-level ones).

    Args:
        scores: ``(B, T, K)``.
        k: Values kept per class; clipped to ``T``.

    Returns:
        ``(B, K)``.
    """
    k = min(k, scores.shape[1])
    return scores.topk(k, dim=1).values.mean(1)


@MODELS.register_module()
class CMBSHead(BaseAVEHead):
    """The CMBS AVE head as DG-SCT and AVMoE put it on Swin-V2-L + HTS-AT.

    Per segment, the fused MoLT tokens of each modality are mean-pooled
    over the ``N`` tokens (AVMoE; DG-SCT pools with its adapters' spatial
    attention maps, which belong to its adapters, not to the head), then:

    1. :class:`TemporalRelationModule` gives CMRA features ``v``, ``a``
       ``(B, T, d)`` and gates ``g_v``, ``g_a``; ``v <- v (1 + s g_a)``,
       ``a <- a (1 + s g_v)`` (``s = gate_scale``);
    2. class activations per segment, ``W_cv v`` and ``W_ca a`` ``(B, T,
       28)``, each reduced to the mean of its ``topk`` largest segments and
       averaged: ``av_logits`` ``(B, 28)``;
    3. ``f = (v + a) / 2``: event relevance ``w^T f`` per segment
       (``event_logits`` ``(B, T)``) and the event class from the
       max-pooled ``f``, ``class_logits = W max_t f + av_weight *
       av_logits`` ``(B, 28)``.

    CMBS's audio-visual interaction (``AudioVideoInter``) is left out:
    DG-SCT builds it but drops its output, AVMoE does not build it.

    Losses (CMBS/DG-SCT training scripts, all weight 1):
    ``loss_event`` BCE-with-logits of ``event_logits`` against "segment is
    an event"; ``loss_class`` and ``loss_av`` cross-entropy of
    ``class_logits`` and ``av_logits`` against the video's event class;
    ``loss_gate`` BCE-with-logits of ``g_v g_a`` against "segment is an
    event". The gate is a product of sigmoids, not a logit: CMBS and
    DG-SCT feed it to ``BCEWithLogitsLoss`` all the same, and so does this
    head (AVMoE drops the term: ``gate_loss_weight=0``). The video's class
    is taken as the references take it: the largest event label of its
    segments, 0 when it has none.

    Prediction: :meth:`BaseAVEHead.predict` (CMBS's
    ``compute_accuracy_supervised``).

    Args:
        visual_dims: Width of the visual tokens (filled in by the model).
        audio_dims: Width of the audio tokens (filled in by the model).
        num_classes: Event classes (28 for AVE), background excluded.
        visual_fc_dims: Width of the visual projection (peers: 512).
        audio_fc_dims: Width of the audio projection (peers: 128).
        d_model: Width of the relation layers (peers: 256).
        ffn_dims: Feed-forward width of the relation layers (peers: 1024).
        num_heads: Attention heads (peers: 4).
        num_layers: Self-attention layers per ITRM (peers: 2).
        dropout: Dropout of the relation layers (peers: 0.1).
        fc_dropout: Dropout after the visual projection (peers: 0.2).
        gate_scale: ``s`` above (DG-SCT/AVMoE 0.1; CMBS's alpha 0.1).
        av_weight: Weight of ``av_logits`` in ``class_logits`` (0.3).
        topk: Segments averaged for ``av_logits`` (4).
        gate_loss_weight: Weight of ``loss_gate`` (CMBS/DG-SCT 1, AVMoE 0).
        event_threshold: Relevance probability above which a segment holds
            the event.
    """

    def __init__(self,
                 visual_dims: int,
                 audio_dims: int,
                 num_classes: int = 28,
                 visual_fc_dims: int = 512,
                 audio_fc_dims: int = 128,
                 d_model: int = 256,
                 ffn_dims: int = 1024,
                 num_heads: int = 4,
                 num_layers: int = 2,
                 dropout: float = 0.1,
                 fc_dropout: float = 0.2,
                 gate_scale: float = 0.1,
                 av_weight: float = 0.3,
                 topk: int = 4,
                 gate_loss_weight: float = 1.0,
                 event_threshold: float = 0.5,
                 init_cfg: Optional[dict] = None):
        super().__init__(visual_dims, audio_dims, num_classes,
                         event_threshold, init_cfg)
        self.temporal = TemporalRelationModule(
            visual_dims, audio_dims, visual_fc_dims, audio_fc_dims, d_model,
            ffn_dims, num_heads, num_layers, with_queries=True,
            dropout=dropout, fc_dropout=fc_dropout)
        self.visual_cas = nn.Linear(d_model, num_classes)
        self.audio_cas = nn.Linear(d_model, num_classes)
        self.event_fc = nn.Linear(d_model, 1)
        self.class_fc = nn.Linear(d_model, num_classes)
        self.gate_scale = gate_scale
        self.av_weight = av_weight
        self.topk = topk
        self.gate_loss_weight = gate_loss_weight

    def forward(self, feats: Dict[str, Tensor]) -> Dict[str, Tensor]:
        """Returns ``event_logits`` ``(B, T)``, ``class_logits`` and
        ``av_logits`` ``(B, num_classes)`` and the audio-visual ``gate``
        ``(B, T)``."""
        out = self.temporal(feats['visual'].mean(2), feats['audio'].mean(2))
        visual = out['visual'] * (1 + self.gate_scale * out['audio_gate'])
        audio = out['audio'] * (1 + self.gate_scale * out['visual_gate'])
        av_logits = (topk_mean(self.visual_cas(visual), self.topk) +
                     topk_mean(self.audio_cas(audio), self.topk)) / 2
        fused = (visual + audio) / 2
        class_logits = self.class_fc(fused.max(1).values)
        return dict(
            event_logits=self.event_fc(fused).squeeze(-1),
            class_logits=class_logits + self.av_weight * av_logits,
            av_logits=av_logits,
            gate=(out['visual_gate'] * out['audio_gate']).squeeze(-1))

    def loss(self, feats: Dict[str, Tensor],
             data_samples: List[AVDataSample]) -> Dict[str, Tensor]:
        outputs = self(feats)
        labels = torch.stack([s.gt_label for s in data_samples]).to(
            outputs['event_logits'].device)  # (B, T)
        is_event = (labels != self.num_classes).float()
        # The references' labels_event: max over segments of the argmax of
        # the foreground one-hot rows (0 for a background row).
        video_class = torch.where(is_event.bool(), labels, 0).max(1).values
        losses = dict(
            loss_event=F.binary_cross_entropy_with_logits(
                outputs['event_logits'], is_event),
            loss_class=F.cross_entropy(outputs['class_logits'], video_class),
            loss_av=F.cross_entropy(outputs['av_logits'], video_class))
        if self.gate_loss_weight:
            losses['loss_gate'] = self.gate_loss_weight * \
                F.binary_cross_entropy_with_logits(outputs['gate'], is_event)
        return losses
