"""AVMoE (Cheng et al., NeurIPS 2024): uni-modal and cross-modal adapter
experts inside the frozen backbones, mixed by a router."""
from typing import Any, Dict, List, Optional, Sequence, Tuple

import torch
from torch import Tensor, nn
from torch.nn import functional as F
from torchvision.ops import MLP

from molt.registry import MODELS
from ..utils import BackboneLayout
from .in_block_parts import (GatedBottleneck, LatentTokenExchange,
                             OtherModalityProjection)
from .paired_blocks import OTHER, PairedBlockScheme

__all__ = [
    'CrossModalExpert', 'UniModalExpert', 'AVMoEBlockAdapter', 'AVMoEAdapter'
]

SELF_ATTENTION = (None, 'full', 'latent')


class CrossModalExpert(nn.Module):
    """AVMoE's multimodal expert: the other modality enters through latent
    tokens (:class:`LatentTokenExchange`), then a :class:`GatedBottleneck`
    with ReLU.

    Args:
        dims: Token width ``C``.
        num_latents: Latent tokens.
        reduction_factor: Bottleneck reduction.
        num_groups: Groups of the bottleneck convolutions.
        use_bn: Batch norm in the bottleneck.
    """

    def __init__(self, dims: int, num_latents: int, reduction_factor: int,
                 num_groups: int, use_bn: bool):
        super().__init__()
        self.exchange = LatentTokenExchange(dims, num_latents)
        self.bottleneck = GatedBottleneck(dims, reduction_factor, num_groups,
                                          use_bn)

    def forward(self, x: Tensor, guide: Tensor) -> Tensor:
        """``x`` ``(B, N, C)`` and the other modality on ``x``'s grid
        ``guide`` ``(B, N, C)`` -> update ``(B, N, C)``."""
        return self.bottleneck(self.exchange(x, guide))


class UniModalExpert(nn.Module):
    """AVMoE's single-modal expert: a :class:`GatedBottleneck` without
    activation (as in the authors' code), optionally after self-attention:

    * ``'full'``: multi-head self-attention over all tokens (4 heads,
      dropout 0.2) *replaces* ``x`` (the authors' ``v1``, used on S4);
    * ``'latent'``: latent tokens gather ``x`` and ``x`` reads them back
      through a zero-initialised gate (the authors' ``v2``, used on MS3).

    Args:
        dims: Token width ``C``.
        reduction_factor: Bottleneck reduction.
        num_groups: Groups of the bottleneck convolutions.
        use_bn: Batch norm in the bottleneck.
        self_attention: None, ``'full'`` or ``'latent'``.
        num_latents: Latent tokens of ``'latent'``.
        num_heads: Heads of ``'full'``.
    """

    def __init__(self,
                 dims: int,
                 reduction_factor: int,
                 num_groups: int,
                 use_bn: bool,
                 self_attention: Optional[str] = None,
                 num_latents: int = 32,
                 num_heads: int = 4):
        super().__init__()
        if self_attention not in SELF_ATTENTION:
            raise ValueError(f'self_attention={self_attention!r}; use one of '
                             f'{SELF_ATTENTION}.')
        self.self_attention = self_attention
        if self_attention == 'full':
            self.attn = nn.MultiheadAttention(
                dims, num_heads, dropout=0.2, batch_first=True)
        elif self_attention == 'latent':
            self.attn = LatentTokenExchange(dims, num_latents)
        self.bottleneck = GatedBottleneck(
            dims, reduction_factor, num_groups, use_bn, activation=False)

    def forward(self, x: Tensor, guide: Optional[Tensor] = None) -> Tensor:
        """``(B, N, C)`` -> update ``(B, N, C)``; ``guide`` is ignored."""
        if self.self_attention == 'full':
            x = self.attn(x, x, x, need_weights=False)[0]
        elif self.self_attention == 'latent':
            x = self.attn(x, x)
        return self.bottleneck(x)


