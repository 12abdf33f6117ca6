"""Checks on the layer-wise tokens that fusions and analyses read."""
from typing import Sequence

import torch
from torch import Tensor

__all__ = ['check_layer_tokens']


def check_layer_tokens(tokens: Sequence[Tensor], owner: str) -> Tensor:
    """Stacks layer-wise tokens ``L x (B, T, C)`` to ``(B, L, T, C)``.

    Args:
        tokens: One token set per layer, all of one shape.
        owner: Who asks, for the error message.

    Raises:
        ValueError: ``tokens`` is empty.
    """
    if len(tokens) == 0:
        raise ValueError(f'{owner} got no layer-wise tokens.')
    return torch.stack(list(tokens), dim=1)
