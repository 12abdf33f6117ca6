"""AVE head: CMBS (Xia & Zhao, CVPR 2022) as DG-SCT and AVMoE instantiate
it on Swin-V2-L + HTS-AT features."""
from typing import Dict, List, Optional

import torch
from mmcv.cnn.bricks.transformer import BaseTransformerLayer
from torch import Tensor, nn
from torch.nn import functional as F

from molt.registry import MODELS
from molt.structures import AVDataSample
from .ave_head import AVEHead
from .base import BaseAVHead

__all__ = [
    'CMBSHead', 'TemporalRelationModule', 'relation_layer', 'topk_mean'
]


def relation_layer(embed_dims: int, num_heads: int, ffn_dims: int,
                   dropout: float, cross: bool) -> BaseTransformerLayer:
    """One post-norm layer of CMRAN/CMBS, from mmcv parts.

    ``x = LN(x + Drop(MHA(x, m, m)))``, ``x = LN(x + Drop(W2 Drop(ReLU(W1
    x))))``, attention dropout ``dropout`` as in ``nn.MultiheadAttention``.
    ``cross=False`` is the encoder layer (``m = x``); ``cross=True`` the
    decoder layer, whose memory the caller builds (CMBS: ``[memory; x]``).
    """
    return BaseTransformerLayer(
        attn_cfgs=dict(
            type='MultiheadAttention',
            embed_dims=embed_dims,
            num_heads=num_heads,
            attn_drop=dropout,
            dropout_layer=dict(type='Dropout', drop_prob=dropout),
            batch_first=True),
        ffn_cfgs=dict(
            type='FFN',
            embed_dims=embed_dims,
            feedforward_channels=ffn_dims,
            ffn_drop=dropout,
            act_cfg=dict(type='ReLU', inplace=True)),
        operation_order=('cross_attn' if cross else 'self_attn', 'norm',
                         'ffn', 'norm'),
        batch_first=True)


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


