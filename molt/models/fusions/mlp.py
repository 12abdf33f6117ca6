"""MoLT's token fusion module (TFM, paper Eq. 6-7)."""
from typing import Sequence

from torch import Tensor, nn

from molt.registry import MODELS
from .avg import check_layer_tokens

__all__ = ['MLPTokenFusion']


@MODELS.register_module()
class MLPTokenFusion(nn.Module):
    """An MLP scores every layer-wise token, a softmax across layers turns
    the scores into ``alpha``, and ``Z = sum_l alpha^(l) z^(l)``.

    Scores are per token position: token ``t`` of layer ``l`` gets
    ``alpha[l, t]`` with ``sum_l alpha[l, t] = 1``.

    Args:
        embed_dims: Token width.
        num_layers: Number of layers (unused; every fusion takes it).
        hidden_dims: Hidden width of the scoring MLP (default
            ``embed_dims // 2``).
    """

    def __init__(self,
                 embed_dims: int,
                 num_layers: int = None,
                 hidden_dims: int = None):
        super().__init__()
        hidden_dims = hidden_dims or max(embed_dims // 2, 1)
        self.score = nn.Sequential(
            nn.Linear(embed_dims, hidden_dims), nn.GELU(),
            nn.Linear(hidden_dims, 1))

    def weights(self, stacked: Tensor) -> Tensor:
        """``alpha`` ``(B, L, T, 1)`` for stacked tokens ``(B, L, T, C)``."""
        return self.score(stacked).softmax(dim=1)

    def forward(self, tokens: Sequence[Tensor]) -> Tensor:
        """``L x (B, T, C)`` -> ``(B, T, C)``."""
        stacked = check_layer_tokens(tokens, 'MLPTokenFusion')
        return (self.weights(stacked) * stacked).sum(1)
