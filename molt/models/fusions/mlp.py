"""MoLT's token fusion module (TFM, paper Eq. 6-7)."""
from typing import Optional, Sequence

from torch import Tensor, nn

from molt.registry import MODELS
from .avg import check_layer_tokens

__all__ = ['MLPTokenFusion']

#: What one fusion weight ``alpha^(l)`` covers.
WEIGHT_SCOPES = ('layer', 'token')


@MODELS.register_module()
class MLPTokenFusion(nn.Module):
    """An MLP scores the layer-wise tokens, a softmax across layers turns
    the scores into ``alpha``, and ``Z = sum_l alpha^(l) z^(l)``.

    ``weights='layer'`` (default) reads ``alpha^(l)`` literally, one weight
    per layer (and sample): the MLP scores the layer's token set through
    its mean token, ``alpha = softmax_l(MLP(mean_t z^(l)_t))``.
    ``weights='token'`` scores every token position separately: token ``t``
    of layer ``l`` gets ``alpha[l, t]`` with ``sum_l alpha[l, t] = 1``.

    Args:
        embed_dims: Token width.
        num_layers: Number of layers (unused; every fusion takes it).
        hidden_dims: Hidden width of the scoring MLP (default
            ``embed_dims // 2``).
        weights: ``'layer'`` or ``'token'`` (see above).
    """

    def __init__(self,
                 embed_dims: int,
                 num_layers: Optional[int] = None,
                 hidden_dims: Optional[int] = None,
                 weights: str = 'layer'):
        super().__init__()
        if weights not in WEIGHT_SCOPES:
            raise ValueError(f'model.fusion.weights={weights!r}; use one of '
                             f'{WEIGHT_SCOPES}.')
        self.per_token = weights == 'token'
        hidden_dims = hidden_dims or max(embed_dims // 2, 1)
        # No bias on the score: one shared by all layers cancels in the
        # softmax across layers.
        self.score = nn.Sequential(
            nn.Linear(embed_dims, hidden_dims), nn.GELU(),
            nn.Linear(hidden_dims, 1, bias=False))

    def weights(self, stacked: Tensor) -> Tensor:
        """``alpha`` for stacked tokens ``(B, L, T, C)``: ``(B, L, T, 1)``
        per token, ``(B, L, 1, 1)`` per layer."""
        summary = stacked if self.per_token else stacked.mean(2, keepdim=True)
        return self.score(summary).softmax(dim=1)

    def forward(self, tokens: Sequence[Tensor]) -> Tensor:
        """``L x (B, T, C)`` -> ``(B, T, C)``."""
        stacked = check_layer_tokens(tokens, 'MLPTokenFusion')
        return (self.weights(stacked) * stacked).sum(1)
