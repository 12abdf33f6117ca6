"""MoLT's token fusion module (TFM, paper Eq. 6-7)."""
from typing import Optional, Sequence

from torch import Tensor, nn

from molt.registry import MODELS
from ..layers import check_layer_tokens

__all__ = ['MLPTokenFusion']


@MODELS.register_module()
class MLPTokenFusion(nn.Module):
    """An MLP scores the layer-wise tokens, a softmax across layers turns
    the scores into ``alpha``, and ``Z = sum_l alpha^(l) z^(l)``.

    ``alpha^(l)`` is read literally, one weight per layer (and sample): the
    MLP scores the layer's token set through its mean token,
    ``alpha = softmax_l(MLP(mean_t z^(l)_t))``.

    Args:
        embed_dims: Token width.
        num_layers: Number of layers (unused; every fusion takes it).
        hidden_dims: Hidden width of the scoring MLP (default
            ``embed_dims // 2``).
    """

    def __init__(self,
                 embed_dims: int,
                 num_layers: Optional[int] = None,
                 hidden_dims: Optional[int] = None):
        super().__init__()
        hidden_dims = hidden_dims or max(embed_dims // 2, 1)
        # No bias on the score: one shared by all layers cancels in the
        # softmax across layers.
        self.score = nn.Sequential(
            nn.Linear(embed_dims, hidden_dims), nn.GELU(),
            nn.Linear(hidden_dims, 1, bias=False))

    def weights(self, stacked: Tensor) -> Tensor:
        """``alpha`` ``(B, L, 1, 1)`` for stacked tokens ``(B, L, T, C)``."""
        return self.score(stacked.mean(2, keepdim=True)).softmax(dim=1)

    def forward(self, tokens: Sequence[Tensor]) -> Tensor:
        """``L x (B, T, C)`` -> ``(B, T, C)``."""
        stacked = check_layer_tokens(tokens, 'MLPTokenFusion')
        return (self.weights(stacked) * stacked).sum(1)
