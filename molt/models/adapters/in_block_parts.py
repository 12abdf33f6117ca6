"""Parts of the in-block adapters that DG-SCT and AVMoE share.

Both peers build on LAVisH's adapter as their public code has it (one
adapter beside a frozen block's residual branch, reading the other
modality): the other modality is first mapped onto this modality's token
grid, learnable latent tokens carry it over, and a grouped 1x1-conv
bottleneck with a zero-initialised gate produces the update. These parts
are that code's pieces, each tested on its own.
"""
import torch
from torch import Tensor, nn
from torch.nn import functional as F

__all__ = [
    'OtherModalityProjection', 'LatentTokenExchange', 'GatedBottleneck'
]


class OtherModalityProjection(nn.Module):
    """Maps the other modality's tokens onto this modality's token grid.

    A linear map over the token axis (``N_o -> N``, with bias: the peers'
    1x1 ``Conv2d`` over tokens), then one over channels (``C_o -> C``).

    Args:
        other_tokens: ``N_o``, tokens of the other modality's block.
        num_tokens: ``N``, tokens of this modality's block.
        other_dims: ``C_o``.
        dims: ``C``.
    """

    def __init__(self, other_tokens: int, num_tokens: int, other_dims: int,
                 dims: int):
        super().__init__()
        self.token_proj = nn.Linear(other_tokens, num_tokens)
        self.channel_proj = nn.Linear(other_dims, dims)

    def forward(self, other: Tensor) -> Tensor:
        """``(B, N_o, C_o)`` -> ``(B, N, C)``."""
        expected = self.token_proj.in_features, self.channel_proj.in_features
        if tuple(other.shape[1:]) != expected:
            raise ValueError(
                f'{type(self).__name__} was built for (B, {expected[0]}, '
                f'{expected[1]}) tokens of the other modality, got '
                f'{tuple(other.shape)}; the backbones must match the layouts '
                'the adapter was built from.')
        mixed = self.token_proj(other.transpose(1, 2)).transpose(1, 2)
        return self.channel_proj(mixed)


class LatentTokenExchange(nn.Module):
    """LAVisH's latent summary as the peers' code computes it::

        z = z + softmax(z c^T) c        (latents gather the context c)
        x = x + g softmax(x z^T) z      (tokens read the latents)

    with ``K`` learnable latents drawn from U[0, 1) (``torch.rand``) and a
    gate ``g`` that starts at 0. The dot products are not scaled by
    ``1/sqrt(C)``, as in the peers' code.

    Args:
        dims: Width ``C`` of the tokens and of the context.
        num_latents: ``K``.
    """

    def __init__(self, dims: int, num_latents: int):
        super().__init__()
        self.latents = nn.Parameter(torch.rand(num_latents, dims))
        self.gate = nn.Parameter(torch.zeros(1))

    def forward(self, x: Tensor, context: Tensor) -> Tensor:
        """``x`` ``(B, N, C)`` reads ``context`` ``(B, M, C)``; returns
        ``(B, N, C)``."""
        latents = self.latents.to(x.dtype).expand(x.shape[0], -1, -1)
        latents = latents + F.scaled_dot_product_attention(
            latents, context, context, scale=1.0)
        return x + self.gate * F.scaled_dot_product_attention(
            x, latents, latents, scale=1.0)


class GatedBottleneck(nn.Module):
    """The peers' adapter bottleneck on tokens ``(B, N, C)``::

        LN -> 1x1 conv C -> C/r (groups, no bias) -> [BN] -> [ReLU]
           -> 1x1 conv C/r -> C (groups, no bias) -> [BN] -> LN -> * g

    The gate ``g`` starts at 0, so a new adapter leaves its block as it
    was. AVMoE's uni-modal experts have no activation.

    Args:
        dims: ``C``.
        reduction_factor: ``r``.
        num_groups: Groups of both 1x1 convolutions.
        use_bn: Batch norm after each convolution (the peers' ``is_bn``).
        activation: ReLU between the convolutions.
        gated: Scale the output by the learnable gate.
    """

    def __init__(self,
                 dims: int,
                 reduction_factor: int = 8,
                 num_groups: int = 2,
                 use_bn: bool = True,
                 activation: bool = True,
                 gated: bool = True):
        super().__init__()
        hidden = dims // reduction_factor
        if hidden < 1 or hidden % num_groups or dims % num_groups:
            raise ValueError(
                f'GatedBottleneck: width {dims} / reduction_factor '
                f'{reduction_factor} = {hidden}; both {dims} and {hidden} '
                f'must be positive multiples of num_groups={num_groups}. '
                'Lower reduction_factor or num_groups.')
        self.norm_in = nn.LayerNorm(dims)
        self.down = nn.Conv1d(dims, hidden, 1, groups=num_groups, bias=False)
        self.up = nn.Conv1d(hidden, dims, 1, groups=num_groups, bias=False)
        self.bn_down = nn.BatchNorm1d(hidden) if use_bn else nn.Identity()
        self.bn_up = nn.BatchNorm1d(dims) if use_bn else nn.Identity()
        self.act = nn.ReLU() if activation else nn.Identity()
        self.norm_out = nn.LayerNorm(dims)
        self.gate = nn.Parameter(torch.zeros(1)) if gated else None

    def forward(self, x: Tensor) -> Tensor:
        """``(B, N, C)`` -> ``(B, N, C)``."""
        z = self.norm_in(x).transpose(1, 2)  # (B, C, N) for the 1x1 convs
        z = self.bn_up(self.up(self.act(self.bn_down(self.down(z)))))
        out = self.norm_out(z.transpose(1, 2))
        return out if self.gate is None else self.gate * out
