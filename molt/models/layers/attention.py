"""Multi-head cross-attention, for one or for a bank of adapters.

Shared by the adapters (token distillation, the CDAs' cross-attention) and
the heads (the AVS head's token-conditioned maps). molt's adapters come in
banks: the ``N_UDA`` (or ``N_CDA``) adapters of a layer read the same
input, so they are computed together, with one batched matmul and one
fused attention call per step instead of one per adapter.
Bank ``e`` of a module is exactly the single adapter of the paper's
equations. A module with a single weight bank applied to ``E`` inputs is
one set of weights shared by ``E`` adapters (the paper's ``W_m``, one per
modality; see :class:`~molt.models.adapters.MoLTAdapter`).
"""
import math

import torch
from torch import Tensor, nn
from torch.nn import functional as F

__all__ = ['BankedLinear', 'BankedCrossAttention', 'MultiheadCrossAttention']


class BankedLinear(nn.Module):
    """``E`` independent linear maps: bank ``e`` maps ``x[..., e, :, :]``.

    Args:
        num_banks: ``E``.
        in_dims: Input width.
        out_dims: Output width.
        bias: Add a per-bank bias.
    """

    def __init__(self, num_banks: int, in_dims: int, out_dims: int,
                 bias: bool = True):
        super().__init__()
        self.weight = nn.Parameter(torch.empty(num_banks, in_dims, out_dims))
        self.bias = nn.Parameter(torch.empty(num_banks, 1, out_dims)) \
            if bias else None
        # nn.Linear's default initialisation, bank by bank.
        bound = 1 / math.sqrt(in_dims)
        nn.init.uniform_(self.weight, -bound, bound)
        if self.bias is not None:
            nn.init.uniform_(self.bias, -bound, bound)

    def forward(self, x: Tensor) -> Tensor:
        """``(B, E or 1, L, in_dims)`` -> ``(B, E, L, out_dims)``; a single
        input set (``E`` axis of 1) is shared by all banks, a single bank
        (one weight set) maps every input set."""
        weight = self.weight.to(x.dtype)
        banks, in_dims, out_dims = weight.shape
        if banks == 1:
            out = x @ weight[0]
        elif x.shape[-3] == 1:
            # One GEMM against all banks' weights side by side.
            out = x.squeeze(-3) @ weight.permute(1, 0, 2).reshape(
                in_dims, banks * out_dims)
            out = out.unflatten(-1, (banks, out_dims)).transpose(-3, -2)
        else:
            out = torch.einsum('...eli,eio->...elo', x, weight)
        return out if self.bias is None else out + self.bias.to(x.dtype)


class BankedCrossAttention(nn.Module):
    """``softmax(q W_Q (kv W_K)^T / sqrt(d_H)) kv W_V`` (then ``W_O``) over
    ``num_heads`` heads, for ``num_banks`` independent weight sets, with
    PyTorch's fused ``scaled_dot_product_attention``.

    Queries and keys/values may have different widths (e.g. 1536-d visual
    tokens attending to 768-d audio tokens); both are projected to
    ``embed_dims``.

    Args:
        num_banks: Independent weight sets ``E``.
        query_dims: Width of the queries.
        kv_dims: Width of the keys/values.
        embed_dims: Width of the attention and of the output.
        num_heads: Heads; must divide ``embed_dims``.
        out_proj: Apply an output projection ``W_O``. MoLT's token
            distillation (paper Eq. 2) and its cross-attention have none.
    """

    def __init__(self,
                 num_banks: int,
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
        self.q_proj = BankedLinear(num_banks, query_dims, embed_dims)
        # W_K and W_V side by side: both read kv, so one GEMM computes both.
        self.kv_proj = BankedLinear(num_banks, kv_dims, 2 * embed_dims)
        self.out_proj = BankedLinear(num_banks, embed_dims,
                                     embed_dims) if out_proj else None

    def _split(self, x: Tensor, batch: int) -> Tensor:
        """``(B or 1, E, L, C)`` -> ``(batch, E * H, L, C / H)``: heads of
        all banks side by side, the 4-D layout fused attention wants."""
        x = x.unflatten(-1, (self.num_heads, -1)).transpose(-3, -2)
        x = x.expand(batch, -1, -1, -1, -1)
        return x.reshape(batch, -1, *x.shape[-2:])

    def forward(self, query: Tensor, kv: Tensor) -> Tensor:
        """Attends every bank's queries to its keys/values.

        Args:
            query: ``(B, E or 1, Lq, query_dims)``; a batch axis of 1
                (learnable tokens) is shared by the batch, an ``E`` axis of
                1 by the banks.
            kv: ``(B, E or 1, Lk, kv_dims)``.

        Returns:
            ``(B, E, Lq, embed_dims)``, ``E`` the largest of the query's,
            the keys' and the weights' bank axes.
        """
        batch = kv.shape[0]
        q = self.q_proj(query)
        k, v = self.kv_proj(kv).chunk(2, dim=-1)
        banks = max(q.shape[1], k.shape[1])
        q, k, v = (x.expand(-1, banks, -1, -1) for x in (q, k, v))
        out = F.scaled_dot_product_attention(
            self._split(q, batch), self._split(k, batch),
            self._split(v, batch))
        out = out.unflatten(1, (banks, self.num_heads)).transpose(-3, -2)
        out = out.flatten(-2)  # (B, E, Lq, embed_dims)
        return out if self.out_proj is None else self.out_proj(out)


class MultiheadCrossAttention(BankedCrossAttention):
    """A single :class:`BankedCrossAttention` on plain token sets.

    Args:
        query_dims: Width of the queries.
        kv_dims: Width of the keys/values.
        embed_dims: Width of the attention and of the output.
        num_heads: Heads; must divide ``embed_dims``.
        out_proj: Apply an output projection.
    """

    def __init__(self, query_dims: int, kv_dims: int, embed_dims: int,
                 num_heads: int, out_proj: bool = True):
        super().__init__(1, query_dims, kv_dims, embed_dims, num_heads,
                         out_proj)

    def forward(self, query: Tensor, kv: Tensor) -> Tensor:
        """``(B, Nq, query_dims)``, ``(B, Nk, kv_dims)`` ->
        ``(B, Nq, embed_dims)``."""
        return super().forward(query.unsqueeze(1), kv.unsqueeze(1))[:, 0]
