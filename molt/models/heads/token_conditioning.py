"""Conditioning multi-scale visual maps on audio-visual tokens."""
from typing import List, Sequence

import torch
from torch import Tensor, nn

from ..layers import MultiheadCrossAttention

__all__ = ['TokenConditionedMaps']


class TokenConditionedMaps(nn.Module):
    """Projects each stage map to ``embed_dims`` and lets every position
    attend to the frame's fused tokens, with a residual::

        x_s = P_s(map_s)                                 (1x1 conv + GN)
        x_s = x_s + CA_s(LN_s(x_s), [W_v z_v ; W_a z_a])

    where ``z_v``/``z_a`` are the frame's fused visual and audio tokens and
    ``CA_s`` is multi-head cross-attention (fused SDPA). Attention over
    audio tokens is what lets a position respond to what is heard, so the
    decoder can tell the sounding object from a silent one.

    Args:
        in_channels: Channels of each stage map.
        visual_dims: Width of the fused visual tokens.
        audio_dims: Width of the fused audio tokens.
        embed_dims: Width of the conditioned maps (and the attention).
        num_heads: Attention heads.
        num_groups: GroupNorm groups after each projection.
    """

    def __init__(self,
                 in_channels: Sequence[int],
                 visual_dims: int,
                 audio_dims: int,
                 embed_dims: int,
                 num_heads: int,
                 num_groups: int = 8):
        super().__init__()
        self.visual_proj = nn.Linear(visual_dims, embed_dims)
        self.audio_proj = nn.Linear(audio_dims, embed_dims)
        self.token_norm = nn.LayerNorm(embed_dims)
        self.map_projs = nn.ModuleList(
            nn.Sequential(
                nn.Conv2d(channels, embed_dims, 1),
                nn.GroupNorm(num_groups, embed_dims))
            for channels in in_channels)
        self.query_norms = nn.ModuleList(
            nn.LayerNorm(embed_dims) for _ in in_channels)
        self.attns = nn.ModuleList(
            MultiheadCrossAttention(embed_dims, embed_dims, embed_dims,
                                    num_heads) for _ in in_channels)

    def forward(self, maps: Sequence[Tensor], visual: Tensor,
                audio: Tensor) -> List[Tensor]:
        """Args:
            maps: Per scale ``(F, C_s, H_s, W_s)`` for ``F`` frames.
            visual: Fused visual tokens ``(F, N_v, visual_dims)``.
            audio: Fused audio tokens ``(F, N_a, audio_dims)``.

        Returns:
            Per scale ``(F, embed_dims, H_s, W_s)``.
        """
        tokens = self.token_norm(
            torch.cat([self.visual_proj(visual),
                       self.audio_proj(audio)], 1))
        outputs = []
        for feat, proj, norm, attn in zip(maps, self.map_projs,
                                          self.query_norms, self.attns):
            x = proj(feat)
            height, width = x.shape[-2:]
            query = x.flatten(2).transpose(1, 2)  # (F, H*W, D)
            update = attn(norm(query), tokens)
            x = x + update.transpose(1, 2).unflatten(2, (height, width))
            outputs.append(x)
        return outputs
