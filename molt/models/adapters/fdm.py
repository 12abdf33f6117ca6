"""Feature distillation module (paper Eq. 5): routed UDAs and CDAs."""
from typing import Dict, Optional, Tuple

import torch
from torch import Tensor, nn

from ..layers import BankedCrossAttention
from .router import Router
from .token_distillation import TokenDistillation, TokenMixingProjection

__all__ = ['FeatureDistillationModule', 'cross_attention']


def cross_attention(num_banks: int, embed_dims: int, other_embed_dims: int,
                    num_heads: int) -> BankedCrossAttention:
    """The weights of a CDA's ``CA``: ``W_Q`` (``embed_dims -> embed_dims``)
    on this modality's distilled tokens, ``W_K``, ``W_V``
    (``other_embed_dims -> embed_dims``) on the other modality's, so the
    result has this modality's width; no output projection (the same
    attention as ``TD``)."""
    return BankedCrossAttention(num_banks, embed_dims, other_embed_dims,
                                embed_dims, num_heads, out_proj=False)


class FeatureDistillationModule(nn.Module):
    """``z~^(l) = sum_i w_i z~_i`` over ``num_uda`` uni-modal (UDA) and
    ``num_cda`` cross-modal (CDA) distillation adapters reading one layer
    ``f_m`` of one modality, weighted by a :class:`Router` (Eq. 4).

    Adapter ``i`` (UDAs first) has its own latent tokens ``z_i`` and
    residual ``W_i``:

    * UDA (Eq. 1): ``z~_i = TD(z_i, f_m) + W_i f_m``;
    * CDA (Eq. 3): ``z~_i = CA(TD(z_i, f_m), TD(z_i^o, f_o)) + W_i f_m``.

    ``TD`` is :class:`TokenDistillation` (Eq. 2), ``W_i f_m`` a
    :class:`TokenMixingProjection` and ``CA`` a cross-attention whose
    ``W_K``, ``W_V`` map the other modality's width to this one's
    (:func:`cross_attention`). ``TD(z_i^o, f_o)``, the other modality's
    distilled tokens, are those of the other modality's CDA ``i`` on the
    paired layer, passed in by :class:`MoLTAdapter` (``z_i^o`` are that
    CDA's latent tokens).

    Every adapter distils ``f_m`` and adds ``W_i f_m``, so those two steps
    run as one bank of ``num_uda + num_cda`` adapters (one fused attention
    call, one projection); the CDAs' cross-attention runs as a bank of
    ``num_cda``. Bank ``i`` is exactly adapter ``i`` of the equations
    (tested against them).

    The attention weights and the router are the module's own (one weight
    set per adapter) unless ``shared`` gives modules tied with other FDMs
    (:class:`MoLTAdapter` ties them per modality). With a single adapter
    there is nothing to route: its weight is 1 and no router is built.

    Args:
        in_dims: Width of this modality's layer tokens.
        other_dims: Width of the paired layer of the other modality.
        num_tokens: Tokens of this modality's layer.
        num_latents: Distilled tokens per adapter.
        num_heads: Attention heads ``H``.
        num_uda: Uni-modal adapters.
        num_cda: Cross-modal adapters.
        embed_dims: Width of the distilled tokens (None: ``in_dims``, the
            paper's full width).
        other_embed_dims: Width of the other modality's distilled tokens
            (None: ``other_dims``).
        router_hidden_dims: Hidden width of the router's MLP.
        shared: Tied modules replacing this FDM's own: ``'distill'`` (TD
            weights on ``f_m``, see
            :func:`~.token_distillation.distillation_attention`) and
            ``'cross'`` (:func:`cross_attention`).
    """

    def __init__(self,
                 in_dims: int,
                 other_dims: int,
                 num_tokens: int,
                 num_latents: int,
                 num_heads: int = 8,
                 num_uda: int = 2,
                 num_cda: int = 2,
                 embed_dims: Optional[int] = None,
                 other_embed_dims: Optional[int] = None,
                 router_hidden_dims: int = 128,
                 shared: Optional[Dict[str, nn.Module]] = None):
        super().__init__()
        if num_uda < 0 or num_cda < 0 or num_uda + num_cda == 0:
            raise ValueError(
                f'adapter.num_uda={num_uda}, adapter.num_cda={num_cda}: need '
                'non-negative counts and at least one adapter per layer.')
        shared = shared or {}
        self.num_uda, self.num_cda = num_uda, num_cda
        self.num_adapters = num_uda + num_cda
        self.embed_dims = embed_dims or in_dims
        other_embed_dims = other_embed_dims or other_dims
        # TD(z_i, f_m) and W_i f_m of every adapter.
        self.distill = TokenDistillation(
            in_dims, self.embed_dims, num_latents, num_heads,
            self.num_adapters, attn=shared.get('distill'))
        self.residual = TokenMixingProjection(num_tokens, in_dims,
                                              num_latents, self.embed_dims,
                                              self.num_adapters)
        # CA of the CDAs.
        self.cross_attn = None
        if num_cda:
            self.cross_attn = shared.get('cross') or cross_attention(
                num_cda, self.embed_dims, other_embed_dims, num_heads)
        self.router = None
        if self.num_adapters > 1:
            self.router = Router(in_dims, other_dims, self.num_adapters,
                                 router_hidden_dims)

    def cda_tokens(self, distilled: Tensor) -> Tensor:
        """The CDAs' ``TD(z_i, f_m)`` among :attr:`distill`'s outputs
        ``(B, num_uda + num_cda, num_latents, C)``: what the other
        modality's CDAs read."""
        return distilled[:, self.num_uda:]

    def adapter_outputs(self,
                        feats: Tensor,
                        other: Tensor,
                        partner: Optional[Tensor] = None,
                        distilled: Optional[Tensor] = None) -> Tensor:
        """Every adapter's ``z~_i``.

        Args:
            feats: ``(B, N_m, in_dims)``, this modality's layer.
            other: ``(B, N_o, other_dims)``, the paired layer.
            partner: ``(B, num_cda, num_latents, other_embed_dims)``, the
                other modality's CDA tokens (required when there are
                CDAs).
            distilled: ``self.distill(feats)`` if already computed.

        Returns:
            ``(B, num_uda + num_cda, num_latents, embed_dims)``, UDAs first.
        """
        if distilled is None:
            distilled = self.distill(feats)
        if self.num_cda:
            if partner is None:
                raise ValueError(
                    "The CDAs need the other modality's CDA tokens "
                    '(MoLTAdapter passes them as partner).')
            uni, cross_queries = distilled.split(
                [self.num_uda, self.num_cda], dim=1)
            cross = self.cross_attn(cross_queries, partner)
            distilled = torch.cat([uni, cross], dim=1)
        return distilled + self.residual(feats)

    def forward(self,
                feats: Tensor,
                other: Tensor,
                partner: Optional[Tensor] = None,
                distilled: Optional[Tensor] = None) -> Tuple[Tensor, Tensor]:
        """Args: as :meth:`adapter_outputs`.

        Returns:
            Tokens ``(B, num_latents, embed_dims)`` and router weights
            ``(B, num_uda + num_cda)`` (UDAs first).
        """
        outputs = self.adapter_outputs(feats, other, partner, distilled)
        if self.router is None:
            weights = outputs.new_ones(outputs.shape[0], 1)
        else:
            weights = self.router(feats, other).to(outputs.dtype)
        return torch.einsum('be,betd->btd', weights, outputs), weights
