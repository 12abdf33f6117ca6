"""Feature distillation module (paper Eq. 5): routed UDAs and CDAs."""
from typing import Tuple

import torch
from torch import Tensor, nn

from molt.registry import MODELS
from .attention import BankedCrossAttention
from .router import Router
from .token_distillation import TokenDistillation, TokenMixingProjection

__all__ = ['FeatureDistillationModule']


@MODELS.register_module()
class FeatureDistillationModule(nn.Module):
    """``z~^(l) = sum_i w_i z~_i`` over ``num_uda`` uni-modal (UDA) and
    ``num_cda`` cross-modal (CDA) distillation adapters reading one layer
    ``f_m`` of one modality, weighted by a :class:`Router`.

    Adapter ``i`` (UDAs first) has its own latent tokens and weights:

    * UDA (Eq. 2): ``z~_i = TD(z_i, f_m) + W_i f_m``;
    * CDA (Eq. 3): ``z~_i = CA_i(TD(z_i, f_m), TD(z_i^o, f_o)) + W_i f_m``,
      where ``f_o`` is the other modality's paired layer; distilling both
      modalities to ``num_latents`` tokens of ``embed_dims`` lets their
      widths (e.g. 1536 and 768) differ.

    ``TD`` is :class:`TokenDistillation` (Eq. 1), ``W_i f_m`` a
    :class:`TokenMixingProjection` and ``CA_i`` a cross-attention with output
    projection. Every adapter distils ``f_m`` and adds ``W_i f_m``, so those
    two steps run as one bank of ``num_uda + num_cda`` adapters (one fused
    attention call, one projection); the CDAs' distillation of ``f_o`` and
    their cross-attention run as a bank of ``num_cda``. Bank ``i`` is
    exactly adapter ``i`` of the equations (tested against them).

    With a single adapter there is nothing to route: its weight is 1 and no
    router is built.

    Args:
        in_dims: Width of this modality's layer tokens.
        other_dims: Width of the paired layer of the other modality.
        num_tokens: Tokens of this modality's layer.
        embed_dims: Width of the distilled tokens.
        num_latents: Distilled tokens per adapter.
        num_heads: Attention heads.
        num_uda: Uni-modal adapters.
        num_cda: Cross-modal adapters.
        router_hidden_dims: Hidden width of the router's MLP.
    """

    def __init__(self,
                 in_dims: int,
                 other_dims: int,
                 num_tokens: int,
                 embed_dims: int,
                 num_latents: int,
                 num_heads: int,
                 num_uda: int = 2,
                 num_cda: int = 2,
                 router_hidden_dims: int = 128):
        super().__init__()
        if num_uda < 0 or num_cda < 0 or num_uda + num_cda == 0:
            raise ValueError(
                f'adapter.num_uda={num_uda}, adapter.num_cda={num_cda}: need '
                'non-negative counts and at least one adapter per layer.')
        self.num_uda, self.num_cda = num_uda, num_cda
        self.num_adapters = num_uda + num_cda
        # TD(z_i, f_m) and W_i f_m of every adapter.
        self.distill = TokenDistillation(in_dims, embed_dims, num_latents,
                                         num_heads, self.num_adapters)
        self.residual = TokenMixingProjection(num_tokens, in_dims,
                                              num_latents, embed_dims,
                                              self.num_adapters)
        # TD(z_i^o, f_o) and CA_i of the CDAs.
        self.distill_other = TokenDistillation(
            other_dims, embed_dims, num_latents, num_heads,
            num_cda) if num_cda else None
        self.cross_attn = BankedCrossAttention(
            num_cda, embed_dims, embed_dims, embed_dims,
            num_heads) if num_cda else None
        self.router = Router(
            in_dims, other_dims, self.num_adapters,
            router_hidden_dims) if self.num_adapters > 1 else None

    def adapter_outputs(self, feats: Tensor, other: Tensor) -> Tensor:
        """Every adapter's ``z~_i``.

        Args:
            feats: ``(B, N_m, in_dims)``, this modality's layer.
            other: ``(B, N_o, other_dims)``, the paired layer.

        Returns:
            ``(B, num_uda + num_cda, num_latents, embed_dims)``, UDAs first.
        """
        distilled = self.distill(feats)
        if self.num_cda:
            uni, cross_queries = distilled.split(
                [self.num_uda, self.num_cda], dim=1)
            cross = self.cross_attn(cross_queries, self.distill_other(other))
            distilled = torch.cat([uni, cross], dim=1)
        return distilled + self.residual(feats)

    def forward(self, feats: Tensor, other: Tensor) -> Tuple[Tensor, Tensor]:
        """Args:
            feats: ``(B, N_m, in_dims)``, this modality's layer.
            other: ``(B, N_o, other_dims)``, the paired layer.

        Returns:
            Tokens ``(B, num_latents, embed_dims)`` and router weights
            ``(B, num_uda + num_cda)`` (UDAs first).
        """
        outputs = self.adapter_outputs(feats, other)
        if self.router is None:
            weights = outputs.new_ones(outputs.shape[0], 1)
        else:
            weights = self.router(feats, other).to(outputs.dtype)
        return torch.einsum('be,betd->btd', weights, outputs), weights
