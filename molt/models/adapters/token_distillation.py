"""Token distillation (paper Eq. 1) and the residual projection W f."""
import torch
from torch import Tensor, nn

from .attention import BankedCrossAttention

__all__ = ['TokenDistillation', 'TokenMixingProjection']


class TokenDistillation(nn.Module):
    """``TD(z, f) = softmax(z W_Q (f W_K)^T / sqrt(d_H)) f W_V`` for a bank of
    ``num_adapters`` adapters, each with its own latent tokens and weights.

    Learnable latent tokens ``z`` (``num_latents x embed_dims``) query a
    layer's tokens ``f`` and distil them into ``num_latents`` tokens.

    Args:
        in_dims: Width of ``f``.
        embed_dims: Width of ``z`` and of the output.
        num_latents: Number of latent tokens.
        num_heads: Attention heads.
        num_adapters: Adapters in the bank.
    """

    def __init__(self, in_dims: int, embed_dims: int, num_latents: int,
                 num_heads: int, num_adapters: int = 1):
        super().__init__()
        self.latents = nn.Parameter(
            torch.zeros(num_adapters, num_latents, embed_dims))
        nn.init.trunc_normal_(self.latents, std=0.02)
        self.attn = BankedCrossAttention(
            num_adapters, embed_dims, in_dims, embed_dims, num_heads,
            out_proj=False)

    def forward(self, feats: Tensor) -> Tensor:
        """``(B, N, in_dims)`` -> ``(B, num_adapters, num_latents,
        embed_dims)``."""
        latents = self.latents.to(feats.dtype).unsqueeze(0)
        return self.attn(latents, feats.unsqueeze(1))


class TokenMixingProjection(nn.Module):
    """The residual ``W f`` of Eq. 2-3, read as a linear map of the whole
    token matrix: ``W f = P (f Q)`` with ``P`` (``num_latents x N``) mixing
    the token axis and ``Q`` (``in_dims -> embed_dims``, affine) the
    channels; one ``(P, Q)`` per adapter of the bank.

    The distilled tokens have ``num_latents`` rows while ``f`` has ``N``,
    so a channel-only projection cannot be added to them; ``P`` starts as
    average pooling (every row ``1/N``), so at initialisation each latent
    token's residual is the projected mean token of the layer.

    Args:
        num_tokens: ``N``, tokens of the layer (fixed by the backbone's
            input size).
        in_dims: Width of ``f``.
        num_latents: Rows of the output.
        embed_dims: Width of the output.
        num_adapters: Adapters in the bank.
    """

    def __init__(self, num_tokens: int, in_dims: int, num_latents: int,
                 embed_dims: int, num_adapters: int = 1):
        super().__init__()
        self.num_tokens = num_tokens
        self.num_adapters = num_adapters
        self.token_mix = nn.Parameter(
            torch.full((num_adapters, num_latents, num_tokens),
                       1.0 / num_tokens))
        # Every adapter's Q in one matmul: they read the same f.
        self.channel_proj = nn.Linear(in_dims, num_adapters * embed_dims)

    def forward(self, feats: Tensor) -> Tensor:
        """``(B, N, in_dims)`` -> ``(B, num_adapters, num_latents,
        embed_dims)``."""
        if feats.shape[1] != self.num_tokens:
            raise ValueError(
                f'TokenMixingProjection was built for {self.num_tokens} '
                f'tokens per layer, got {feats.shape[1]}; the backbone input '
                'size must match the one the adapter was built for.')
        projected = self.channel_proj(feats).unflatten(
            -1, (self.num_adapters, -1))  # (B, N, E, d)
        return torch.einsum('etn,bned->betd',
                            self.token_mix.to(feats.dtype), projected)
