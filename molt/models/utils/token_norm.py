"""The LayerNorm on each modality's fused tokens."""
from typing import Optional

from mmcv.cnn import build_norm_layer
from torch import nn

__all__ = ['build_token_norm']


def build_token_norm(norm_cfg: Optional[dict], num_channels: int) -> nn.Module:
    """A LayerNorm over the channels of tokens ``(..., C)`` (mmcv
    ``build_norm_layer``, e.g. ``dict(type='LN')``), or ``nn.Identity`` for
    ``norm_cfg=None``.

    Raises:
        ValueError: ``norm_cfg`` builds another kind of norm (a BatchNorm,
            say, would read ``(..., C)`` tokens along the wrong axis).
    """
    if norm_cfg is None:
        return nn.Identity()
    norm = build_norm_layer(norm_cfg, num_channels)[1]
    if not isinstance(norm, nn.LayerNorm):
        raise ValueError(
            f'model.token_norm={norm_cfg!r} builds a '
            f"{type(norm).__name__}; use a LayerNorm (dict(type='LN')) or "
            'None.')
    return norm