class TemporalRelationModule(nn.Module):
    """CMBS's temporal part (``TemporalAttention`` in DG-SCT/AVMoE):

    1. ``v = Drop(ReLU(W_v v))``, ``a = W_a a`` (``W_a`` optional);
    2. a BiLSTM per modality: audio to ``d_model``, visual to ``2 d_model``;
    3. internal temporal relation (ITRM): an affine map to ``d_model`` and
       ``num_layers`` self-attention layers over the ``T`` segments, giving
       the key/value features of each modality;
    4. background-suppression gates ``sigmoid(w^T kv)`` per segment;
    5. (``with_queries``) cross-modal relation (CMRA): each modality's
       BiLSTM output, mapped to ``d_model``, attends to ``[kv of the other
       modality; itself]`` in one decoder layer.

    Args:
        visual_dims: Width of the visual input.
        audio_dims: Width of the audio input.
        visual_fc_dims: Width after ``W_v`` (peers: 512).
        audio_fc_dims: Width after ``W_a`` (peers: 128), or None for no
            ``W_a`` (the audio already has the LSTM's input width).
        d_model: Width of the relation layers (peers: 256).
        ffn_dims: Hidden width of their feed-forward blocks (peers: 1024).
        num_heads: Attention heads (peers: 4).
        num_layers: ITRM layers (peers: 2).
        with_queries: Build the CMRA decoders (AVE uses their outputs; the
            AVS decoder uses only the gates).
        dropout: Dropout of the relation layers (peers: 0.1).
        fc_dropout: Dropout after ``W_v`` (peers: 0.2).
    """

    def __init__(self,
                 visual_dims: int,
                 audio_dims: int,
                 visual_fc_dims: int = 512,
                 audio_fc_dims: Optional[int] = 128,
                 d_model: int = 256,
                 ffn_dims: int = 1024,
                 num_heads: int = 4,
                 num_layers: int = 2,
                 with_queries: bool = True,
                 dropout: float = 0.1,
                 fc_dropout: float = 0.2):
        super().__init__()
        if d_model % 2:
            raise ValueError(
                f'd_model={d_model} must be even: the audio BiLSTM has '
                'd_model / 2 units per direction.')
        self.visual_fc = nn.Linear(visual_dims, visual_fc_dims)
        self.audio_fc = (None if audio_fc_dims is None else nn.Linear(
            audio_dims, audio_fc_dims))
        audio_in = audio_dims if audio_fc_dims is None else audio_fc_dims
        self.fc_dropout = nn.Dropout(fc_dropout)
        # The peers pass dropout=0.2 to one-layer LSTMs, where it does
        # nothing; it is left out.
        self.audio_lstm = nn.LSTM(audio_in, d_model // 2, batch_first=True,
                                  bidirectional=True)
        self.visual_lstm = nn.LSTM(visual_fc_dims, d_model, batch_first=True,
                                   bidirectional=True)

        def layers(count: int, cross: bool) -> nn.ModuleList:
            return nn.ModuleList(
                relation_layer(d_model, num_heads, ffn_dims, dropout, cross)
                for _ in range(count))

        self.visual_in = nn.Linear(2 * d_model, d_model)
        self.audio_in = nn.Linear(d_model, d_model)
        self.visual_encoder = layers(num_layers, cross=False)
        self.audio_encoder = layers(num_layers, cross=False)
        self.visual_gate = nn.Linear(d_model, 1)
        self.audio_gate = nn.Linear(d_model, 1)
        self.with_queries = with_queries
        if with_queries:
            self.visual_query_in = nn.Linear(2 * d_model, d_model)
            self.audio_query_in = nn.Linear(d_model, d_model)
            self.visual_decoder = layers(1, cross=True)
            self.audio_decoder = layers(1, cross=True)

    @staticmethod
    def _encode(x: Tensor, layers: nn.ModuleList) -> Tensor:
        for layer in layers:
            x = layer(x)
        return x

    @staticmethod
    def _decode(query: Tensor, memory: Tensor,
                layers: nn.ModuleList) -> Tensor:
        for layer in layers:
            # CMBS lets a query also attend to its own modality.
            kv = torch.cat([memory, query], 1)
            query = layer(query, key=kv, value=kv)
        return query

    def forward(self, visual: Tensor, audio: Tensor) -> Dict[str, Tensor]:
        """Args:
            visual: ``(B, T, visual_dims)``.
            audio: ``(B, T, audio_dims)``.

        Returns:
            ``visual_gate``/``audio_gate`` ``(B, T, 1)`` (computed from the
            visual/audio key-value features) and, with ``with_queries``,
            the CMRA outputs ``visual``/``audio`` ``(B, T, d_model)``.
        """
        visual = self.fc_dropout(F.relu(self.visual_fc(visual)))
        if self.audio_fc is not None:
            audio = self.audio_fc(audio)
        audio, _ = self.audio_lstm(audio)  # (B, T, d)
        visual, _ = self.visual_lstm(visual)  # (B, T, 2d)
        visual_kv = self._encode(self.visual_in(visual), self.visual_encoder)
        audio_kv = self._encode(self.audio_in(audio), self.audio_encoder)
        out = dict(
            visual_gate=self.visual_gate(visual_kv).sigmoid(),
            audio_gate=self.audio_gate(audio_kv).sigmoid())
        if self.with_queries:
            out['visual'] = self._decode(
                self.visual_query_in(visual), audio_kv, self.visual_decoder)
            out['audio'] = self._decode(
                self.audio_query_in(audio), visual_kv, self.audio_decoder)
        return out


