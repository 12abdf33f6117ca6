"""Token distillation (paper Eq. 2) and the residual projection W f."""
from typing import Optional

import torch
from torch import Tensor, nn
from torch.nn import functional as F

from ..layers import BankedCrossAttention

__all__ = [
    'TokenDistillation', 'TokenMixingProjection', 'distillation_attention',
    'adaptive_pooling_matrix'
]


def distillation_attention(num_banks: int, in_dims: int, embed_dims: int,
                           num_heads: int) -> BankedCrossAttention:
    """The weights of ``TD``: ``W_Q`` (``embed_dims -> embed_dims``, on the
    latent tokens) and ``W_K``, ``W_V`` (``in_dims -> embed_dims``, on the
    layer's tokens), ``num_heads`` heads of ``embed_dims / num_heads``
    (``H d_H = embed_dims``), no output projection.

    Args:
        num_banks: Weight sets: one per adapter, or 1 for weights shared by
            several adapters.
        in_dims: Width of the layer's tokens ``f``.
        embed_dims: Width of the latent tokens and of the output.
        num_heads: ``H``.
    """
    return BankedCrossAttention(num_banks, embed_dims, in_dims, embed_dims,
                                num_heads, out_proj=False)


class TokenDistillation(nn.Module):
    """``TD(z, f) = softmax(z W_Q (f W_K)^T / sqrt(d_H)) f W_V`` for a bank of
    ``num_adapters`` adapters, each with its own latent tokens ``z``
    (``num_latents x embed_dims``).

    At full width (``embed_dims == in_dims = D_m``) the latent tokens and
    ``W_{Q,K,V} in R^{D_m x H d_H}`` with ``H d_H = D_m`` are exactly the
    paper's. The weights are either the module's own (one set per adapter)
    or ``attn``, a :func:`distillation_attention` tied with other modules
    (the same module object registered in each; ``parameters()`` yields
    it once).

    Args:
        in_dims: Width of ``f``.
        embed_dims: Width of ``z`` and of the output.
        num_latents: Number of latent tokens.
        num_heads: Attention heads.
        num_adapters: Adapters in the bank.
        attn: Shared weights (a :class:`BankedCrossAttention` with one bank
            or ``num_adapters`` banks), or None to build one set per adapter.
    """

    def __init__(self,
                 in_dims: int,
                 embed_dims: int,
                 num_latents: int,
                 num_heads: int,
                 num_adapters: int = 1,
                 attn: Optional[BankedCrossAttention] = None):
        super().__init__()
        self.latents = nn.Parameter(
            torch.zeros(num_adapters, num_latents, embed_dims))
        nn.init.trunc_normal_(self.latents, std=0.02)
        self.attn = attn if attn is not None else distillation_attention(
            num_adapters, in_dims, embed_dims, num_heads)

    def forward(self, feats: Tensor) -> Tensor:
        """``(B, N, in_dims)`` -> ``(B, num_adapters, num_latents,
        embed_dims)``."""
        latents = self.latents.to(feats.dtype).unsqueeze(0)
        return self.attn(latents, feats.unsqueeze(1))


def adaptive_pooling_matrix(num_tokens: int, num_latents: int) -> Tensor:
    """``(num_latents, num_tokens)``: row ``i`` averages tokens
    ``floor(i N / L)`` to ``ceil((i + 1) N / L) - 1``, the windows of
    ``torch.nn.functional.adaptive_avg_pool1d`` (runs overlap, or repeat a
    token, when ``N`` is not a multiple of ``L``)."""
    return F.adaptive_avg_pool1d(torch.eye(num_tokens), num_latents).T


class TokenMixingProjection(nn.Module):
    """The residual ``W f`` of the UDA and CDA (paper Eq. 1 and 3), one per
    adapter of the bank.

    The distilled tokens have ``num_latents`` rows while ``f`` has ``N``, so
    ``W`` must act on the token axis: ``W f = P f`` with ``P``
    (``num_latents x N``) mixing tokens. When the distilled tokens are as
    wide as ``f`` (MoLT at full width) that is all; when they are narrower
    (``embed_dims`` set) or the layer is narrower than the modality's widest
    tapped layer, a channel projection follows: ``W f = P (f Q)`` with ``Q``
    (``in_dims -> embed_dims``, affine). ``P`` starts as adaptive average
    pooling over the token axis (:func:`adaptive_pooling_matrix`): latent
    token ``i`` starts as the mean of its own run of the layer's tokens.
    Rows that all start as the layer's mean would make every latent token
    of a layer start parallel (``TD`` is near-uniform attention at
    initialisation too), where a cosine, and so the orthogonality loss, has
    no gradient to separate them.

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
            adaptive_pooling_matrix(num_tokens, num_latents).expand(
                num_adapters, -1, -1).clone())
        # Every adapter's Q in one matmul: they read the same f.
        self.channel_proj = (None if in_dims == embed_dims else nn.Linear(
            in_dims, num_adapters * embed_dims))

    def forward(self, feats: Tensor) -> Tensor:
        """``(B, N, in_dims)`` -> ``(B, num_adapters, num_latents,
        embed_dims)``."""
        if feats.shape[1] != self.num_tokens:
            raise ValueError(
                f'TokenMixingProjection was built for {self.num_tokens} '
                f'tokens per layer, got {feats.shape[1]}; the backbone input '
                'size must match the one the adapter was built for.')
        token_mix = self.token_mix.to(feats.dtype)
        if self.channel_proj is None:
            return torch.einsum('etn,bnd->betd', token_mix, feats)
        projected = self.channel_proj(feats).unflatten(
            -1, (self.num_adapters, -1))  # (B, N, E, d)
        return torch.einsum('etn,bned->betd', token_mix, projected)
