"""Stepping two frozen backbones in lockstep, paired block by paired block.

LAVisH, DG-SCT and AVMoE place two adapters per modality in blocks of both
backbones (one beside the attention branch, one beside the MLP branch),
each reading the other modality, and run the two backbones in lockstep
with gradients through them. :class:`PairedBlockScheme` holds that driver
(which backbone is deeper, the stem, the patch merging and block loop, the
stage maps, the final norm and pooling); a scheme says what an adapter is
and, where it differs, how a step runs.
"""
from typing import Callable, Dict, List, Optional, Sequence, Tuple

from torch import Tensor, nn

from ..backbones.base import FrozenSwinBackbone
from ..utils import BackboneLayout, pair_blocks_by_stage
from .base import MODALITIES, BaseAdapterScheme

__all__ = ['PairedBlockScheme', 'OTHER']

OTHER = dict(visual='audio', audio='visual')

# Builds the adapter of one site: (modality, its block, the block of the
# other modality it reads: its partner, or for LAVisH's unpaired blocks a
# block of the same stage) -> a module mapping (tokens (B, N, C), other
# modality's tokens (B, M, C_o)) to an update (B, N, C), or for the
# half-step schemes to (update, extra or None).
SiteFactory = Callable[[str, int, int], nn.Module]


class PairedBlockScheme(BaseAdapterScheme):
    """Base of the sequential schemes with adapters in paired blocks.

    Blocks are paired stage by stage with
    :func:`~molt.models.utils.pair_blocks_by_stage` (the peers' pairing:
    HTS-AT block ``k`` of Swin-V2-L's third stage with Swin block
    ``3k + 2``). Before each stage both backbones apply their patch
    merging; within a stage the deeper backbone steps block by block and a
    shallow block runs with its partner (:meth:`step`). With one shared
    backbone the pairing is block to block.

    The default :meth:`step` (DG-SCT, AVMoE) adapts the paired blocks of
    the adapted ``stages`` only; deeper-side blocks without a partner run
    unadapted, as in the peers' code. A paired step is two half-steps
    (:meth:`FrozenSwinBackbone.forward_attn_residual`, then
    ``forward_mlp_residual``); in each, both modalities' adapters read the
    other modality's state *entering* that half, so the attention-side
    adapters see both pre-block states and the MLP-side adapters both
    post-attention states::

        x_m = x_m + attn_m(x_m) + A_m(x_m, x_o)
        x_m = x_m + mlp_m(x_m)  + M_m(x_m, x_o)

    Gradients flow through both backbones; their parameters stay frozen.

    Subclasses call :meth:`build_sites` with a factory for the adapters
    and may override :meth:`site_blocks`, :meth:`step`, :meth:`pool` and
    :meth:`finish`. The outputs are one token set per modality, the tokens
    leaving the last block (:meth:`layers`), pooled as configured.

    Args:
        visual: Layout of the visual backbone (filled in by the model).
        audio: Layout of the audio backbone (filled in by the model).
        stages: Stages whose paired blocks get adapters (negatives
            allowed), or None for all (AVMoE's ``num_skip`` leaves some
            out).
        visual_pooling: How the final visual tokens are returned:
            ``'mean'`` (one token) or None (all tokens).
        audio_pooling: Same for the audio tokens.
        final_norm: Modalities whose backbone's final (frozen) LayerNorm is
            applied after the last block to the final tokens. The peers
            apply Swin-V2's, not HTS-AT's. (The last visual stage map
            always passes it: :meth:`FrozenSwinBackbone.to_stage_map`.)
    """

    #: Runs the backbones itself, with autograd through them.
    is_parallel = False
    #: Accepted values of ``visual_pooling`` / ``audio_pooling``.
    poolings: Tuple[Optional[str], ...] = ('mean', None)

    def __init__(self,
                 visual: BackboneLayout,
                 audio: BackboneLayout,
                 stages: Optional[Sequence[int]] = None,
                 visual_pooling: Optional[str] = 'mean',
                 audio_pooling: Optional[str] = 'mean',
                 final_norm: Sequence[str] = ('visual', ),
                 init_cfg: Optional[dict] = None):
        super().__init__(visual, audio, init_cfg=init_cfg)
        unknown = set(final_norm) - set(MODALITIES)
        if unknown:
            raise ValueError(
                f'final_norm: unknown modalities {sorted(unknown)}; use a '
                f'subset of {MODALITIES}.')
        self.final_norm = tuple(final_norm)
        visual_deeper = all(
            len(visual.blocks_of_stage(s)) >= len(audio.blocks_of_stage(s))
            for s in range(min(visual.num_stages, audio.num_stages)))
        self.deep, self.shallow = (('visual', 'audio') if visual_deeper else
                                   ('audio', 'visual'))
        num_stages = self.layouts[self.deep].num_stages
        self.stages = self._resolve_stages(stages, num_stages)
        partners = pair_blocks_by_stage(self.layouts[self.deep],
                                        self.layouts[self.shallow])
        # deep block -> the shallow block that runs with it
        self.partners: Dict[int, int] = {d: s for s, d in partners.items()}
        # (visual block, audio block) of every adapted pair, in order
        self.site_pairs: List[Tuple[int, int]] = sorted(
            (d, s) if self.deep == 'visual' else (s, d)
            for d, s in self.partners.items()
            if self.layouts[self.deep].stages[d] in self.stages)
        self.pooling = dict(visual=visual_pooling, audio=audio_pooling)
        for name, pooling in self.pooling.items():
            if pooling not in self.poolings:
                raise ValueError(
                    f'{type(self).__name__}: {name}_pooling={pooling!r}; use '
                    f'one of {self.poolings}.')
        self.adapters = nn.ModuleDict()

    @staticmethod
    def _resolve_stages(stages: Optional[Sequence[int]],
                        num_stages: int) -> List[int]:
        if stages is None:
            return list(range(num_stages))
        for stage in stages:
            if not -num_stages <= stage < num_stages:
                raise IndexError(
                    f'stages: {stage} is out of range for backbones with '
                    f'{num_stages} stages (valid: {-num_stages}..'
                    f'{num_stages - 1}).')
        return sorted({stage % num_stages for stage in stages})

    def site_blocks(self, name: str) -> List[Tuple[int, int]]:
        """``(block, other block)`` of every block of modality ``name``
        that gets adapters, in block order: the adapted paired blocks."""
        return [pair if name == 'visual' else pair[::-1]
                for pair in self.site_pairs]

    def build_sites(self, factory: SiteFactory) -> None:
        """Builds the two adapters (attention side, MLP side) of every
        block of :meth:`site_blocks`, visual first, in block order.

        Args:
            factory: ``factory(modality, block, other_block)`` -> adapter.
        """
        # block -> site index, per modality
        self.sites = {name: {} for name in MODALITIES}
        for name in MODALITIES:
            sites = nn.ModuleList()
            for index, (block, other) in enumerate(self.site_blocks(name)):
                self.sites[name][block] = index
                sites.append(
                    nn.ModuleList(
                        factory(name, block, other) for _ in range(2)))
            self.adapters[name] = sites

    def site(self, name: str, block: int) -> nn.ModuleList:
        """The two adapters (attention side, MLP side) of a block."""
        return self.adapters[name][self.sites[name][block]]

    @property
    def out_dims(self) -> Dict[str, int]:
        return {name: layout.dims[-1] for name, layout in self.layouts.items()}

    def layers(self, modality: str) -> List[int]:
        """The last block: the scheme returns the tokens leaving it."""
        return [self.layouts[modality].num_layers - 1]

    # -- stepping ----------------------------------------------------------
    def step(self, backbones: Dict[str, FrozenSwinBackbone],
             states: Dict[str, Tensor], blocks: Dict[str, int],
             extras: Dict[str, list]) -> None:
        """Runs one deeper-side block of an adapted stage, with its partner
        when it has one, updating ``states`` in place.

        Args:
            backbones: The two backbones, by modality.
            states: NHWC tokens ``(B, H, W, C)`` per modality.
            blocks: The deeper side's block and, when it has one, its
                partner (flat indices by modality).
            extras: Per modality, what the adapters returned besides their
                updates, in call order (appended to).
        """
        if len(blocks) == 1:
            (name, block), = blocks.items()
            states[name] = backbones[name].forward_block(states[name], block)
            return
        halves = ('forward_attn_residual', 'forward_mlp_residual')
        for half, method in enumerate(halves):
            entering = {n: s.flatten(1, 2) for n, s in states.items()}
            for name in MODALITIES:
                adapter = self.site(name, blocks[name])[half]

                def run(tokens: Tensor, adapter=adapter,
                        other=entering[OTHER[name]], name=name) -> Tensor:
                    update, extra = adapter(tokens, other)
                    if extra is not None:
                        extras[name].append(extra)
                    return update

                states[name] = getattr(backbones[name], method)(
                    states[name], blocks[name], adapter=run)

    def forward(self,
                visual_input: Tensor,
                audio_input: Tensor,
                visual_backbone: FrozenSwinBackbone,
                audio_backbone: FrozenSwinBackbone,
                return_stage_maps: bool = False,
                **kwargs) -> Dict[str, List[Tensor]]:
        """Runs both backbones with the adapters inside.

        Args:
            visual_input: Images ``(B, 3, H, W)``.
            audio_input: The audio backbone's input (waveforms or images).
            visual_backbone: Frozen visual backbone.
            audio_backbone: Frozen audio backbone (may be the same object).
            return_stage_maps: Also return the adapted visual stage maps.
            **kwargs: Passed to :meth:`finish` (e.g. ``num_segments``).

        Returns:
            ``visual``/``audio``: one-element lists with the final tokens
            (``(B, 1, C)`` pooled or ``(B, N, C)``); ``visual_maps`` (the
            four stage maps, NCHW) with ``return_stage_maps``; whatever
            :meth:`finish` adds.
        """
        backbones = dict(visual=visual_backbone, audio=audio_backbone)
        states = dict(
            visual=visual_backbone.forward_stem(visual_input),
            audio=audio_backbone.forward_stem(audio_input))
        extras = {name: [] for name in MODALITIES}
        deep, shallow = self.deep, self.shallow
        maps = []
        for stage in range(self.layouts[deep].num_stages):
            for name in MODALITIES:
                states[name] = backbones[name].forward_downsample(
                    states[name], stage)
            adapted = stage in self.stages
            for block in self.layouts[deep].blocks_of_stage(stage):
                blocks = {deep: block}
                if block in self.partners:
                    blocks[shallow] = self.partners[block]
                if adapted:
                    self.step(backbones, states, blocks, extras)
                    continue
                for name, index in blocks.items():
                    states[name] = backbones[name].forward_block(
                        states[name], index)
            if return_stage_maps:
                maps.append(
                    visual_backbone.to_stage_map(states['visual'], stage))
            if stage == self.layouts[deep].num_stages - 1:
                for name in self.final_norm:
                    states[name] = backbones[name].forward_final_norm(
                        states[name])
        tokens = {name: state.flatten(1, 2) for name, state in states.items()}
        outputs = self.finish(tokens, extras, **kwargs)
        if return_stage_maps:
            outputs['visual_maps'] = maps
        return outputs

    def finish(self, tokens: Dict[str, Tensor], extras: Dict[str, list],
               **kwargs) -> Dict[str, List[Tensor]]:
        """Turns the final tokens into the scheme's outputs.

        Args:
            tokens: Final ``(B, N, C)`` tokens per modality.
            extras: Per modality, what its adapters returned besides their
                updates, in call order.

        Returns:
            ``visual``/``audio``: one-element lists of pooled tokens.
        """
        if kwargs:
            raise TypeError(
                f'{type(self).__name__} takes no {sorted(kwargs)}.')
        return {
            name: [self.pool(name, tokens[name], extras[name])]
            for name in MODALITIES
        }

    def pool(self, name: str, tokens: Tensor, extras: list) -> Tensor:
        """``(B, N, C)`` -> ``(B, 1, C)`` (``'mean'``) or unchanged."""
        if self.pooling[name] == 'mean':
            return tokens.mean(1, keepdim=True)
        return tokens
