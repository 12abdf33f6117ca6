"""Norm layers over the channels of token sets."""
from mmcv.cnn import build_norm_layer
from torch import Tensor, nn
from torch.nn.modules.batchnorm import _BatchNorm

__all__ = ['build_token_norm', 'apply_token_norm']


def build_token_norm(norm_cfg, num_channels: int) -> nn.Module:
    """An mmcv norm layer for tokens ``(..., C)`` (see
    :func:`apply_token_norm`), or ``nn.Identity`` for ``norm_cfg=None``."""
    if norm_cfg is None:
        return nn.Identity()
    return build_norm_layer(norm_cfg, num_channels)[1]


def apply_token_norm(norm: nn.Module, tokens: Tensor) -> Tensor:
    """Normalises tokens ``(..., C)``: a LayerNorm-type norm
    (``dict(type='LN')``) normalises each token over its channels; a
    BatchNorm-type norm (``dict(type='BN1d')``) standardises each channel
    over all tokens of the batch (running statistics at test time)."""
    if isinstance(norm, _BatchNorm):
        return norm(tokens.flatten(0, -2)).view_as(tokens)
    return norm(tokens)
