"""The cache key names what the stored stage maps hold, so a store written
before the last map passed Swin-V2's final LayerNorm is refused."""
import hashlib
import json

import pytest

from molt.engine.feature_cache import FeatureStore, StaleCacheError
from molt.engine.feature_cache.key import STAGE_MAPS_FORMAT, cache_key
from molt.registry import MODELS
from molt.utils import register_all_modules

AVS_HEAD = dict(
    type='AVSHead', embed_dims=16, num_heads=2, mask_size=24,
    decode_head=dict(type='FPNHead', feature_strides=[4, 8, 16, 32],
                     channels=16,
                     norm_cfg=dict(type='GN', num_groups=4,
                                   requires_grad=True)))
DATASET = dict(type='AVSBenchDataset', subset='s4', data_root='', pipeline=[])


def key_of(model_cfg):
    register_all_modules()
    model = MODELS.build(model_cfg)
    return cache_key(model_cfg, DATASET, model, 'float16')


def test_a_store_of_raw_last_maps_is_stale(model_cfg, tmp_path):
    key, parts = key_of(model_cfg(head=AVS_HEAD))
    assert json.loads(parts['layers'])['stage_maps'] == STAGE_MAPS_FORMAT
    # The parts a store made before the change recorded: maps stored raw.
    old_parts = dict(parts)
    layers = json.loads(parts['layers'])
    layers['stage_maps'] = True
    old_parts['layers'] = json.dumps(layers)
    old_key = hashlib.sha256(
        json.dumps(old_parts, sort_keys=True).encode()).hexdigest()
    assert old_key != key
    FeatureStore.create(str(tmp_path), old_key, old_parts,
                        layout=lambda: [('visual_maps.3', (1, ))],
                        rows=['clip'])
    with pytest.raises(StaleCacheError, match='layers'):
        FeatureStore.create(str(tmp_path), key, parts,
                            layout=lambda: [('visual_maps.3', (1, ))],
                            rows=['clip'])


def test_tokens_only_stores_keep_their_key(model_cfg):
    # Heads without stage maps (AVE, AVQA) store no maps: nothing changed.
    _, parts = key_of(model_cfg())
    assert json.loads(parts['layers'])['stage_maps'] is False
