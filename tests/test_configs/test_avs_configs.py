"""The AVS configs parse and say what the docs promise."""
from pathlib import Path

import pytest
from mmengine.config import Config

CONFIGS = Path(__file__).resolve().parents[2] / 'configs'
HTSAT = ['molt/avs_s4_swin_htsat.py', 'molt/avs_ms3_swin_htsat.py',
         'lavish/avs_s4_swin_htsat.py', 'lavish/avs_ms3_swin_htsat.py',
         'mettle/avs_s4_swin_htsat.py', 'mettle/avs_ms3_swin_htsat.py']
SHARED = ['molt/avs_s4_swin_shared.py', 'molt/avs_ms3_swin_shared.py']


def clip_seconds(cfg):
    pipeline = cfg.train_dataloader.dataset.pipeline
    return next(t for t in pipeline
                if t.type == 'SliceAudioSegments')['clip_seconds']


@pytest.mark.parametrize('name', HTSAT + SHARED)
def test_avs_configs(name):
    cfg = Config.fromfile(str(CONFIGS / name))
    subset = 'ms3' if '_ms3_' in name else 's4'
    for split in ('train', 'val', 'test'):
        dataset = cfg[f'{split}_dataloader'].dataset
        assert (dataset.type, dataset.subset, dataset.split) == (
            'AVSBenchDataset', subset, split)
    assert cfg.val_evaluator.type == 'AVSMetric'
    assert cfg.default_hooks.visualization.type == 'AVVisualizationHook'
    # The AVSBench decoder; MS3 adds its audio-visual matching term.
    assert cfg.model.head.type == 'AVSBenchHead'
    assert (cfg.model.head.match_loss_weight > 0) == (subset == 'ms3')
    if name in SHARED:
        assert cfg.model.audio_backbone is None
        assert clip_seconds(cfg) == 1.0
    else:
        assert cfg.model.audio_backbone.clip_seconds == 5.0
        assert clip_seconds(cfg) == 5.0
    if not name.startswith('lavish'):
        assert cfg.model.adapter.num_latents == 4  # the paper's AVS default


@pytest.mark.parametrize('latents', [2, 4, 6, 8])
def test_latent_token_ablation(latents):
    cfg = Config.fromfile(
        str(CONFIGS / 'ablations' / f'avs_s4_latents_{latents}.py'))
    assert cfg.model.adapter.num_latents == latents
    assert cfg.train_dataloader.dataset.subset == 's4'


def test_uperhead_variant_swaps_only_the_decode_head():
    fpn = Config.fromfile(
        str(CONFIGS / 'molt' / 'avs_s4_swin_htsat_light.py'))
    assert fpn.model.head.decode_head.type == 'FPNHead'
    uper = Config.fromfile(str(CONFIGS / 'ablations' / 'avs_s4_uperhead.py'))
    assert uper.model.head.decode_head.type == 'UPerHead'
    assert 'feature_strides' not in uper.model.head.decode_head
    fpn.model.head.pop('decode_head')
    uper.model.head.pop('decode_head')
    assert fpn.model == uper.model


PEERS = [f'{peer}/avs_{subset}_swin_htsat.py' for peer in
         ('dgsct', 'avmoe', 'lavish') for subset in ('s4', 'ms3')]


@pytest.mark.parametrize('name', HTSAT + SHARED + PEERS)
def test_temporal_gate_is_per_task(name):
    """The official S4 models fix gamma at 0.05, MS3 reads --gamma
    (default 0.1)."""
    head = Config.fromfile(str(CONFIGS / name)).model.head
    assert head.gate_scale == (0.1 if '_ms3_' in name else 0.05)


@pytest.mark.parametrize('name', PEERS)
def test_peer_decoders_are_what_the_official_forward_runs(name):
    head = Config.fromfile(str(CONFIGS / name)).model.head
    assert (head.reduction, head.token_heads) == ('linear', 0)
