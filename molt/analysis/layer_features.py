"""Mean-pooled outputs of backbone blocks over a split, streamed.

The layer-similarity tool reads, for every backbone input (a frame or a
one-second audio segment), the output tokens ``(N, C)`` of each requested
block averaged over the tokens to ``(C,)``. They come either

* from a complete frozen-feature cache of the same config (see
  :mod:`molt.engine.feature_cache`) when it holds every requested block
  (e.g. a Mettle-style config, which taps all of them), read row by row
  from its memory map, or
* from the backbones, run under ``no_grad`` on the split's samples batch
  by batch.

Either way one batch is in memory at a time.
"""
import os.path as osp
from typing import Dict, Iterator, List, Optional, Sequence, Tuple

import numpy as np
import torch
from torch import Tensor

from molt.engine.feature_cache import (CacheSettings, FeatureStore, cache_key,
                                       store_directory)

__all__ = ['MODALITIES', 'backbone_of', 'pooled_features',
           'find_cached_layers', 'cached_pooled_features']

MODALITIES = ('visual', 'audio')
PooledBatch = Dict[str, List[Tensor]]


def backbone_of(model, modality: str):
    """The frozen encoder that reads ``modality`` (the visual one reads
    audio too in the shared setting)."""
    return model.visual_backbone if modality == 'visual' else \
        model.audio_encoder


@torch.no_grad()
def pooled_features(model, data_batch: dict,
                    layers: Dict[str, List[int]]) -> PooledBatch:
    """Runs the backbones on a loader batch; returns, per modality, one
    ``(B*T, C_l)`` tensor of token-averaged outputs per requested block.

    Args:
        model: An :class:`~molt.models.AVModel`.
        data_batch: A batch from the split's data loader.
        layers: Block indices per modality (``'visual'``, ``'audio'``).
    """
    inputs = model.data_preprocessor(data_batch, False)['inputs']
    frames = inputs['frames'].flatten(0, 1)
    audio = model.prepare_audio(inputs['audio'].flatten(0, 1))
    tokens = dict(
        visual=model.visual_backbone(frames, layers['visual']),
        audio=model.audio_encoder(audio, layers['audio']))
    return {name: [t.float().mean(1) for t in tokens[name]]
            for name in MODALITIES}


def find_cached_layers(
        model, cfg, dataset, dataset_cfg: dict,
        layers: Dict[str, List[int]]
) -> Tuple[Optional[FeatureStore], Dict[str, List[str]], str]:
    """Looks for a complete, current cache of the split holding every
    requested block.

    The store's folder is the one the config's ``FeatureCacheHook`` uses
    (:func:`~molt.engine.feature_cache.store_directory`) and its key must
    equal the one this model and dataset config give (same weights,
    layers, preprocessing, annotations).

    Returns:
        ``(store, names, reason)``: the store (None when it cannot be used),
        the cache entry of each requested block per modality
        (``'visual.3'``), and why the cache is used or not.
    """
    settings = CacheSettings.from_config(cfg)
    if settings is None:
        return None, {}, 'the config has no FeatureCacheHook'
    if not model.adapter.is_parallel:
        return None, {}, 'the adapter scheme is not parallel (no cache)'
    directory = store_directory(settings.cache_dir, dataset, dataset_cfg)
    if not osp.isfile(osp.join(directory, 'manifest.json')):
        return None, {}, f'no feature cache at {directory}'
    store = FeatureStore(directory)
    if not store.is_complete():
        return None, {}, f'the feature cache at {directory} is incomplete'
    key, _ = cache_key(cfg.model, dataset_cfg, model, settings.dtype)
    if store.key != key:
        return None, {}, (f'the feature cache at {directory} was made for '
                          'other inputs or weights')
    names = {}
    for modality in MODALITIES:
        tapped = list(model.adapter.layers(modality))
        missing = sorted(set(layers[modality]) - set(tapped))
        if missing:
            return None, {}, (
                f'the feature cache at {directory} holds {modality} blocks '
                f'{tapped}, not {missing}')
        names[modality] = [
            f'{modality}.{tapped.index(layer)}' for layer in layers[modality]
        ]
    return store, names, f'feature cache {directory}'


def cached_pooled_features(store: FeatureStore, names: Dict[str, List[str]],
                           media_keys: Sequence[str],
                           batch_size: int) -> Iterator[PooledBatch]:
    """Yields what :func:`pooled_features` would, read from ``store``.

    Args:
        store: A complete store (see :func:`find_cached_layers`).
        names: Cache entry of each requested block, per modality.
        media_keys: The rows to read, in order.
        batch_size: Rows per yielded batch.
    """
    for start in range(0, len(media_keys), batch_size):
        rows = np.stack(
            [store.read(key) for key in media_keys[start:start + batch_size]])
        parts = store.unpack(torch.from_numpy(rows.astype(np.float32)))
        yield {
            modality: [
                parts[name].flatten(0, 1).mean(1) for name in entries
            ]
            for modality, entries in names.items()
        }
