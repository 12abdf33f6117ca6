"""MoLT's adapter scheme: parallel FDMs reading selected layers."""
from typing import Dict, List, Optional, Sequence

from mmengine.model import BaseModule
from torch import Tensor, nn

from molt.registry import MODELS
from ..utils import (BackboneLayout, LayerSelection, pair_by_relative_depth,
                     resolve_layers)
from .fdm import FeatureDistillationModule

__all__ = ['MoLTAdapter']


@MODELS.register_module()
class MoLTAdapter(BaseModule):
    """Parallel readers: one :class:`FeatureDistillationModule` per selected
    layer and modality, fed with frozen features (no backbone graph).

    This scheme covers MoLT (late layers, 2 UDA + 2 CDA, a router) and the
    Mettle-style baseline (every layer, 1 UDA, no CDA) by configuration.

    Each selected layer of one modality is paired with the other modality's
    selected layer at the same relative depth (see
    :func:`~molt.models.utils.pair_by_relative_depth`); the pair feeds the
    router and the CDAs.

    Args:
        visual: Layout of the visual backbone (filled in by the model).
        audio: Layout of the audio backbone (filled in by the model).
        visual_layers: Visual layer selection (indices, ``'late'``, ...).
        audio_layers: Audio layer selection.
        num_uda: Uni-modal adapters per layer (paper: 2).
        num_cda: Cross-modal adapters per layer (paper: 2).
        num_latents: Distilled tokens per modality (paper: 8; 4 for AVS).
        num_heads: Attention heads of the adapters.
        embed_dims: Width of the distilled tokens.
        router_hidden_dims: Hidden width of each router.
    """

    #: Reads frozen features; the model runs the backbones under no_grad.
    is_parallel = True

    def __init__(self,
                 visual: BackboneLayout,
                 audio: BackboneLayout,
                 visual_layers: LayerSelection = 'late',
                 audio_layers: LayerSelection = 'late',
                 num_uda: int = 2,
                 num_cda: int = 2,
                 num_latents: int = 8,
                 num_heads: int = 4,
                 embed_dims: int = 64,
                 router_hidden_dims: int = 64,
                 init_cfg: Optional[dict] = None):
        super().__init__(init_cfg=init_cfg)
        self.visual_layers = resolve_layers(visual_layers, visual.num_layers,
                                            'adapter.visual_layers')
        self.audio_layers = resolve_layers(audio_layers, audio.num_layers,
                                           'adapter.audio_layers')
        self.visual_partners = pair_by_relative_depth(self.visual_layers,
                                                      self.audio_layers)
        self.audio_partners = pair_by_relative_depth(self.audio_layers,
                                                     self.visual_layers)
        self.num_latents = num_latents
        self.embed_dims = embed_dims
        common = dict(
            embed_dims=embed_dims,
            num_latents=num_latents,
            num_heads=num_heads,
            num_uda=num_uda,
            num_cda=num_cda,
            router_hidden_dims=router_hidden_dims)
        self.visual_fdms = self._build_fdms(visual, audio, self.visual_layers,
                                            self.audio_layers,
                                            self.visual_partners, common)
        self.audio_fdms = self._build_fdms(audio, visual, self.audio_layers,
                                           self.visual_layers,
                                           self.audio_partners, common)

    @staticmethod
    def _build_fdms(own: BackboneLayout, other: BackboneLayout,
                    layers: Sequence[int], other_layers: Sequence[int],
                    partners: Sequence[int], common: dict) -> nn.ModuleList:
        return nn.ModuleList(
            FeatureDistillationModule(
                in_dims=own.dims[layer],
                other_dims=other.dims[other_layers[partner]],
                num_tokens=own.num_tokens[layer],
                **common) for layer, partner in zip(layers, partners))

    @property
    def out_dims(self) -> Dict[str, int]:
        """Width of the tokens this scheme gives each modality."""
        return dict(visual=self.embed_dims, audio=self.embed_dims)

    def forward(self, visual_feats: Sequence[Tensor],
                audio_feats: Sequence[Tensor]) -> Dict[str, List[Tensor]]:
        """Distils every selected layer into layer-wise tokens.

        Args:
            visual_feats: ``(B, N_l, C_l)`` per entry of ``visual_layers``.
            audio_feats: ``(B, N_l, C_l)`` per entry of ``audio_layers``.

        Returns:
            ``visual``/``audio``: lists of ``(B, num_latents, embed_dims)``
            layer-wise tokens, one per selected layer; ``visual_router``/
            ``audio_router``: lists of router weights ``(B, num_adapters)``.
        """
        if (len(visual_feats) != len(self.visual_layers)
                or len(audio_feats) != len(self.audio_layers)):
            raise ValueError(
                f'MoLTAdapter expects {len(self.visual_layers)} visual and '
                f'{len(self.audio_layers)} audio layers, got '
                f'{len(visual_feats)} and {len(audio_feats)}.')
        outputs = {}
        for name, fdms, feats, others, partners in (
            ('visual', self.visual_fdms, visual_feats, audio_feats,
             self.visual_partners),
            ('audio', self.audio_fdms, audio_feats, visual_feats,
             self.audio_partners),
        ):
            results = [
                fdm(f, others[p]) for fdm, f, p in zip(fdms, feats, partners)
            ]
            outputs[name] = [tokens for tokens, _ in results]
            outputs[f'{name}_router'] = [weights for _, weights in results]
        return outputs
