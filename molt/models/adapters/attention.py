"""Multi-head attention between two token sets of different widths."""
from typing import Optional

from torch import Tensor, nn
from torch.nn import functional as F

__all__ = ['MultiheadCrossAttention']


class MultiheadCrossAttention(nn.Module):
    """``softmax(q W_Q (kv W_K)^T / sqrt(d_H)) kv W_V`` over ``num_heads``
    heads, with PyTorch's fused ``scaled_dot_product_attention``.

    Queries and keys/values may have different widths (e.g. 1536-d visual
    tokens attending to 768-d audio tokens); both are projected to
    ``embed_dims``.

    Args:
        query_dims: Width of the queries.
        kv_dims: Width of the keys/values.
        embed_dims: Width of the attention and of the output.
        num_heads: Heads; must divide ``embed_dims``.
        out_proj: Apply an output projection ``W_O`` (standard
            cross-attention). Token distillation (paper Eq. 1) has none.
    """

    def __init__(self,
                 query_dims: int,
                 kv_dims: int,
                 embed_dims: int,
                 num_heads: int,
                 out_proj: bool = True):
        super().__init__()
        if embed_dims % num_heads:
            raise ValueError(f'num_heads={num_heads} must divide '
                             f'embed_dims={embed_dims}.')
        self.num_heads = num_heads
        self.q_proj = nn.Linear(query_dims, embed_dims)
        self.k_proj = nn.Linear(kv_dims, embed_dims)
        self.v_proj = nn.Linear(kv_dims, embed_dims)
        self.out_proj = nn.Linear(embed_dims,
                                  embed_dims) if out_proj else nn.Identity()

    def _split(self, x: Tensor) -> Tensor:
        batch, tokens, _ = x.shape
        return x.view(batch, tokens, self.num_heads, -1).transpose(1, 2)

    def forward(self, query: Tensor, kv: Tensor,
                attn_mask: Optional[Tensor] = None) -> Tensor:
        """Attends ``query`` to ``kv``.

        Args:
            query: ``(B, Nq, query_dims)``, or ``(1, Nq, query_dims)`` for
                learnable tokens shared across the batch.
            kv: ``(B, Nk, kv_dims)``.
            attn_mask: Optional mask broadcastable to ``(B, H, Nq, Nk)``.

        Returns:
            ``(B, Nq, embed_dims)``.
        """
        q = self._split(self.q_proj(query)).expand(kv.shape[0], -1, -1, -1)
        k = self._split(self.k_proj(kv))
        v = self._split(self.v_proj(kv))
        out = F.scaled_dot_product_attention(q, k, v, attn_mask=attn_mask)
        return self.out_proj(out.transpose(1, 2).flatten(2))
