"""MoLT's adapter scheme: parallel FDMs reading selected layers."""
from typing import Dict, List, Optional, Sequence

from torch import Tensor, nn

from molt.registry import MODELS
from ..utils import (BackboneLayout, LayerSelection, pair_by_relative_depth,
                     resolve_layers)
from .base import MODALITIES, BaseAdapterScheme
from .fdm import FeatureDistillationModule, cross_attention
from .token_distillation import distillation_attention

__all__ = ['MoLTAdapter']

#: What one set of TD / CA weights serves.
WEIGHT_SCOPES = ('modality', 'adapter')


@MODELS.register_module()
class MoLTAdapter(BaseAdapterScheme):
    """Parallel readers: one :class:`FeatureDistillationModule` per selected
    layer and modality, fed with frozen features (no backbone graph).

    This scheme covers MoLT (late layers, 2 UDA + 2 CDA, a router) and the
    Mettle-style baseline (every layer, 1 UDA, no CDA) by configuration.

    **Widths.** By default (``embed_dims=None``) the latent tokens of a
    modality are as wide as its tapped layers, ``D_m`` (Swin-V2-L's late
    blocks 1536, HTS-AT's 768), as the paper's ``z in R^{N x D_m}`` and
    ``W^{Q,K,V}_m in R^{D_m x H d_H}`` with ``H d_H = D_m`` say; ``W f`` is
    then a pure token-mixing map. When the selected layers of a modality
    differ in width (e.g. ``'early+late'``), the widest sets ``D_m`` and the
    narrower layers' adapters project into it. An int ``embed_dims`` gives
    both modalities that narrower width instead (used by the tiny demos).

    **Weights.** ``weight_scope='modality'`` (default) reads ``W_m``
    literally: one set of TD weights per modality (and layer width), tied
    across its adapters and layers, and one CA per modality; the adapters
    differ by their latent tokens ``z_i`` and residuals ``W_i``.
    ``'adapter'`` gives every adapter of every layer its own TD (and every
    CDA its own CA) weights. Every layer of each modality has its own
    router (Eq. 4 routes the adapters of a layer). Tied modules are
    registered in every FDM that uses them, as in weight tying:
    ``parameters()`` yields them once (an mmengine ``paramwise_cfg`` then
    needs ``bypass_duplicate=True``).

    Each selected layer of one modality is paired with the other modality's
    selected layer at the same relative depth (see
    :func:`~molt.models.utils.pair_by_relative_depth`); the pair feeds the
    router and the CDAs: the CDA ``i`` of a layer attends to the distilled
    tokens of the other modality's CDA ``i`` on the paired layer
    (``TD(z_c^o, f_o)`` with ``z_c^o`` that CDA's latents).

    Args:
        visual: Layout of the visual backbone (filled in by the model).
        audio: Layout of the audio backbone (filled in by the model).
        visual_layers: Visual layer selection (indices, ``'late'``, ...).
        audio_layers: Audio layer selection.
        num_uda: Uni-modal adapters per layer (paper: 2).
        num_cda: Cross-modal adapters per layer (paper: 2).
        num_latents: Distilled tokens per modality (paper: 8; 4 for AVS).
        num_heads: Attention heads ``H`` (must divide every token width).
        embed_dims: Width of the distilled tokens of both modalities, or
            None for each modality's own width ``D_m``.
        weight_scope: ``'modality'`` or ``'adapter'`` (see above).
        router_hidden_dims: Hidden width of each router (AVMoE's 128).
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
                 num_heads: int = 8,
                 embed_dims: Optional[int] = None,
                 weight_scope: str = 'modality',
                 router_hidden_dims: int = 128,
                 init_cfg: Optional[dict] = None):
        super().__init__(visual, audio, init_cfg=init_cfg)
        if weight_scope not in WEIGHT_SCOPES:
            raise ValueError(f'adapter.weight_scope={weight_scope!r}; use '
                             f'one of {WEIGHT_SCOPES}.')
        layouts = self.layouts
        self.visual_layers = resolve_layers(visual_layers, visual.num_layers,
                                            'adapter.visual_layers')
        self.audio_layers = resolve_layers(audio_layers, audio.num_layers,
                                           'adapter.audio_layers')
        self.visual_partners = pair_by_relative_depth(self.visual_layers,
                                                      self.audio_layers)
        self.audio_partners = pair_by_relative_depth(self.audio_layers,
                                                     self.visual_layers)
        self.num_latents = num_latents
        self.num_uda, self.num_cda = num_uda, num_cda
        self._out_dims = {
            name: embed_dims or max(layouts[name].dims[layer]
                                    for layer in self.layers(name))
            for name in MODALITIES
        }
        tied = (self._tied_weights(num_heads)
                if weight_scope == 'modality' else {})
        for name, other in (MODALITIES, MODALITIES[::-1]):
            fdms = nn.ModuleList()
            for layer, partner in zip(self.layers(name),
                                      self._partners(name)):
                other_layer = self.layers(other)[partner]
                in_dims = layouts[name].dims[layer]
                other_dims = layouts[other].dims[other_layer]
                fdms.append(FeatureDistillationModule(
                    in_dims=in_dims,
                    other_dims=other_dims,
                    num_tokens=layouts[name].num_tokens[layer],
                    num_latents=num_latents,
                    num_heads=num_heads,
                    num_uda=num_uda,
                    num_cda=num_cda,
                    embed_dims=self._out_dims[name],
                    other_embed_dims=self._out_dims[other],
                    router_hidden_dims=router_hidden_dims,
                    shared={
                        role: tied[key]
                        for role, key in (('distill', (name, in_dims)),
                                          ('cross', (name, )))
                        if key in tied
                    }))
            self.add_module(f'{name}_fdms', fdms)

    def layers(self, modality: str) -> List[int]:
        """The selected layers of ``modality`` (``visual_layers`` or
        ``audio_layers``)."""
        return dict(visual=self.visual_layers,
                    audio=self.audio_layers)[modality]

    def _partners(self, name: str) -> List[int]:
        return dict(visual=self.visual_partners,
                    audio=self.audio_partners)[name]

    def _tied_weights(self, num_heads: int) -> dict:
        """Attention weights tied across a modality's FDMs
        (``weight_scope='modality'``): TD weights per (modality, layer
        width), keyed ``(name, width)``, and a CA per modality, keyed
        ``(name, )``."""
        tied = {}
        for name, other in (MODALITIES, MODALITIES[::-1]):
            for layer in self.layers(name):
                in_dims = self.layouts[name].dims[layer]
                tied[(name, in_dims)] = distillation_attention(
                    1, in_dims, self._out_dims[name], num_heads)
            if self.num_cda:
                tied[(name, )] = cross_attention(
                    1, self._out_dims[name], self._out_dims[other],
                    num_heads)
        return tied

    @property
    def out_dims(self) -> Dict[str, int]:
        """Width of the tokens this scheme gives each modality."""
        return dict(self._out_dims)

    def forward(self, visual_feats: Sequence[Tensor],
                audio_feats: Sequence[Tensor]) -> Dict[str, List[Tensor]]:
        """Distils every selected layer into layer-wise tokens.

        All FDMs first distil their own layer (``TD(z_i, f_m)`` of every
        adapter); the CDAs then attend to their partner's CDA tokens.

        Args:
            visual_feats: ``(B, N_l, C_l)`` per entry of ``visual_layers``.
            audio_feats: ``(B, N_l, C_l)`` per entry of ``audio_layers``.

        Returns:
            ``visual``/``audio``: lists of ``(B, num_latents, D_m)``
            layer-wise tokens, one per selected layer; ``visual_router``/
            ``audio_router``: lists of router weights ``(B, num_adapters)``.
        """
        if (len(visual_feats) != len(self.visual_layers)
                or len(audio_feats) != len(self.audio_layers)):
            raise ValueError(
                f'MoLTAdapter expects {len(self.visual_layers)} visual and '
                f'{len(self.audio_layers)} audio layers, got '
                f'{len(visual_feats)} and {len(audio_feats)}.')
        feats = dict(visual=visual_feats, audio=audio_feats)
        fdms = dict(visual=self.visual_fdms, audio=self.audio_fdms)
        distilled = {
            name: [fdm.distill(f) for fdm, f in zip(fdms[name], feats[name])]
            for name in MODALITIES
        }
        outputs = {}
        for name, other in (MODALITIES, MODALITIES[::-1]):
            results = []
            for i, partner in enumerate(self._partners(name)):
                partner_tokens = None
                if self.num_cda:
                    partner_tokens = fdms[other][partner].cda_tokens(
                        distilled[other][partner])
                results.append(fdms[name][i](
                    feats[name][i], feats[other][partner], partner_tokens,
                    distilled[name][i]))
            outputs[name] = [tokens for tokens, _ in results]
            outputs[f'{name}_router'] = [weights for _, weights in results]
        return outputs
