"""Uni-modal distillation adapter (paper Eq. 2)."""
from typing import Optional

from torch import Tensor, nn

from molt.registry import MODELS
from .token_distillation import TokenDistillation, TokenMixingProjection

__all__ = ['UniModalDistillAdapter']


@MODELS.register_module()
class UniModalDistillAdapter(nn.Module):
    """``z~_u = TD(z_u, f_m) + W_u f_m``, for a bank of ``num_adapters``
    independent UDAs reading the same layer.

    Args:
        in_dims: Width of the layer's tokens ``f_m``.
        num_tokens: Tokens ``N_m`` of the layer.
        embed_dims: Width of the distilled tokens.
        num_latents: Number of distilled tokens.
        num_heads: Attention heads.
        num_adapters: UDAs in the bank.
    """

    def __init__(self, in_dims: int, num_tokens: int, embed_dims: int,
                 num_latents: int, num_heads: int, num_adapters: int = 1):
        super().__init__()
        self.distill = TokenDistillation(in_dims, embed_dims, num_latents,
                                         num_heads, num_adapters)
        self.residual = TokenMixingProjection(num_tokens, in_dims,
                                              num_latents, embed_dims,
                                              num_adapters)

    def forward(self, feats: Tensor, other: Optional[Tensor] = None) -> Tensor:
        """``(B, N_m, in_dims)`` -> ``(B, num_adapters, num_latents,
        embed_dims)``; ``other`` (the other modality) is ignored."""
        return self.distill(feats) + self.residual(feats)
