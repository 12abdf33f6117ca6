"""DG-SCT (Duan et al., NeurIPS 2023): dual-guided spatial-channel-temporal
attention inside the frozen backbones."""
from typing import Dict, List, Optional, Sequence, Tuple

from torch import Tensor, nn
from torch.nn import functional as F

from molt.registry import MODELS
from ..layers import TemporalRelationModule
from ..utils import BackboneLayout
from .in_block_parts import (GatedBottleneck, LatentTokenExchange,
                             OtherModalityProjection)
from .paired_blocks import OTHER, PairedBlockScheme

__all__ = ['DGSCTBlockAdapter', 'DGSCTAdapter']


class DGSCTBlockAdapter(nn.Module):
    """One DG-SCT adapter beside a residual branch of a paired block.

    With ``x`` this modality's tokens ``(B, N, C)`` and ``o`` the other
    modality's tokens, as the authors' ``VisualAdapter`` computes it:

    1. ``g = P(o)``: the other modality on this modality's token grid
       (:class:`OtherModalityProjection`); ``x <- x + LTE(x, g)`` (latent
       tokens, :class:`LatentTokenExchange`); ``a = mean_N g``;
    2. channel attention guided by ``a``::

           M_c = sigmoid(W_c ReLU(W_b mean_N(ReLU(W_1 a) * ReLU(W_2 x))))
                                                              (B, 1, C)

    3. spatial attention on the channel-attended ``x (1 + M_c)``::

           s = w_s^T (ReLU(W_3 x (1 + M_c)) * ReLU(W_4 a))     (B, N, 1)
           M_s = sigmoid(s)

    4. ``x <- x (alpha M_c + beta M_s + 1 - alpha)`` and the update is
       :class:`GatedBottleneck` ``(x)`` (zero at initialisation).

    ``W_b``, ``W_3``, ``W_4`` map to ``C / 2``. The adapter also returns
    ``softmax_N(tanh(s))`` ``(B, 1, N)``, with which DG-SCT pools the
    final tokens.

    With ``guided_attention=False`` steps 2-3 are not built and step 4
    leaves ``x`` as it is: the LAVisH adapter of DG-SCT's code base (its
    ``VisualAdapter`` without the ``fc_affine_*`` layers, ``AVE/nets/
    net_trans.py`` 449-457), which returns no pooling map.

    Args:
        dims: ``C``.
        num_tokens: ``N``.
        other_dims: Width of the other modality's tokens.
        other_tokens: Number of the other modality's tokens.
        num_latents: Latent tokens of the exchange.
        reduction_factor: Bottleneck reduction.
        num_groups: Groups of the bottleneck's 1x1 convolutions.
        use_bn: Batch norm in the bottleneck.
        channel_weight: ``alpha`` (authors: 0.3).
        spatial_weight: ``beta`` (authors: 0.05).
        guided_attention: Build the guided channel/spatial attention.
    """

    def __init__(self,
                 dims: int,
                 num_tokens: int,
                 other_dims: int,
                 other_tokens: int,
                 num_latents: int = 32,
                 reduction_factor: int = 8,
                 num_groups: int = 2,
                 use_bn: bool = True,
                 channel_weight: float = 0.3,
                 spatial_weight: float = 0.05,
                 guided_attention: bool = True):
        super().__init__()
        hidden = dims // 2
        self.guide = OtherModalityProjection(other_tokens, num_tokens,
                                             other_dims, dims)
        self.exchange = LatentTokenExchange(dims, num_latents)
        self.guided_attention = guided_attention
        if not guided_attention:
            self.bottleneck = GatedBottleneck(dims, reduction_factor,
                                              num_groups, use_bn)
            return
        self.channel_guide = nn.Linear(dims, dims)
        self.channel_query = nn.Linear(dims, dims)
        self.channel_squeeze = nn.Linear(dims, hidden)
        self.channel_out = nn.Linear(hidden, dims)
        self.spatial_query = nn.Linear(dims, hidden)
        self.spatial_guide = nn.Linear(dims, hidden)
        self.spatial_out = nn.Linear(hidden, 1)
        self.bottleneck = GatedBottleneck(dims, reduction_factor, num_groups,
                                          use_bn)
        self.channel_weight = channel_weight
        self.spatial_weight = spatial_weight

    def attention_maps(self, x: Tensor,
                       guide: Tensor) -> Tuple[Tensor, Tensor]:
        """The guided channel map ``M_c`` ``(B, 1, C)`` and the spatial
        logits ``s`` ``(B, N, 1)`` of tokens ``x`` ``(B, N, C)`` under the
        pooled guide ``a`` ``(B, C)``."""
        joint = (F.relu(self.channel_guide(guide)).unsqueeze(1) *
                 F.relu(self.channel_query(x))).mean(1)
        channel = self.channel_out(F.relu(
            self.channel_squeeze(joint))).sigmoid().unsqueeze(1)
        spatial = self.spatial_out(
            F.relu(self.spatial_query(x * (channel + 1))) *
            F.relu(self.spatial_guide(guide)).unsqueeze(1))
        return channel, spatial

    def forward(self, x: Tensor,
                other: Tensor) -> Tuple[Tensor, Optional[Tensor]]:
        """Args:
            x: ``(B, N, C)`` tokens entering the residual branch.
            other: ``(B, M, C_o)`` tokens of the other modality.

        Returns:
            The update ``(B, N, C)`` and the pooling map ``(B, 1, N)``
            (None without ``guided_attention``).
        """
        guide = self.guide(other)
        x = self.exchange(x, guide)
        if not self.guided_attention:
            return self.bottleneck(x), None
        channel, spatial = self.attention_maps(x, guide.mean(1))
        alpha, beta = self.channel_weight, self.spatial_weight
        x = x * (alpha * channel + beta * spatial.sigmoid() + 1 - alpha)
        pooling = spatial.tanh().transpose(1, 2).softmax(-1)
        return self.bottleneck(x), pooling


