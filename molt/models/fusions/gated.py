"""One learnable gate per layer."""
from typing import Sequence

import torch
from torch import Tensor, nn

from molt.registry import MODELS
from ..layers import check_layer_tokens

__all__ = ['GatedTokenFusion']


@MODELS.register_module()
class GatedTokenFusion(nn.Module):
    """``Z = sum_l softmax(g)_l z^(l)`` with one learnable scalar ``g_l`` per
    layer, shared by all samples (the paper's "gates" row of Table 7).

    The gates start at 0, i.e. as the average; the softmax keeps the
    weights a convex combination like the other fusions.

    Args:
        embed_dims: Token width (unused; every fusion takes it).
        num_layers: Number of layers, one gate each.
    """

    def __init__(self, embed_dims: int = None, num_layers: int = None):
        super().__init__()
        if not num_layers:
            raise ValueError('GatedTokenFusion needs num_layers (the model '
                             'fills it in from the adapter).')
        self.gates = nn.Parameter(torch.zeros(num_layers))

    def forward(self, tokens: Sequence[Tensor]) -> Tensor:
        """``L x (B, T, C)`` -> ``(B, T, C)``."""
        stacked = check_layer_tokens(tokens, 'GatedTokenFusion')
        if stacked.shape[1] != self.gates.numel():
            raise ValueError(f'GatedTokenFusion has {self.gates.numel()} '
                             f'gates but got {stacked.shape[1]} layers.')
        weights = self.gates.softmax(0).to(stacked.dtype)
        return torch.einsum('l,bltc->btc', weights, stacked)
