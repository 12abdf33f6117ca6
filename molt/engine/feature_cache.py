"""Setting up the frozen-feature cache for a dataset.

A cache key covers everything that changes the features: the backbones'
actual weights (a content hash, so a different checkpoint or a different
random initialisation both count), their configs, the tapped layers, the
data preprocessor, the media-building transforms of the pipeline and the
dataset's annotations. A pipeline with random augmentation is refused.
"""
import hashlib
import json
import os.path as osp
import re
from typing import Dict, List, Optional, Tuple

import torch
from mmengine.logging import print_log
from torch import nn

from molt.datasets.transforms import LoadCachedFeatures, MediaTransform
from molt.registry import DATASETS, TRANSFORMS
from molt.utils.feature_store import FeatureStore, media_key

__all__ = ['prepare_feature_cache', 'cache_key', 'check_deterministic']

_RANDOM_NAME = re.compile(r'Random|Jitter|Distortion|Augment|Mix|Cutout')
_DATASET_RUNTIME_KEYS = ('pipeline', 'test_mode', 'lazy_init',
                         'serialize_data', 'max_refetch')


def _cfg_dict(cfg) -> Optional[dict]:
    if cfg is None:
        return None
    return cfg.to_dict() if hasattr(cfg, 'to_dict') else dict(cfg)


def _transform_class(cfg: dict):
    name = cfg['type'] if isinstance(cfg['type'], str) else None
    cls = TRANSFORMS.get(name) if name else cfg['type']
    if cls is None:
        raise KeyError(f'Unknown transform {name!r} in the pipeline.')
    return cls


def check_deterministic(pipeline: List[dict]) -> None:
    """Raises if a transform of ``pipeline`` is random.

    A transform counts as random when it is a :class:`MediaTransform` that
    says so (``deterministic = False``) or its name looks like an
    augmentation (``Random*``, ``*Jitter``, ``*Distortion``, ...).
    """
    random = []
    for cfg in pipeline:
        cls = _transform_class(cfg)
        if (issubclass(cls, MediaTransform) and not cls.deterministic) or \
                _RANDOM_NAME.search(cls.__name__):
            random.append(cls.__name__)
    if random:
        raise ValueError(
            f'The feature cache needs a deterministic pipeline, but '
            f'{", ".join(random)} augment(s) at random: cached features '
            'would freeze one draw. Remove the augmentation or the '
            'FeatureCacheHook.')


def _weights_hash(modules: List[nn.Module]) -> str:
    digest = hashlib.sha256()
    for module in modules:
        for name, tensor in sorted(module.state_dict().items()):
            digest.update(name.encode())
            array = tensor.detach().cpu().contiguous().view(-1).view(
                torch.uint8).numpy()
            digest.update(memoryview(array))
    return digest.hexdigest()


def _file_hash(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, 'rb') as f:
        for chunk in iter(lambda: f.read(1 << 20), b''):
            digest.update(chunk)
    return digest.hexdigest()


def cache_key(model_cfg: dict, dataset_cfg: dict, model: nn.Module,
              dtype: str) -> Tuple[str, Dict[str, str]]:
    """The cache key and its named parts (for messages).

    Args:
        model_cfg: The model config.
        dataset_cfg: The dataset config (its pipeline included).
        model: The built model (an :class:`AVModel`, weights loaded).
        dtype: Storage dtype.
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
    media = [
        cfg for cfg in dataset_cfg['pipeline']
        if issubclass(_transform_class(cfg), MediaTransform)
    ]
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
        backbone_weights=_weights_hash(backbones),
        backbone_configs=json.dumps(backbone_cfgs, sort_keys=True,
                                    default=str),
        layers=json.dumps(
            dict(visual=model.adapter.visual_layers,
                 audio=model.adapter.audio_layers,
                 stage_maps=model.head.needs_stage_maps)),
        data_preprocessor=json.dumps(
            _cfg_dict(model_cfg.get('data_preprocessor')), sort_keys=True,
            default=str),
        media_pipeline=json.dumps(media, sort_keys=True, default=str),
        dataset=json.dumps(dataset, sort_keys=True, default=str),
        annotations=_file_hash(ann_file) if osp.isfile(ann_file) else '',
        dtype=dtype)
    key = hashlib.sha256(
        json.dumps(parts, sort_keys=True).encode()).hexdigest()
    return key, parts


def _probe_layout(model: nn.Module, dataset) -> List[Tuple[str, tuple]]:
    """Per-sample shapes of the cached features, from sample 0."""
    sample = dataset[0]
    batch = model.data_preprocessor(
        dict(inputs={k: [v] for k, v in sample['inputs'].items()},
             data_samples=[sample['data_samples']]))
    frames, audio = batch['inputs']['frames'], batch['inputs']['audio']
    steps = frames.shape[1]
    frozen = model.backbone_features(
        frames.flatten(0, 1), audio.flatten(0, 1),
        model.head.needs_stage_maps)
    return [(name, tuple(t.shape[1:]))
            for name, t in model.join_features(frozen, steps).items()]


def prepare_feature_cache(model: nn.Module, model_cfg: dict, dataset,
                          dataset_cfg: dict, cache_dir: str,
                          dtype: str = 'float16') -> FeatureStore:
    """Opens (or creates) the dataset's store, attaches it to the model and
    puts :class:`LoadCachedFeatures` first in the dataset's pipeline.

    Args:
        model: An :class:`AVModel` with a parallel adapter, weights loaded.
        model_cfg: Its config.
        dataset: The built dataset (plain, not wrapped).
        dataset_cfg: Its config.
        cache_dir: Root folder of the cache; the store is
            ``<cache_dir>/<DatasetType>-<ann_file stem>``.
        dtype: Storage dtype (``'float16'`` halves the disk and I/O).

    Returns:
        The store.

    Raises:
        ValueError: The adapter scheme does not read frozen features, or
            the pipeline is random.
        StaleCacheError: The store on disk was made with another key.
    """
    if not getattr(model.adapter, 'is_parallel', False):
        raise ValueError(
            f'{type(model.adapter).__name__} runs its backbones with '
            'gradients; only parallel schemes (MoLT, Mettle-style) read '
            'frozen features that can be cached.')
    check_deterministic(dataset_cfg['pipeline'])
    transforms = dataset.pipeline.transforms
    if transforms and isinstance(transforms[0], LoadCachedFeatures):
        model.attach_feature_store(FeatureStore(transforms[0].store_dir))
        return model.feature_stores[transforms[0].store_dir]
    key, parts = cache_key(model_cfg, dataset_cfg, model, dtype)
    stem = osp.splitext(osp.basename(dataset_cfg.get('ann_file', 'data')))[0]
    directory = osp.join(cache_dir, f'{type(dataset).__name__}-{stem}')
    rows = dict.fromkeys(
        media_key(dataset.get_data_info(i)) for i in range(len(dataset)))
    store = FeatureStore.create(directory, key, parts,
                                lambda: _probe_layout(model, dataset),
                                list(rows), dtype)
    transforms.insert(0, LoadCachedFeatures(directory))
    model.attach_feature_store(store)
    state = 'complete' if store.is_complete() else 'filled as samples pass'
    print_log(f'Feature cache for {stem}: {directory} ({state}).',
              logger='current')
    return store