@MODELS.register_module()
class DGSCTAdapter(PairedBlockScheme):
    """The DG-SCT scheme on molt's frozen backbones.

    Two :class:`DGSCTBlockAdapter` per modality in every paired block
    (beside the attention and the MLP branch; see
    :class:`PairedBlockScheme`), each guided by the other modality: the
    spatial and channel attention of DG-SCT, inside the encoders, with
    gradients through them. The final tokens are pooled with the last
    adapter's spatial map (``'attention'``, the authors' AVE/AVS/AVQA-audio
    pooling), averaged (``'mean'``) or returned whole (None).

    DG-SCT's temporal attention (per-segment gates from a BiLSTM and
    self-attention over the ``T`` segments, each modality scaled by the
    other's gate) runs after the encoders in the authors' code; molt's
    CMBS and AVSBench heads carry it for AVE and AVS. ``temporal`` adds it
    here for heads that do not (:class:`TemporalRelationModule`, the same
    module without the CMBS decoders): it reads the pooled final tokens of
    each segment, as the authors' module does, and scales the final tokens
    before pooling: ``x_v <- x_v (1 + s g_a)``, ``x_a <- x_a (1 + s g_v)``.

    Args:
        visual: Layout of the visual backbone (filled in by the model).
        audio: Layout of the audio backbone (filled in by the model).
        num_latents: Latent tokens per adapter (AVE/AVS 32, AVQA 2).
        reduction_factor: Bottleneck reduction (8; MS3 2).
        num_groups: Groups of the bottleneck convolutions (AVQA 4, else 2).
        use_bn: Batch norm in the bottlenecks (AVE only).
        channel_weight: ``alpha`` of :class:`DGSCTBlockAdapter`.
        spatial_weight: ``beta`` of :class:`DGSCTBlockAdapter`.
        guided_attention: False drops the dual-guided attention (LAVisH as
            DG-SCT's code base builds it; pool with ``'mean'``).
        visual_pooling: ``'attention'``, ``'mean'`` or None.
        audio_pooling: Same for audio.
        temporal: Keyword arguments of :class:`TemporalRelationModule`
            plus ``gate_scale`` (``s``, authors 0.1 on AVE, 0.05 on AVS and
            AVVP), or None for no temporal attention here.
        num_segments: Segments ``T`` per video; the model passes videos as
            ``(B*T, ...)``, so ``temporal`` needs it (AVE/AVQA 10, AVS 5).
            A ``num_segments`` passed to :meth:`forward` takes precedence.
        final_norm: See :class:`PairedBlockScheme` (the authors: Swin-V2's
            final LayerNorm on the visual tokens).
    """

    poolings = ('attention', 'mean', None)

    def __init__(self,
                 visual: BackboneLayout,
                 audio: BackboneLayout,
                 num_latents: int = 32,
                 reduction_factor: int = 8,
                 num_groups: int = 2,
                 use_bn: bool = True,
                 channel_weight: float = 0.3,
                 spatial_weight: float = 0.05,
                 guided_attention: bool = True,
                 visual_pooling: Optional[str] = 'attention',
                 audio_pooling: Optional[str] = 'attention',
                 temporal: Optional[dict] = None,
                 num_segments: Optional[int] = None,
                 final_norm: Sequence[str] = ('visual', ),
                 init_cfg: Optional[dict] = None):
        super().__init__(
            visual,
            audio,
            visual_pooling=visual_pooling,
            audio_pooling=audio_pooling,
            final_norm=final_norm,
            init_cfg=init_cfg)
        if not guided_attention and 'attention' in (visual_pooling,
                                                    audio_pooling):
            raise ValueError(
                "DGSCTAdapter: pooling='attention' needs guided_attention; "
                "use 'mean' or None.")
        layouts = self.layouts

        def factory(name: str, block: int, other: int) -> nn.Module:
            mine, theirs = layouts[name], layouts[OTHER[name]]
            return DGSCTBlockAdapter(
                mine.dims[block], mine.num_tokens[block], theirs.dims[other],
                theirs.num_tokens[other], num_latents, reduction_factor,
                num_groups, use_bn, channel_weight, spatial_weight,
                guided_attention)

        self.build_sites(factory)
        self.temporal = None
        if temporal is not None:
            temporal = dict(temporal)
            self.gate_scale = temporal.pop('gate_scale', 0.1)
            self.temporal = TemporalRelationModule(
                visual.dims[-1], audio.dims[-1], with_queries=False,
                **temporal)
        self.num_segments = num_segments

    def finish(self,
               tokens: Dict[str, Tensor],
               extras: Dict[str, list],
               num_segments: Optional[int] = None) -> Dict[str, List[Tensor]]:
        """Temporal attention (with ``temporal``), then pooling."""
        if self.temporal is not None:
            tokens = self.temporal_attention(
                tokens, extras, num_segments or self.num_segments)
        return super().finish(tokens, extras)

    def temporal_attention(self, tokens: Dict[str, Tensor],
                           extras: Dict[str, list],
                           num_segments: Optional[int]) -> Dict[str, Tensor]:
        """Scales each modality's tokens ``(B*T, N, C)`` per segment by the
        other modality's temporal gate, computed from the segments' pooled
        tokens (as :meth:`pool` pools them; the mean token without
        pooling)."""
        batch = tokens['visual'].shape[0]
        if not num_segments or batch % num_segments:
            raise ValueError(
                f'DGSCTAdapter: temporal attention needs the segments per '
                f'video; got num_segments={num_segments} for {batch} frames. '
                'Set model.adapter.num_segments (AVE/AVQA 10, AVS 5).')
        pooled = {
            name: self.pool(name, t, extras[name]).mean(1).unflatten(
                0, (-1, num_segments))
            for name, t in tokens.items()
        }
        gates = self.temporal(pooled['visual'], pooled['audio'])
        scale = {
            name: 1 + self.gate_scale * gates[f'{OTHER[name]}_gate'].reshape(
                batch, 1, 1)
            for name in tokens
        }
        return {name: t * scale[name] for name, t in tokens.items()}

    def pool(self, name: str, tokens: Tensor, extras: list) -> Tensor:
        """``'attention'``: the last adapter's spatial map ``(B, 1, N)``
        times the tokens ``(B, N, C)``; otherwise as the base class."""
        if self.pooling[name] != 'attention':
            return super().pool(name, tokens, extras)
        if not extras or extras[-1].shape[-1] != tokens.shape[1]:
            raise ValueError(
                f"DGSCTAdapter: {name}_pooling='attention' needs an adapter "
                "in the last stage; use 'mean' or None.")
        return extras[-1] @ tokens
