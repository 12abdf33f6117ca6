"""Temporal modules shared by the heads and the adapters: CMBS's temporal
relation (``TemporalAttention`` in DG-SCT/AVMoE) and its layers."""
from typing import Dict, Optional

import torch
from mmcv.cnn.bricks.transformer import BaseTransformerLayer
from torch import Tensor, nn
from torch.nn import functional as F

__all__ = ['TemporalRelationModule', 'relation_layer']


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
