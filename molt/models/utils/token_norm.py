"""Per-channel norms of token sets ``(..., C)``: on the fused tokens and on
the frozen features a parallel scheme reads."""
from typing import Optional

import torch
from mmcv.cnn import build_norm_layer
from torch import Tensor, nn

__all__ = [
    'TokenBatchNorm', 'RunningStandardization', 'TOKEN_NORMS',
    'build_token_norm'
]


class TokenBatchNorm(nn.BatchNorm1d):
    """A BatchNorm over the channels of tokens ``(..., C)``.

    Every token of the batch is one sample of the channel statistics, so
    each channel is standardised over the batch and its tokens, not per
    token as a LayerNorm does. The running statistics standardise at test
    time. The state dict is a plain ``BatchNorm1d``'s.
    """

    def forward(self, tokens: Tensor) -> Tensor:
        """Args: tokens ``(..., C)``. Returns: the same shape."""
        channels = tokens.shape[-1]
        return super().forward(tokens.reshape(-1, channels)).view_as(tokens)


class RunningStandardization(nn.Module):
    """Standardises each channel of tokens ``(..., C)`` by the mean and
    variance of every token seen in training so far.

    Unlike a BatchNorm it never uses the batch's own statistics: after the
    first epoch it is a fixed per-channel standardisation by the training
    set's statistics, the same at training and test time (a
    ``StandardScaler`` fitted online). The sums are float64 buffers, so
    they are exact and travel with the checkpoint. No parameters. Under
    DDP, rank 0's buffers are broadcast, so the statistics are those of
    rank 0's share of the data (as a BatchNorm's running statistics are
    without SyncBN).

    Args:
        num_channels: ``C``.
        eps: Added to the variance.
    """

    def __init__(self, num_channels: int, eps: float = 1e-5):
        super().__init__()
        self.eps = eps
        self.register_buffer('count', torch.zeros((), dtype=torch.float64))
        self.register_buffer('sum', torch.zeros(num_channels,
                                                dtype=torch.float64))
        self.register_buffer('sum_sq', torch.zeros(num_channels,
                                                   dtype=torch.float64))

    @torch.no_grad()
    def _update(self, tokens: Tensor) -> None:
        flat = tokens.detach().reshape(-1, tokens.shape[-1]).double()
        self.count += flat.shape[0]
        self.sum += flat.sum(0)
        self.sum_sq += flat.square().sum(0)

    def forward(self, tokens: Tensor) -> Tensor:
        """Args: tokens ``(..., C)``. Returns: the same shape.

        Before any training token was seen (an untrained model in eval
        mode) it returns ``tokens`` unchanged, as a fresh BatchNorm's
        running statistics (mean 0, variance 1) do.
        """
        if self.training:
            self._update(tokens)
        if self.count == 0:
            return tokens
        mean = self.sum / self.count
        var = (self.sum_sq / self.count - mean.square()).clamp_min(0)
        scale = (var + self.eps).rsqrt()
        return (tokens - mean.to(tokens.dtype)) * scale.to(tokens.dtype)

    def extra_repr(self) -> str:
        return f'{self.sum.numel()}, eps={self.eps}'


#: The token norms molt builds itself (mmcv builds the LayerNorm).
TOKEN_NORMS = dict(BN1d=TokenBatchNorm,
                   RunningStandardization=RunningStandardization)


def build_token_norm(norm_cfg: Optional[dict], num_channels: int,
                     field: str = 'model.token_norm') -> nn.Module:
    """A per-channel norm of tokens ``(..., C)``, or ``nn.Identity`` for
    ``norm_cfg=None``.

    * ``dict(type='LN')`` (any mmcv ``build_norm_layer`` LayerNorm): each
      token over its own channels;
    * ``dict(type='BN1d', ...)``: a :class:`TokenBatchNorm`, each channel
      over the batch's tokens (extra keys are ``BatchNorm1d`` arguments);
    * ``dict(type='RunningStandardization')``: each channel by the
      statistics of all training tokens seen
      (:class:`RunningStandardization`).

    Args:
        norm_cfg: The norm's config, or None.
        num_channels: ``C``.
        field: The config field, for error messages.

    Raises:
        ValueError: ``norm_cfg`` builds another kind of norm (a 2-D
            BatchNorm or a GroupNorm, say, would read ``(..., C)`` tokens
            along the wrong axis).
    """
    if norm_cfg is None:
        return nn.Identity()
    if norm_cfg.get('type') in TOKEN_NORMS:
        kwargs = {k: v for k, v in norm_cfg.items() if k != 'type'}
        try:
            return TOKEN_NORMS[norm_cfg['type']](num_channels, **kwargs)
        except TypeError as error:
            raise ValueError(f'{field}={norm_cfg!r}: {error}') from None
    norm = build_norm_layer(norm_cfg, num_channels)[1]
    if not isinstance(norm, nn.LayerNorm):
        accepted = ', '.join(f"dict(type='{name}')"
                             for name in ('LN', *TOKEN_NORMS))
        raise ValueError(
            f'{field}={norm_cfg!r} builds a {type(norm).__name__}; use '
            f'{accepted} or None.')
    return norm