class AudioVisualInteraction(nn.Module):
    """CMBS's ``AudioVideoInter``: ``g = x * y``; ``LN(g + Drop(MHA(g,
    [y; x], [y; x])))``. Built with ``with_av_interaction`` only: DG-SCT
    builds it but drops its output, AVMoE does not build it.

    Args:
        embed_dims: Width of both inputs.
        num_heads: Attention heads.
        attn_drop: Dropout of the attention weights (CMBS: 0.2).
        dropout: Dropout of the attention output (CMBS: 0.1).
    """

    def __init__(self, embed_dims: int, num_heads: int,
                 attn_drop: float = 0.2, dropout: float = 0.1):
        super().__init__()
        self.attn = nn.MultiheadAttention(
            embed_dims, num_heads, dropout=attn_drop, batch_first=True)
        self.dropout = nn.Dropout(dropout)
        self.norm = nn.LayerNorm(embed_dims)

    def forward(self, x: Tensor, y: Tensor) -> Tensor:
        """``(B, T, C)``, ``(B, T, C)`` -> ``(B, T, C)``."""
        joint = x * y
        memory = torch.cat([y, x], 1)
        attended, _ = self.attn(joint, memory, memory, need_weights=False)
        return self.norm(joint + self.dropout(attended))


@MODELS.register_module()
class CMBSHead(BaseAVHead):
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
    3. (``with_av_interaction``, original CMBS only) ``v, a`` pass through
       :class:`AudioVisualInteraction`;
    4. ``f = (v + a) / 2``: event relevance ``w^T f`` per segment
       (``event_logits`` ``(B, T)``) and the event class from the
       max-pooled ``f``, ``class_logits = W max_t f + av_weight *
       av_logits`` ``(B, 28)``.

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

    Prediction (``compute_accuracy_supervised``): a segment is the
    video's class ``argmax class_logits`` when ``sigmoid(event_logits) >
    0.5``, else background (label ``num_classes``).

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
        with_av_interaction: Apply CMBS's audio-visual interaction before
            the classifiers (original CMBS; the peers do not).
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
                 with_av_interaction: bool = False,
                 gate_loss_weight: float = 1.0,
                 event_threshold: float = 0.5,
                 init_cfg: Optional[dict] = None):
        super().__init__(visual_dims, audio_dims, init_cfg=init_cfg)
        self.num_classes = num_classes
        self.temporal = TemporalRelationModule(
            visual_dims, audio_dims, visual_fc_dims, audio_fc_dims, d_model,
            ffn_dims, num_heads, num_layers, with_queries=True,
            dropout=dropout, fc_dropout=fc_dropout)
        self.visual_cas = nn.Linear(d_model, num_classes)
        self.audio_cas = nn.Linear(d_model, num_classes)
        self.interactions = None
        if with_av_interaction:
            self.interactions = nn.ModuleList(
                AudioVisualInteraction(d_model, num_heads) for _ in range(2))
        self.event_fc = nn.Linear(d_model, 1)
        self.class_fc = nn.Linear(d_model, num_classes)
        self.gate_scale = gate_scale
        self.av_weight = av_weight
        self.topk = topk
        self.gate_loss_weight = gate_loss_weight
        self.event_threshold = event_threshold

    def forward(self, feats: Dict[str, Tensor]) -> Dict[str, Tensor]:
        """Returns ``event_logits`` ``(B, T)``, ``class_logits`` and
        ``av_logits`` ``(B, num_classes)`` and the audio-visual ``gate``
        ``(B, T)``."""
        out = self.temporal(feats['visual'].mean(2), feats['audio'].mean(2))
        visual = out['visual'] * (1 + self.gate_scale * out['audio_gate'])
        audio = out['audio'] * (1 + self.gate_scale * out['visual_gate'])
        av_logits = (topk_mean(self.visual_cas(visual), self.topk) +
                     topk_mean(self.audio_cas(audio), self.topk)) / 2
        if self.interactions is not None:
            visual = self.interactions[0](visual, audio)
            audio = self.interactions[1](audio, visual)
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

    # The AVE prediction rule (CMBS's compute_accuracy_supervised) is the
    # light head's: relevance > threshold -> the video's class, else
    # background; writes ``pred_label`` and ``pred_event_score`` (T, ).
    predict = AVEHead.predict
