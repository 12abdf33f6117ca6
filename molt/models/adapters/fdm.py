"""Feature distillation module (paper Eq. 5): routed UDAs and CDAs."""
from typing import Tuple

import torch
from torch import Tensor, nn

from molt.registry import MODELS
from .cda import CrossModalDistillAdapter
from .router import Router
from .uda import UniModalDistillAdapter

__all__ = ['FeatureDistillationModule']


@MODELS.register_module()
class FeatureDistillationModule(nn.Module):
    """``z~^(l) = sum_i w_i z~_i`` over ``num_uda`` UDAs and ``num_cda`` CDAs
    reading one layer of one modality, weighted by a :class:`Router`.

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
        common = dict(
            num_tokens=num_tokens,
            embed_dims=embed_dims,
            num_latents=num_latents,
            num_heads=num_heads)
        # Each kind is one bank: its adapters are computed together.
        self.udas = UniModalDistillAdapter(
            in_dims, num_adapters=num_uda, **common) if num_uda else None
        self.cdas = CrossModalDistillAdapter(
            in_dims, other_dims, num_adapters=num_cda,
            **common) if num_cda else None
        self.num_adapters = num_uda + num_cda
        self.router = Router(
            in_dims, other_dims, self.num_adapters,
            router_hidden_dims) if self.num_adapters > 1 else None

    def forward(self, feats: Tensor, other: Tensor) -> Tuple[Tensor, Tensor]:
        """Args:
            feats: ``(B, N_m, in_dims)``, this modality's layer.
            other: ``(B, N_o, other_dims)``, the paired layer.

        Returns:
            Tokens ``(B, num_latents, embed_dims)`` and router weights
            ``(B, num_uda + num_cda)`` (UDAs first).
        """
        outputs = torch.cat([
            bank(feats, other) for bank in (self.udas, self.cdas)
            if bank is not None
        ], dim=1)  # (B, num_uda + num_cda, num_latents, embed_dims)
        if self.router is None:
            weights = outputs.new_ones(outputs.shape[0], 1)
        else:
            weights = self.router(feats, other).to(outputs.dtype)
        return torch.einsum('be,betd->btd', weights, outputs), weights
