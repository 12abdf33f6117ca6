"""LAVisH (Lin et al., 2023): adapters inside every frozen block."""
from typing import Dict, List, Optional

import torch
from mmengine.model import BaseModule
from torch import Tensor, nn
from torch.nn import functional as F

from molt.registry import MODELS
from ..backbones.base import FrozenSwinBackbone
from ..utils import BackboneLayout, pair_blocks_by_stage

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
class LAVisHAdapter(BaseModule):
    """The LAVisH scheme: two adapters in every block of both backbones
    (beside the attention and the MLP residual branches), audio and visual
    blocks stepped in lockstep, gradients through the frozen backbones.

    Blocks are paired stage by stage (see
    :func:`~molt.models.utils.pair_blocks_by_stage`): within a stage the
    deeper backbone steps block by block; after the partner block of a
    shallow block, the shallow block runs. Adapters read the other
    modality's tokens *entering* the paired step, so both sides of a pair
    see each other's previous state, as in LAVisH's shared-backbone
    original. Blocks of the deeper side without a partner read the
    shallow side's latest state (same stage, so same width). Before each
    stage both backbones apply their patch merging. With one shared
    backbone the pairing is block to block.

    The output per modality is the last block's tokens, mean-pooled to one
    token when ``pool_outputs`` (LAVisH's pooled final features).

    Args:
        visual: Layout of the visual backbone (filled in by the model).
        audio: Layout of the audio backbone (filled in by the model).
        reduction_factor: Bottleneck width = block width / this.
        num_latents: Latent tokens per adapter.
        pool_outputs: Mean-pool the final tokens to ``(B, 1, C)``.
    """

    #: Runs the backbones itself, with autograd through them.
    is_parallel = False

    def __init__(self,
                 visual: BackboneLayout,
                 audio: BackboneLayout,
                 reduction_factor: int = 8,
                 num_latents: int = 2,
                 pool_outputs: bool = True,
                 init_cfg: Optional[dict] = None):
        super().__init__(init_cfg=init_cfg)
        self.layouts = dict(visual=visual, audio=audio)
        visual_deeper = all(
            len(visual.blocks_of_stage(s)) >= len(audio.blocks_of_stage(s))
            for s in range(min(visual.num_stages, audio.num_stages)))
        self.deep, self.shallow = (('visual', 'audio') if visual_deeper else
                                   ('audio', 'visual'))
        partners = pair_blocks_by_stage(self.layouts[self.deep],
                                        self.layouts[self.shallow])
        # deep block -> the shallow block that runs right after it
        self.shallow_after = {d: s for s, d in partners.items()}
        # The other modality's width seen by each block's adapters.
        other_stage_dims = {
            name: [
                layout.dims[layout.blocks_of_stage(stage)[0]]
                for stage in range(layout.num_stages)
            ]
            for name, layout in self.layouts.items()
        }
        self.pool_outputs = pool_outputs
        self.adapters = nn.ModuleDict()
        for name, other in (('visual', 'audio'), ('audio', 'visual')):
            layout = self.layouts[name]
            self.adapters[name] = nn.ModuleList(
                nn.ModuleList(
                    LAVisHBlockAdapter(
                        layout.dims[i],
                        other_stage_dims[other][layout.stages[i]],
                        max(layout.dims[i] // reduction_factor, 1),
                        num_latents) for _ in range(2))
                for i in range(layout.num_layers))

    @property
    def out_dims(self) -> Dict[str, int]:
        return {name: layout.dims[-1] for name, layout in self.layouts.items()}

    def _step(self, backbone: FrozenSwinBackbone, name: str, block: int,
              x: Tensor, other: Tensor) -> Tensor:
        attn_adapter, mlp_adapter = self.adapters[name][block]
        return backbone.forward_block(
            x, block,
            attn_adapter=lambda tokens: attn_adapter(tokens, other),
            mlp_adapter=lambda tokens: mlp_adapter(tokens, other))

    def forward(self,
                visual_input: Tensor,
                audio_input: Tensor,
                visual_backbone: FrozenSwinBackbone,
                audio_backbone: FrozenSwinBackbone,
                return_stage_maps: bool = False) -> Dict[str, List[Tensor]]:
        """Runs both backbones with the adapters inside.

        Args:
            visual_input: Images ``(B, 3, H, W)``.
            audio_input: The audio backbone's input (waveforms or images).
            visual_backbone: Frozen visual backbone.
            audio_backbone: Frozen audio backbone (may be the same object).
            return_stage_maps: Also return the adapted visual stage maps.

        Returns:
            ``visual``/``audio``: one-element lists with the final tokens
            (``(B, 1, C)`` pooled, or ``(B, N, C)``); ``visual_maps`` with
            ``return_stage_maps``.
        """
        backbones = dict(visual=visual_backbone, audio=audio_backbone)
        states = dict(
            visual=visual_backbone.forward_stem(visual_input),
            audio=audio_backbone.forward_stem(audio_input))
        deep, shallow = self.deep, self.shallow
        maps = []
        for stage in range(self.layouts[deep].num_stages):
            for name in states:
                states[name] = backbones[name].forward_downsample(
                    states[name], stage)
            for block in self.layouts[deep].blocks_of_stage(stage):
                deep_before = states[deep].flatten(1, 2)
                states[deep] = self._step(backbones[deep], deep, block,
                                          states[deep],
                                          states[shallow].flatten(1, 2))
                if block in self.shallow_after:
                    states[shallow] = self._step(backbones[shallow], shallow,
                                                 self.shallow_after[block],
                                                 states[shallow], deep_before)
            if return_stage_maps:
                maps.append(states['visual'].permute(0, 3, 1, 2).contiguous())
        outputs = {}
        for name, state in states.items():
            tokens = state.flatten(1, 2)
            if self.pool_outputs:
                tokens = tokens.mean(1, keepdim=True)
            outputs[name] = [tokens]
        if return_stage_maps:
            outputs['visual_maps'] = maps
        return outputs
