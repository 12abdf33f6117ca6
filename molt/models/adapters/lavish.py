"""LAVisH (Lin et al., 2023): adapters inside every frozen block."""
from typing import Dict, List, Optional, Tuple

import torch
from torch import Tensor, nn
from torch.nn import functional as F

from molt.registry import MODELS
from ..backbones.base import FrozenSwinBackbone
from ..utils import BackboneLayout
from .paired_blocks import OTHER, PairedBlockScheme

__all__ = ['LAVisHBlockAdapter', 'LAVisHAdapter']


class LAVisHBlockAdapter(nn.Module):
    """One LAVisH adapter, placed beside a block's residual branch.

    1. ``num_latents`` learnable tokens summarise the other modality by
       attending to its tokens (``z = z + attn(z, other)``);
    2. this modality's tokens attend to the summary, gated by ``g_av``
       (``h = h + g_av * attn(h, z)``);
    3. a bottleneck (down, GELU, up) scaled by a gate ``g``.

    Both gates start at 0, so an untrained adapter leaves the block as it
    was. Attention is LAVisH's parameter-free dot-product attention, here
    in the bottleneck width so that modalities of different widths meet
    (the other modality is projected into it).

    Args:
        in_dims: Width of this modality's tokens.
        other_dims: Width of the other modality's tokens.
        bottleneck_dims: Width of the bottleneck.
        num_latents: Latent tokens summarising the other modality.
    """

    def __init__(self, in_dims: int, other_dims: int, bottleneck_dims: int,
                 num_latents: int):
        super().__init__()
        self.norm = nn.LayerNorm(in_dims)
        self.down = nn.Linear(in_dims, bottleneck_dims)
        self.other_proj = nn.Linear(other_dims, bottleneck_dims)
        self.latents = nn.Parameter(
            torch.zeros(1, num_latents, bottleneck_dims))
        nn.init.trunc_normal_(self.latents, std=0.02)
        self.act = nn.GELU()
        self.up = nn.Linear(bottleneck_dims, in_dims)
        self.gate_av = nn.Parameter(torch.zeros(1))
        self.gate = nn.Parameter(torch.zeros(1))

    def forward(self, x: Tensor, other: Tensor) -> Tensor:
        """Args:
            x: ``(B, N, in_dims)`` tokens entering the residual branch.
            other: ``(B, M, other_dims)`` tokens of the other modality.

        Returns:
            The update ``(B, N, in_dims)`` added to the residual stream.
        """
        hidden = self.down(self.norm(x))
        context = self.other_proj(other)
        latents = self.latents.expand(x.shape[0], -1, -1).to(hidden.dtype)
        latents = latents + F.scaled_dot_product_attention(
            latents, context, context)
        hidden = hidden + self.gate_av * F.scaled_dot_product_attention(
            hidden, latents, latents)
        return self.gate * self.up(self.act(hidden))


@MODELS.register_module()
class LAVisHAdapter(PairedBlockScheme):
    """The LAVisH scheme: two adapters in every block of both backbones
    (beside the attention and the MLP residual branches), audio and visual
    blocks stepped in lockstep by :class:`PairedBlockScheme`, gradients
    through the frozen backbones.

    Unlike DG-SCT and AVMoE, every block is adapted, and a step runs whole
    blocks (:meth:`step`): the adapters of a paired step read the other
    modality's tokens *entering* the step, so both sides of a pair see each
    other's previous state, as in LAVisH's shared-backbone original.
    Blocks of the deeper side without a partner read the shallow side's
    latest state (same stage, so same width).

    The output per modality is the last block's tokens, mean-pooled to one
    token (LAVisH's pooled final features); no final norm is applied.

    Args:
        visual: Layout of the visual backbone (filled in by the model).
        audio: Layout of the audio backbone (filled in by the model).
        reduction_factor: Bottleneck width = block width / this.
        num_latents: Latent tokens per adapter.
    """

    def __init__(self,
                 visual: BackboneLayout,
                 audio: BackboneLayout,
                 reduction_factor: int = 8,
                 num_latents: int = 2,
                 init_cfg: Optional[dict] = None):
        super().__init__(
            visual,
            audio,
            visual_pooling='mean',
            audio_pooling='mean',
            final_norm=(),
            init_cfg=init_cfg)
        layouts = self.layouts

        def factory(name: str, block: int, other: int) -> nn.Module:
            dims = layouts[name].dims[block]
            return LAVisHBlockAdapter(dims, layouts[OTHER[name]].dims[other],
                                      max(dims // reduction_factor, 1),
                                      num_latents)

        self.build_sites(factory)

    def site_blocks(self, name: str) -> List[Tuple[int, int]]:
        """Every block of ``name``, each with the first block of the other
        modality in the same stage (whose width its adapters read)."""
        layout, other = self.layouts[name], self.layouts[OTHER[name]]
        return [(block, other.blocks_of_stage(stage)[0])
                for block, stage in enumerate(layout.stages)]

    def _step_block(self, backbone: FrozenSwinBackbone, name: str,
                    block: int, x: Tensor, other: Tensor) -> Tensor:
        """Runs ``block`` with both adapters reading ``other``
        ``(B, M, C_o)``."""
        attn_adapter, mlp_adapter = self.site(name, block)
        return backbone.forward_block(
            x, block,
            attn_adapter=lambda tokens: attn_adapter(tokens, other),
            mlp_adapter=lambda tokens: mlp_adapter(tokens, other))

    def step(self, backbones: Dict[str, FrozenSwinBackbone],
             states: Dict[str, Tensor], blocks: Dict[str, int],
             extras: Dict[str, list]) -> None:
        """Runs the deeper side's block, reading the shallow side's state,
        then its partner (if any), reading the deeper side's state entering
        the step (see :meth:`PairedBlockScheme.step`)."""
        deep, shallow = self.deep, self.shallow
        deep_before = states[deep].flatten(1, 2)
        states[deep] = self._step_block(backbones[deep], deep, blocks[deep],
                                        states[deep],
                                        states[shallow].flatten(1, 2))
        if shallow in blocks:
            states[shallow] = self._step_block(backbones[shallow], shallow,
                                               blocks[shallow],
                                               states[shallow], deep_before)
