"""A fused forward for timm's Swin-V2 window attention.

timm computes Swin-V2's scaled-cosine attention with an explicit
``softmax(q k^T)`` matrix. The same result comes out of PyTorch's fused
``scaled_dot_product_attention`` once the cosine scale is folded into the
normalised queries and the relative-position bias (plus the shift mask)
is passed as an additive mask, which avoids materialising the attention
matrix in memory-efficient kernels.
"""
import math
import types
from typing import Optional

import torch
from timm.models.swin_transformer_v2 import WindowAttention
from torch import Tensor, nn
from torch.nn import functional as F

__all__ = ['enable_fused_window_attention']

_MAX_LOGIT_SCALE = math.log(1. / 0.01)  # timm's clamp


def _fused_forward(self: WindowAttention,
                   x: Tensor,
                   mask: Optional[Tensor] = None) -> Tensor:
    """Drop-in for ``WindowAttention.forward`` (same arguments/result).

    Args:
        x: Window tokens ``(num_windows * B, N, C)``.
        mask: Shift mask ``(num_windows, N, N)`` (0 / -100) or None.
    """
    windows, tokens, channels = x.shape
    qkv_bias = None
    if self.q_bias is not None:
        qkv_bias = torch.cat((self.q_bias, self.k_bias, self.v_bias))
    if qkv_bias is not None and self.qkv_bias_separate:
        qkv = self.qkv(x) + qkv_bias
    else:
        qkv = F.linear(x, self.qkv.weight, qkv_bias)
    qkv = qkv.reshape(windows, tokens, 3, self.num_heads, -1)
    q, k, v = qkv.permute(2, 0, 3, 1, 4).unbind(0)  # (B_, H, N, d) each
    scale = torch.clamp(self.logit_scale, max=_MAX_LOGIT_SCALE).exp()
    q = F.normalize(q, dim=-1) * scale
    k = F.normalize(k, dim=-1)
    table = self.cpb_mlp(self.relative_coords_table).view(-1, self.num_heads)
    bias = table[self.relative_position_index.view(-1)].view(
        tokens, tokens, -1).permute(2, 0, 1)
    bias = 16 * torch.sigmoid(bias)  # (H, N, N)
    if mask is None:
        out = F.scaled_dot_product_attention(
            q, k, v, attn_mask=bias.to(q.dtype).unsqueeze(0), scale=1.0)
    else:
        num_win = mask.shape[0]
        # (B, nW, H, N, d) queries meet an (nW, H, N, N) mask, broadcast
        # over the batch instead of being copied per image.
        attn_mask = (bias.unsqueeze(0) + mask.unsqueeze(1)).to(q.dtype)
        shape = (windows // num_win, num_win) + q.shape[1:]
        out = F.scaled_dot_product_attention(
            q.reshape(shape), k.reshape(shape), v.reshape(shape),
            attn_mask=attn_mask, scale=1.0).flatten(0, 1)
    out = out.transpose(1, 2).reshape(windows, tokens, channels)
    return self.proj_drop(self.proj(out))


def enable_fused_window_attention(model: nn.Module) -> int:
    """Switches every timm Swin-V2 ``WindowAttention`` in ``model`` to the
    fused forward (dropout-free: molt's frozen backbones are always in eval
    mode).

    Returns:
        The number of attention modules switched.
    """
    count = 0
    for module in model.modules():
        if isinstance(module, WindowAttention):
            module.forward = types.MethodType(_fused_forward, module)
            count += 1
    return count
