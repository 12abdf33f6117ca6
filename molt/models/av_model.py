"""The model: frozen backbones -> adapter scheme -> fusion -> task head."""
from typing import Dict, List, Optional, Union

import torch
from mmengine.model import BaseModel
from torch import Tensor

from molt.registry import MODELS
from molt.structures import AVDataSample
from .utils import BackboneLayout

__all__ = ['AVModel']

MODALITIES = ('visual', 'audio')


def _fill(cfg: dict, values: dict, owner: str) -> dict:
    """Copies ``cfg`` with ``values`` filled in; a value the user set that
    disagrees is an error naming the field (no silent projection)."""
    cfg = dict(cfg)
    for key, value in values.items():
        if key in cfg and cfg[key] is not None and cfg[key] != value:
            raise ValueError(
                f'{owner}.{key}={cfg[key]} does not match the {value} it '
                'receives from the part before it; remove the field (the '
                'model fills it in) or change that part.')
        cfg[key] = value
    return cfg


@MODELS.register_module()
class AVModel(BaseModel):
    """An audio-visual model composed of registered parts.

    ``visual_backbone`` and ``audio_backbone`` are frozen encoders. The
    ``adapter`` scheme turns them into layer-wise tokens per modality:

    * a parallel scheme (``adapter.is_parallel``, e.g. :class:`MoLTAdapter`)
      reads frozen features: both backbones run under ``torch.no_grad()``
      and only as deep as the deepest selected layer, so only the adapter,
      fusion and head build an autograd graph;
    * a sequential scheme (:class:`LAVisHAdapter`) drives the backbones
      itself with adapters inside the blocks, with gradients through them.

    One ``fusion`` per modality (built from the same config) weighs the
    layer-wise tokens into one token set, and the ``head`` solves the task.
    ``tor_loss`` (optional) regularises the layer-wise tokens.

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
        out_dims = self.adapter.out_dims
        for name in MODALITIES:
            num_layers = (
                len(getattr(self.adapter, f'{name}_layers'))
                if self.adapter.is_parallel else 1)
            fusion_cfg = _fill(
                fusion, dict(embed_dims=out_dims[name],
                             num_layers=num_layers), 'model.fusion')
            self.add_module(f'{name}_fusion', MODELS.build(fusion_cfg))
        self.head = MODELS.build(
            _fill(head, dict(visual_dims=out_dims['visual'],
                             audio_dims=out_dims['audio']), 'model.head'))
        self.tor_loss = None if tor_loss is None else MODELS.build(tor_loss)

    @property
    def audio_encoder(self):
        """The backbone that reads audio (the visual one when shared)."""
        return (self.visual_backbone
                if self.audio_backbone is None else self.audio_backbone)

    def _audio_input(self, audio: Tensor) -> Tensor:
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
            frames, self.adapter.visual_layers, return_stage_maps=with_maps)
        audio = self.audio_encoder(
            self._audio_input(audio), self.adapter.audio_layers)
        if with_maps:
            visual, maps = visual
            return dict(visual=visual, audio=audio, visual_maps=maps)
        return dict(visual=visual, audio=audio)

    def extract_feat(self, inputs: Dict[str, Tensor]) -> Dict[str, Tensor]:
        """Runs backbones, adapter and fusion.

        Args:
            inputs: ``frames`` ``(B, T, 3, H, W)``, ``audio``
                ``(B, T, samples)`` and task extras.

        Returns:
            The head's ``feats`` (see :class:`BaseAVHead`) plus the
            layer-wise tokens ``visual_layers``/``audio_layers`` (lists of
            ``(B*T, N, C)``) for the token losses.
        """
        frames, audio = inputs['frames'], inputs['audio']
        batch, steps = frames.shape[:2]
        if audio.shape[:2] != (batch, steps):
            raise ValueError(
                f'frames {tuple(frames.shape)} and audio '
                f'{tuple(audio.shape)} disagree on (batch, segments).')
        frames, audio = frames.flatten(0, 1), audio.flatten(0, 1)
        with_maps = self.head.needs_stage_maps
        if self.adapter.is_parallel:
            frozen = self.backbone_features(frames, audio, with_maps)
            tokens = self.adapter(frozen['visual'], frozen['audio'])
            maps = frozen.get('visual_maps')
        else:
            tokens = self.adapter(
                frames, self._audio_input(audio), self.visual_backbone,
                self.audio_encoder, return_stage_maps=with_maps)
            maps = tokens.get('visual_maps')
        feats = {
            key: value
            for key, value in inputs.items() if key not in ('frames', 'audio')
        }
        for name in MODALITIES:
            fused = getattr(self, f'{name}_fusion')(tokens[name])
            feats[name] = fused.unflatten(0, (batch, steps))
            feats[f'{name}_layers'] = tokens[name]
        if maps is not None:
            feats['visual_maps'] = [m.unflatten(0, (batch, steps)) for m in maps]
        return feats

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
        feats = self.extract_feat(inputs)
        if mode == 'tensor':
            return self.head(feats)
        if mode == 'predict':
            return self.head.predict(feats, data_samples)
        losses = self.head.loss(feats, data_samples)
        if self.tor_loss is not None:
            losses['loss_tor'] = sum(
                self.tor_loss(feats[f'{name}_layers']) for name in MODALITIES)
        return losses
