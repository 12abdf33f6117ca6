"""Cross-modal distillation adapter (paper Eq. 3)."""
from torch import Tensor, nn

from molt.registry import MODELS
from .attention import BankedCrossAttention
from .token_distillation import TokenDistillation, TokenMixingProjection

__all__ = ['CrossModalDistillAdapter']


@MODELS.register_module()
class CrossModalDistillAdapter(nn.Module):
    """``z~_c = CA(TD(z_c^m, f_m), TD(z_c^o, f_o)) + W_c f_m``, for a bank of
    ``num_adapters`` independent CDAs reading the same pair of layers.

    Each modality is first distilled into ``num_latents`` tokens of width
    ``embed_dims`` (so the two backbones' widths, e.g. 1536 and 768, may
    differ); then this modality's tokens query the other's in a
    cross-attention ``CA`` (with output projection).

    Args:
        in_dims: Width of this modality's layer tokens ``f_m``.
        other_dims: Width of the other modality's layer tokens ``f_o``.
        num_tokens: Tokens ``N_m`` of this modality's layer.
        embed_dims: Width of the distilled tokens.
        num_latents: Number of distilled tokens.
        num_heads: Attention heads.
        num_adapters: CDAs in the bank.
    """

    def __init__(self, in_dims: int, other_dims: int, num_tokens: int,
                 embed_dims: int, num_latents: int, num_heads: int,
                 num_adapters: int = 1):
        super().__init__()
        self.distill_self = TokenDistillation(in_dims, embed_dims,
                                              num_latents, num_heads,
                                              num_adapters)
        self.distill_other = TokenDistillation(other_dims, embed_dims,
                                               num_latents, num_heads,
                                               num_adapters)
        self.cross_attn = BankedCrossAttention(num_adapters, embed_dims,
                                               embed_dims, embed_dims,
                                               num_heads)
        self.residual = TokenMixingProjection(num_tokens, in_dims,
                                              num_latents, embed_dims,
                                              num_adapters)

    def forward(self, feats: Tensor, other: Tensor) -> Tensor:
        """Args:
            feats: ``(B, N_m, in_dims)``.
            other: ``(B, N_o, other_dims)`` from the paired layer.

        Returns:
            ``(B, num_adapters, num_latents, embed_dims)``.
        """
        query = self.distill_self(feats)
        context = self.distill_other(other)
        return self.cross_attn(query, context) + self.residual(feats)
