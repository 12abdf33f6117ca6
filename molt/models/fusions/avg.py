"""Average of layer-wise tokens (the Mettle-style fusion)."""
from typing import Optional, Sequence

from torch import Tensor, nn

from molt.registry import MODELS
from ..layers import check_layer_tokens

__all__ = ['AvgTokenFusion']


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
