"""The cache key: everything that changes the frozen features.

It covers the backbones' actual weights (a content hash, so a different
checkpoint or a different random initialisation both count), their
configs, the tapped layers, the data preprocessor, the media-building
transforms of the pipeline, the dataset's annotations, the storage dtype
and the autocast dtype the features are computed under.
"""
import hashlib
import json
import os.path as osp
from typing import Dict, Optional, Tuple

from torch import nn

from molt.registry import DATASETS
from molt.utils.fingerprint import file_hash, weights_hash
from .pipeline import media_transforms
from .settings import NO_AUTOCAST

__all__ = ['cache_key', 'STAGE_MAPS_FORMAT']

#: What a store's ``visual_maps`` hold; part of the key, so a store written
#: before the last map passed Swin-V2's final LayerNorm (it was stored raw)
#: is refused as stale.
STAGE_MAPS_FORMAT = 'four stage maps, the last through the final LayerNorm'

#: Dataset arguments that do not change what a sample's media hold.
_DATASET_RUNTIME_KEYS = ('pipeline', 'test_mode', 'lazy_init',
                         'serialize_data', 'max_refetch')


def _cfg_dict(cfg) -> Optional[dict]:
    if cfg is None:
        return None
    return cfg.to_dict() if hasattr(cfg, 'to_dict') else dict(cfg)


def cache_key(model_cfg: dict,
              dataset_cfg: dict,
              model: nn.Module,
              dtype: str,
              autocast: str = NO_AUTOCAST) -> Tuple[str, Dict[str, str]]:
    """The cache key and its named parts (for messages).

    Args:
        model_cfg: The model config.
        dataset_cfg: The dataset config (its pipeline included).
        model: The built model (an :class:`AVModel`, weights loaded).
        dtype: Storage dtype.
        autocast: Autocast dtype of the backbones' forward (see
            :func:`~.settings.autocast_dtype`).
    """
    backbones = [model.visual_backbone]
    if model.audio_backbone is not None:
        backbones.append(model.audio_backbone)
    backbone_cfgs = {
        name: {
            k: v
            for k, v in (_cfg_dict(model_cfg.get(name)) or {}).items()
            if k not in ('pretrained', 'init_cfg')
        }
        for name in ('visual_backbone', 'audio_backbone', 'audio_frontend')
    }
    # What a dataset learns from the training split (e.g. the AVQA
    # vocabulary, handed to test datasets by tools/test.py) never changes
    # the frames and audio, so it stays out of the key.
    dataset_cls = DATASETS.get(dataset_cfg['type'])
    ignored = _DATASET_RUNTIME_KEYS + tuple(
        getattr(dataset_cls, 'LEARNED_META', ()))
    dataset = {k: v for k, v in dataset_cfg.items() if k not in ignored}
    ann_file = osp.join(dataset_cfg.get('data_root', ''),
                        dataset_cfg.get('ann_file', ''))
    parts = dict(
        backbone_weights=weights_hash(backbones),
        backbone_configs=json.dumps(backbone_cfgs, sort_keys=True,
                                    default=str),
        layers=json.dumps(
            dict(visual=model.adapter.layers('visual'),
                 audio=model.adapter.layers('audio'),
                 stage_maps=(STAGE_MAPS_FORMAT
                             if model.head.needs_stage_maps else False))),
        data_preprocessor=json.dumps(
            _cfg_dict(model_cfg.get('data_preprocessor')), sort_keys=True,
            default=str),
        media_pipeline=json.dumps(
            media_transforms(dataset_cfg['pipeline']), sort_keys=True,
            default=str),
        dataset=json.dumps(dataset, sort_keys=True, default=str),
        annotations=file_hash(ann_file) if osp.isfile(ann_file) else '',
        dtype=dtype,
        autocast=autocast)
    key = hashlib.sha256(
        json.dumps(parts, sort_keys=True).encode()).hexdigest()
    return key, parts
