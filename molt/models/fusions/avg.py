"""Average of layer-wise tokens (the Mettle-style fusion)."""
from typing import Optional, Sequence

import torch
from torch import Tensor, nn

from molt.registry import MODELS

__all__ = ['AvgTokenFusion', 'check_layer_tokens']


def check_layer_tokens(tokens: Sequence[Tensor], owner: str) -> Tensor:
    """Stacks layer-wise tokens ``L x (B, T, C)`` to ``(B, L, T, C)``."""
    if len(tokens) == 0:
        raise ValueError(f'{owner} got no layer-wise tokens.')
    return torch.stack(list(tokens), dim=1)


@MODELS.register_module()
class AvgTokenFusion(nn.Module):
    """``Z = mean_l z^(l)``.

    Args:
        embed_dims: Token width (unused; every fusion takes it).
        num_layers: Number of layers (unused; every fusion takes it).
    """

    def __init__(self,
                 embed_dims: Optional[int] = None,
                 num_layers: Optional[int] = None):
        super().__init__()

    def forward(self, tokens: Sequence[Tensor]) -> Tensor:
        """``L x (B, T, C)`` -> ``(B, T, C)``."""
        return check_layer_tokens(tokens, 'AvgTokenFusion').mean(1)