class AVMoEBlockAdapter(nn.Module):
    """AVMoE's ``MoEAdapter``: a router mixes cross-modal and uni-modal
    experts beside one residual branch.

    The other modality is mapped onto this modality's grid
    (:class:`OtherModalityProjection`, ``g``); the router, an MLP
    ``2C -> 128 -> 32 -> E`` with ReLU, reads ``[mean_N x; mean_N g]``
    (``routing='sample'``, the authors' code) or ``[x_i; mean_N g]`` for
    every token (``'token'``), and the update is ``sum_e w_e f_e(x, g)``
    with ``w = softmax(logits + noise)``; ``noise ~ N(0, std^2)`` only in
    training (the authors' AVS code: 0.01; AVE/AVQA: none). All experts
    run on every input (soft mixing, as in the authors' code).

    Args:
        dims: ``C``.
        num_tokens: ``N``.
        other_dims: Width of the other modality's tokens.
        other_tokens: Number of the other modality's tokens.
        num_cross_experts: Cross-modal experts (listed first in ``w``).
        num_uni_experts: Uni-modal experts.
        num_latents: Latent tokens of each expert.
        reduction_factor: Bottleneck reduction.
        num_groups: Groups of the bottleneck convolutions.
        use_bn: Batch norm in the bottlenecks.
        uni_self_attention: See :class:`UniModalExpert`.
        routing: ``'sample'`` or ``'token'``.
        router_hidden_dims: Hidden widths of the router MLP.
        router_noise_std: Std of the training-time logit noise.
    """

    def __init__(self,
                 dims: int,
                 num_tokens: int,
                 other_dims: int,
                 other_tokens: int,
                 num_cross_experts: int = 1,
                 num_uni_experts: int = 1,
                 num_latents: int = 32,
                 reduction_factor: int = 8,
                 num_groups: int = 2,
                 use_bn: bool = True,
                 uni_self_attention: Optional[str] = None,
                 routing: str = 'sample',
                 router_hidden_dims: Sequence[int] = (128, 32),
                 router_noise_std: float = 0.):
        super().__init__()
        if num_cross_experts + num_uni_experts < 1:
            raise ValueError('AVMoEBlockAdapter needs at least one expert.')
        if routing not in ('sample', 'token'):
            raise ValueError(
                f"routing={routing!r}; use 'sample' or 'token'.")
        self.guide = OtherModalityProjection(other_tokens, num_tokens,
                                             other_dims, dims)
        self.experts = nn.ModuleList(
            [CrossModalExpert(dims, num_latents, reduction_factor,
                              num_groups, use_bn)
             for _ in range(num_cross_experts)] +
            [UniModalExpert(dims, reduction_factor, num_groups, use_bn,
                            uni_self_attention, num_latents)
             for _ in range(num_uni_experts)])
        self.router = MLP(2 * dims,
                          [*router_hidden_dims, len(self.experts)],
                          activation_layer=nn.ReLU)
        self.routing = routing
        self.router_noise_std = router_noise_std

    def route(self, x: Tensor, guide: Tensor) -> Tensor:
        """Expert weights: ``(B, E)`` per sample or ``(B, N, E)`` per
        token; they sum to 1."""
        context = guide.mean(1)
        if self.routing == 'sample':
            logits = self.router(torch.cat([x.mean(1), context], -1))
        else:
            logits = self.router(
                torch.cat([x, context.unsqueeze(1).expand_as(x)], -1))
        if self.training and self.router_noise_std > 0:
            logits = logits + self.router_noise_std * torch.randn_like(logits)
        return logits.softmax(-1)

    def forward(self, x: Tensor, other: Tensor) -> Tuple[Tensor, Tensor]:
        """Args:
            x: ``(B, N, C)`` tokens entering the residual branch.
            other: ``(B, M, C_o)`` tokens of the other modality.

        Returns:
            The update ``(B, N, C)`` and the expert weights.
        """
        guide = self.guide(other)
        weights = self.route(x, guide)
        # (B, 1, E) or (B, N, E): one weight per expert, broadcast over C
        per_token = weights if weights.dim() == 3 else weights.unsqueeze(1)
        update = sum(per_token[..., e, None] * expert(x, guide)
                     for e, expert in enumerate(self.experts))
        return update, weights


