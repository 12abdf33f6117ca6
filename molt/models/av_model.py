"""The model: frozen backbones -> adapter scheme -> fusion -> task head."""
from typing import Dict, List, Optional, Union

import torch
from mmengine.model import BaseModel
from torch import Tensor, nn

from molt.registry import MODELS
from molt.structures import AVDataSample
from .adapters.base import MODALITIES, BaseAdapterScheme
from .utils import BackboneLayout, build_token_norm, fill_config

__all__ = ['AVModel']


def _per_modality(cfg: Optional[dict],
                  field: str) -> Dict[str, Optional[dict]]:
    """One config for both modalities, or ``dict(visual=..., audio=...)``
    (a missing modality gets None)."""
    if isinstance(cfg, dict) and 'type' not in cfg:
        unknown = sorted(set(cfg) - set(MODALITIES))
        if unknown:
            raise ValueError(
                f'{field}={cfg!r}: give one norm config (with a type) or '
                f'one per modality, dict(visual=..., audio=...); unknown '
                f'keys {unknown}.')
        return {name: cfg.get(name) for name in MODALITIES}
    return {name: cfg for name in MODALITIES}


@MODELS.register_module()
class AVModel(BaseModel):
    """An audio-visual model composed of registered parts.

    ``visual_backbone`` and ``audio_backbone`` are frozen encoders. The
    ``adapter`` scheme (a
    :class:`~molt.models.adapters.BaseAdapterScheme`, whose contract is all
    the model relies on) turns them into layer-wise tokens per modality:

    * a parallel scheme (``adapter.is_parallel``, e.g. :class:`MoLTAdapter`)
      reads frozen features: both backbones run under ``torch.no_grad()``
      and only as deep as the deepest selected layer, so only the adapter,
      fusion and head build an autograd graph;
    * a sequential scheme (:class:`LAVisHAdapter`) drives the backbones
      itself with adapters inside the blocks, with gradients through them.

    ``feature_norm`` (optional, parallel schemes only) standardises each
    channel of each frozen layer the adapter reads, before it reads it.
    Swin-V2's post-norm blocks leave their residual stream unnormalised:
    in the pretrained tiny encoders of the demos the channels' spreads
    differ tenfold and the mean token holds 33-44 % of a token's energy.
    The adapters' input LayerNorms work per token and keep both, so what
    tells tokens apart reaches the adapters small.

    One ``fusion`` per modality (built from the same config) weighs the
    layer-wise tokens into one token set, ``token_norm`` (a LayerNorm by
    default, one per modality) normalises it, and the ``head`` solves the
    task. The peers' heads read features that leave the backbone through
    its final LayerNorm; the fused tokens are sums of attention outputs and
    raw layer tokens with no such norm, so without it a head sees channels
    of very different scales. ``tor_loss`` (optional) regularises the
    layer-wise tokens (before the norm).

    With ``audio_backbone=None`` the visual backbone reads audio too (the
    shared setting); ``audio_frontend`` (e.g. :class:`KaldiFbank`) then turns
    waveforms into images first.

    Args:
        visual_backbone: Config of the frozen visual encoder.
        adapter: Config of the adapter scheme.
        head: Config of the task head.
        audio_backbone: Config of the frozen audio encoder, or None to
            share the visual one.
        audio_frontend: Config of a waveform-to-image module run before the
            audio encoder (required when sharing).
        fusion: Config of the layer-token fusion.
        feature_norm: Config of a per-channel norm of each frozen layer a
            parallel scheme reads (one per layer and modality, see
            :func:`~molt.models.utils.build_token_norm`; e.g.
            ``dict(type='RunningStandardization')``), or None for none.
        token_norm: Config of the norm applied to each modality's fused
            tokens: ``dict(type='LN')`` per token, ``dict(type='BN1d')``
            per channel over the batch's tokens
            (:func:`~molt.models.utils.build_token_norm`), or None.
            ``feature_norm`` and ``token_norm`` also take one config per
            modality, ``dict(visual=..., audio=...)``.
        tor_loss: Config of the token-orthogonality loss, or None.
        data_preprocessor: Config of the data preprocessor.
    """

    def __init__(self,
                 visual_backbone: dict,
                 adapter: dict,
                 head: dict,
                 audio_backbone: Optional[dict] = None,
                 audio_frontend: Optional[dict] = None,
                 fusion: dict = dict(type='MLPTokenFusion'),
                 feature_norm: Optional[dict] = None,
                 token_norm: Optional[dict] = dict(type='LN'),
                 tor_loss: Optional[dict] = None,
                 data_preprocessor: dict = dict(type='AVDataPreprocessor'),
                 init_cfg: Optional[dict] = None):
        if isinstance(data_preprocessor, dict):
            # Built here, in molt's registry, so no default scope is needed.
            data_preprocessor = MODELS.build(data_preprocessor)
        super().__init__(
            data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        self.visual_backbone = MODELS.build(visual_backbone)
        if audio_backbone is None and audio_frontend is None:
            raise ValueError(
                'model.audio_backbone=None shares the visual backbone, which '
                'reads images: set model.audio_frontend (e.g. '
                "dict(type='KaldiFbank')) to turn waveforms into images.")
        self.audio_backbone = (None if audio_backbone is None else
                               MODELS.build(audio_backbone))
        self.audio_frontend = (None if audio_frontend is None else
                               MODELS.build(audio_frontend))
        layouts = dict(
            visual=BackboneLayout.of(self.visual_backbone),
            audio=BackboneLayout.of(self.audio_encoder))
        self.adapter = MODELS.build(adapter, default_args=layouts)
        if not isinstance(self.adapter, BaseAdapterScheme):
            raise TypeError(
                f'model.adapter: {type(self.adapter).__name__} is not an '
                'adapter scheme; a scheme subclasses BaseAdapterScheme '
                '(molt/models/adapters/base.py).')
        feature_norms = _per_modality(feature_norm, 'model.feature_norm')
        token_norms = _per_modality(token_norm, 'model.token_norm')
        self.feature_norm = None
        if any(feature_norms.values()):
            if not self.adapter.is_parallel:
                raise ValueError(
                    f'model.feature_norm={feature_norm!r} normalises the '
                    'frozen features a parallel scheme reads, but '
                    f'{type(self.adapter).__name__} runs inside the '
                    'backbones: set model.feature_norm=None.')
            self.feature_norm = nn.ModuleDict({
                name: nn.ModuleList(
                    build_token_norm(feature_norms[name],
                                     layouts[name].dims[layer],
                                     f'model.feature_norm ({name})')
                    for layer in self.adapter.layers(name))
                for name in MODALITIES
            })
        out_dims = self.adapter.out_dims
        for name in MODALITIES:
            fusion_cfg = fill_config(
                fusion, dict(embed_dims=out_dims[name],
                             num_layers=len(self.adapter.layers(name))),
                'model.fusion')
            self.add_module(f'{name}_fusion', MODELS.build(fusion_cfg))
            self.add_module(f'{name}_token_norm',
                            build_token_norm(token_norms[name], out_dims[name],
                                             f'model.token_norm ({name})'))
        head_sizes = dict(visual_dims=out_dims['visual'],
                          audio_dims=out_dims['audio'])
        head_cls = (MODELS.get(head['type'])
                    if isinstance(head['type'], str) else head['type'])
        if head_cls.needs_stage_maps:
            head_sizes['in_channels'] = list(self.visual_backbone.stage_dims)
        self.head = MODELS.build(fill_config(head, head_sizes, 'model.head'))
        self.tor_loss = None if tor_loss is None else MODELS.build(tor_loss)

    @property
    def audio_encoder(self):
        """The backbone that reads audio (the visual one when shared)."""
        return (self.visual_backbone
                if self.audio_backbone is None else self.audio_backbone)

    def prepare_audio(self, audio: Tensor) -> Tensor:
        """Waveforms to the audio encoder's input (the front-end, if any)."""
        return audio if self.audio_frontend is None else self.audio_frontend(
            audio)

    @torch.no_grad()
    def backbone_features(self, frames: Tensor, audio: Tensor,
                          with_maps: bool = False) -> Dict[str, List[Tensor]]:
        """Frozen features a parallel scheme reads (no autograd).

        Args:
            frames: Normalised frames ``(B*T, 3, H, W)``.
            audio: Waveforms ``(B*T, samples)``.
            with_maps: Also return the visual stage maps.

        Returns:
            ``visual``/``audio``: tokens of the adapter's selected layers;
            ``visual_maps``: the four stage maps (only ``with_maps``).
        """
        visual = self.visual_backbone(
            frames, self.adapter.layers('visual'),
            return_stage_maps=with_maps)
        audio = self.audio_encoder(
            self.prepare_audio(audio), self.adapter.layers('audio'))
        if with_maps:
            visual, maps = visual
            return dict(visual=visual, audio=audio, visual_maps=maps)
        return dict(visual=visual, audio=audio)

    def extract_feat(
            self,
            inputs: Dict[str, Tensor],
            data_samples: Optional[List[AVDataSample]] = None
    ) -> Dict[str, Tensor]:
        """Runs backbones (or takes their features), adapter and fusion.

        Args:
            inputs: ``frames`` ``(B, T, 3, H, W)`` and ``audio``
                ``(B, T, samples)``, or (parallel schemes) ``features``,
                the frozen features :meth:`backbone_features` would give,
                per kind a list of ``(B, T, ...)`` tensors (what the
                feature cache feeds, see
                :mod:`molt.engine.feature_cache.features`); plus task
                extras.
            data_samples: The batch's samples (unused here).

        Returns:
            The head's ``feats`` (see :class:`BaseAVHead`; ``visual`` and
            ``audio`` are the fused tokens after ``token_norm``) plus the
            layer-wise tokens ``visual_layers``/``audio_layers`` (lists of
            ``(B*T, N, C)``) for the token losses.
        """
        with_maps = self.head.needs_stage_maps
        if 'features' in inputs:
            if not self.adapter.is_parallel:
                raise ValueError('Cached backbone features can only feed a '
                                 'parallel adapter scheme.')
            batch, steps = inputs['features']['visual'][0].shape[:2]
            frozen = {
                kind: [tensor.flatten(0, 1) for tensor in tensors]
                for kind, tensors in inputs['features'].items()
            }
        else:
            frames, audio = inputs['frames'], inputs['audio']
            batch, steps = frames.shape[:2]
            if audio.shape[:2] != (batch, steps):
                raise ValueError(
                    f'frames {tuple(frames.shape)} and audio '
                    f'{tuple(audio.shape)} disagree on (batch, segments).')
            frames, audio = frames.flatten(0, 1), audio.flatten(0, 1)
        if self.adapter.is_parallel:
            if 'features' not in inputs:
                frozen = self.backbone_features(frames, audio, with_maps)
            tokens = self.adapter(*(self._normalise_features(
                name, frozen[name]) for name in MODALITIES))
            maps = frozen.get('visual_maps')
        else:
            tokens = self.adapter(
                frames, self.prepare_audio(audio), self.visual_backbone,
                self.audio_encoder, return_stage_maps=with_maps)
            maps = tokens.get('visual_maps')
        feats = {
            key: value
            for key, value in inputs.items()
            if key not in ('frames', 'audio', 'features')
        }
        for name in MODALITIES:
            fused = getattr(self, f'{name}_fusion')(tokens[name])
            fused = getattr(self, f'{name}_token_norm')(fused)
            feats[name] = fused.unflatten(0, (batch, steps))
            feats[f'{name}_layers'] = tokens[name]
            if f'{name}_router' in tokens:
                feats[f'{name}_router'] = tokens[f'{name}_router']
        if maps is not None:
            feats['visual_maps'] = [m.unflatten(0, (batch, steps)) for m in maps]
        return feats

    def _normalise_features(self, modality: str,
                            layers: List[Tensor]) -> List[Tensor]:
        """``feature_norm`` on each frozen layer ``(B*T, N, C_l)``."""
        if self.feature_norm is None:
            return layers
        return [
            norm(tokens)
            for norm, tokens in zip(self.feature_norm[modality], layers)
        ]

    def forward(self,
                inputs: Dict[str, Tensor],
                data_samples: Optional[List[AVDataSample]] = None,
                mode: str = 'tensor'
                ) -> Union[Dict[str, Tensor], List[AVDataSample], Tensor]:
        """``mode='loss'`` returns losses, ``'predict'`` data samples with
        predictions, ``'tensor'`` the head's raw outputs."""
        if mode not in ('loss', 'predict', 'tensor'):
            raise ValueError(f"Invalid mode {mode!r}; use 'loss', 'predict' "
                             "or 'tensor'.")
        feats = self.extract_feat(inputs, data_samples)
        if mode == 'tensor':
            return self.head(feats)
        if mode == 'predict':
            return self.head.predict(feats, data_samples)
        losses = self.head.loss(feats, data_samples)
        if self.tor_loss is not None:
            losses['loss_tor'] = sum(
                self.tor_loss(feats[f'{name}_layers']) for name in MODALITIES)
        # A scheme's own training terms (e.g. AVMoE's load balancing).
        losses.update(self.adapter.adapter_losses(feats))
        return losses