@MODELS.register_module()
class AVMoEAdapter(PairedBlockScheme):
    """The AVMoE scheme on molt's frozen backbones.

    Two :class:`AVMoEBlockAdapter` per modality in every paired block of
    the adapted ``stages`` (beside the attention and the MLP branch; see
    :class:`PairedBlockScheme`), gradients through the backbones. The
    final tokens are averaged (``'mean'``, the authors' pooling) or
    returned whole (None). The outputs also hold every adapter's expert
    weights (``visual_router``/``audio_router``, in call order) for
    analysis and for :meth:`load_balance_loss`.

    Args:
        visual: Layout of the visual backbone (filled in by the model).
        audio: Layout of the audio backbone (filled in by the model).
        num_cross_experts: Cross-modal experts per adapter.
        num_uni_experts: Uni-modal experts per adapter.
        num_latents: Latent tokens per expert.
        reduction_factor: Bottleneck reduction.
        num_groups: Groups of the bottleneck convolutions.
        use_bn: Batch norm in the bottlenecks.
        uni_self_attention: See :class:`UniModalExpert`.
        routing: ``'sample'`` or ``'token'``.
        router_hidden_dims: Hidden widths of the router MLP.
        router_noise_std: Std of the training-time logit noise.
        stages: Stages that get adapters (the authors' ``num_skip=2``
            keeps stages 0 and 2), or None for all.
        visual_pooling: ``'mean'`` or None.
        audio_pooling: Same for audio.
        final_norm: See :class:`PairedBlockScheme` (the authors: Swin-V2's
            final LayerNorm on the visual tokens).
        load_balance_weight: Weight of :meth:`load_balance_loss` in
            training (``loss_balance``; the authors' MS3 setting: 0.01);
            0 adds no loss.
    """

    def __init__(self,
                 visual: BackboneLayout,
                 audio: BackboneLayout,
                 num_cross_experts: int = 1,
                 num_uni_experts: int = 1,
                 num_latents: int = 32,
                 reduction_factor: int = 8,
                 num_groups: int = 2,
                 use_bn: bool = True,
                 uni_self_attention: Optional[str] = None,
                 routing: str = 'sample',
                 router_hidden_dims: Sequence[int] = (128, 32),
                 router_noise_std: float = 0.,
                 stages: Optional[Sequence[int]] = None,
                 visual_pooling: Optional[str] = 'mean',
                 audio_pooling: Optional[str] = 'mean',
                 final_norm: Sequence[str] = ('visual', ),
                 load_balance_weight: float = 0.,
                 init_cfg: Optional[dict] = None):
        super().__init__(visual, audio, stages, visual_pooling,
                         audio_pooling, final_norm, init_cfg)
        self.load_balance_weight = load_balance_weight
        layouts = self.layouts

        def factory(name: str, block: int, other: int) -> nn.Module:
            mine, theirs = layouts[name], layouts[OTHER[name]]
            return AVMoEBlockAdapter(
                mine.dims[block], mine.num_tokens[block], theirs.dims[other],
                theirs.num_tokens[other], num_cross_experts, num_uni_experts,
                num_latents, reduction_factor, num_groups, use_bn,
                uni_self_attention, routing, router_hidden_dims,
                router_noise_std)

        self.build_sites(factory)

    def finish(self, tokens: Dict[str, Tensor],
               extras: Dict[str, list]) -> Dict[str, List[Tensor]]:
        """Pooled tokens plus the expert weights of every adapter."""
        outputs = super().finish(tokens, extras)
        for name, weights in extras.items():
            outputs[f'{name}_router'] = weights
        return outputs

    def adapter_losses(self, feats: Dict[str, Any]) -> Dict[str, Tensor]:
        """``loss_balance``: :meth:`load_balance_loss` over every adapter's
        expert weights (``feats['visual_router']``, ``['audio_router']``,
        handed on by :class:`~molt.models.AVModel`) times
        ``load_balance_weight``; nothing when the weight is 0."""
        if not self.load_balance_weight:
            return {}
        weights = list(feats['visual_router']) + list(feats['audio_router'])
        return dict(loss_balance=self.load_balance_weight *
                    self.load_balance_loss(weights))

    @staticmethod
    def load_balance_loss(weights: Sequence[Tensor]) -> Tensor:
        """The authors' load-balancing term (their MS3 setting, weight
        0.01), summed over adapters: for each, ``KL(u || p)`` over the
        ``E`` experts divided by ``E`` (``F.kl_div(..., 'batchmean')`` on
        an ``E``-vector), with ``p`` the mean expert weight over the batch
        (and tokens) and ``u`` uniform.

        Args:
            weights: Expert weights ``(B, E)`` or ``(B, N, E)`` per adapter.
        """
        total = weights[0].new_zeros(())
        for w in weights:
            mean = w.flatten(0, -2).mean(0)
            uniform = torch.full_like(mean, 1 / mean.numel())
            total = total + F.kl_div(mean.log(), uniform,
                                     reduction='batchmean')
        return total
