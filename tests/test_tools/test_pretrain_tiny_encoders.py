"""pretrain_tiny_encoders.py: checkpoint layouts of the real releases,
loading through ``pretrained=`` with fingerprints, determinism, and
skipping what is already built. A budget of two steps keeps it to
seconds."""
import json
import os
import re

import numpy as np
import pytest
import torch
from mmengine.config import Config
from timm.models.swin_transformer import SwinTransformer
from timm.models.swin_transformer_v2 import SwinTransformerV2

from molt.analysis.probes import mean_average_precision
from molt.datasets.synthetic.pretraining import OBJECT_CLASSES, SOUND_CLASSES
from molt.registry import MODELS
from molt.utils import IncompatibleCheckpointError, load_model_checkpoint
from molt.utils.atomic_io import atomic_save
from molt.utils.checkpoint import model_checkpoint_state
from molt_testing import REPO, load_script

tool = load_script('tools/pretrain_tiny_encoders.py')
CONFIG = str(REPO / 'configs/demo/ave_synthetic.py')
TINY = ['--config', CONFIG, '--visual-steps', '2', '--audio-steps', '2',
        '--batch-size', '2', '--eval-samples', '4', '--probe-samples', '4']


def pretrain(out_dir, *extra):
    """Runs the tool in-process; returns its records and printed lines."""
    lines = []
    records = tool.run(
        tool.parse_args(TINY + ['--out-dir', str(out_dir)] + list(extra)),
        report=lines.append)
    return records, '\n'.join(lines)


@pytest.fixture(scope='module')
def built(tmp_path_factory):
    out_dir = tmp_path_factory.mktemp('pretrained')
    records, _ = pretrain(out_dir)
    return out_dir, records


@pytest.fixture(scope='module')
def demo_backbones():
    model = Config.fromfile(CONFIG).model
    return model.visual_backbone.to_dict(), model.audio_backbone.to_dict()


def test_swinv2_file_is_a_timm_state_dict(built, demo_backbones):
    out_dir, _ = built
    state = torch.load(out_dir / 'tiny_swinv2.pth', weights_only=True)
    cfg = demo_backbones[0]
    timm_model = SwinTransformerV2(
        img_size=cfg['img_size'], patch_size=cfg['patch_size'],
        embed_dim=cfg['embed_dim'], depths=cfg['depths'],
        num_heads=cfg['num_heads'], window_size=cfg['window_size'],
        num_classes=len(OBJECT_CLASSES))
    # Exactly timm's keys and shapes, classifier included: timm itself
    # reads the file.
    expected = timm_model.state_dict()
    assert list(state) == list(expected)
    assert all(state[k].shape == v.shape for k, v in expected.items())
    timm_model.load_state_dict(state, strict=True)


def test_htsat_file_has_the_official_layout(built, demo_backbones):
    out_dir, _ = built
    checkpoint = torch.load(out_dir / 'tiny_htsat.ckpt', weights_only=True)
    assert list(checkpoint) == ['state_dict']
    state = checkpoint['state_dict']
    assert all(k.startswith('sed_model.') for k in state)
    keys = [k[len('sed_model.'):] for k in state]
    for key in ('spectrogram_extractor.stft.conv_real.weight',
                'spectrogram_extractor.stft.conv_imag.weight',
                'logmel_extractor.melW', 'bn0.weight', 'bn0.bias',
                'bn0.running_mean', 'bn0.running_var',
                'bn0.num_batches_tracked', 'head.weight', 'head.bias'):
        assert key in keys
    assert state['sed_model.head.weight'].shape[0] == len(SOUND_CLASSES)
    # The official Swin body: patch merging closes stages 0-2.
    merging = sorted({int(m.group(1)) for k in keys
                      for m in [re.match(r'layers\.(\d+)\.downsample', k)]
                      if m})
    assert merging == [0, 1, 2]
    cfg = demo_backbones[1]
    body = SwinTransformer(
        img_size=cfg['spec_size'], patch_size=4, in_chans=1, num_classes=0,
        embed_dim=cfg['embed_dim'], depths=cfg['depths'],
        num_heads=cfg['num_heads'], window_size=cfg['window_size'])
    shifted = {
        re.sub(r'^layers\.(\d+)\.downsample',
               lambda m: f'layers.{int(m.group(1)) + 1}.downsample', k)
        for k in keys
        if not k.startswith(('spectrogram_extractor.', 'logmel_extractor.',
                             'bn0.', 'head.'))
    }
    assert shifted == set(body.state_dict())


def test_files_load_through_pretrained_with_fingerprints(
        built, tmp_path_factory, tmp_path):
    out_dir, records = built
    cfg = Config.fromfile(CONFIG).model
    cfg.visual_backbone.pretrained = str(out_dir / 'tiny_swinv2.pth')
    cfg.audio_backbone.pretrained = str(out_dir / 'tiny_htsat.ckpt')
    model = MODELS.build(cfg)
    model.init_weights()
    # The backbones are read from the files, and the tool recorded molt's
    # fingerprints of exactly these weights.
    checkpoint = model_checkpoint_state(model)
    frozen = checkpoint['frozen']
    assert frozen['visual_backbone'] == dict(
        fingerprint=records['visual']['fingerprint'],
        pretrained=cfg.visual_backbone.pretrained)
    assert frozen['audio_backbone'] == dict(
        fingerprint=records['audio']['fingerprint'],
        pretrained=cfg.audio_backbone.pretrained)
    assert not any(k.startswith(('visual_backbone.', 'audio_backbone.'))
                   for k in checkpoint['state_dict'])
    path = tmp_path / 'adapter_only.pth'
    atomic_save(checkpoint, path)
    # A fresh model refills both backbones from their files ...
    fresh = MODELS.build(cfg)
    load_model_checkpoint(fresh, str(path))
    for key, value in model.state_dict().items():
        assert torch.equal(value, fresh.state_dict()[key]), key
    # ... and refuses encoders pretrained with another seed.
    other_dir = tmp_path_factory.mktemp('other_seed')
    other, _ = pretrain(other_dir, '--seed', '1', '--encoders', 'visual')
    cfg.visual_backbone.pretrained = str(other_dir / 'tiny_swinv2.pth')
    with pytest.raises(IncompatibleCheckpointError,
                       match=records['visual']['fingerprint']):
        load_model_checkpoint(MODELS.build(cfg), str(path))
    assert other['visual']['fingerprint'] != records['visual']['fingerprint']


def test_same_settings_give_the_same_weights(built, tmp_path):
    out_dir, records = built
    # The data workers do not change the weights (the fixture used one).
    again, _ = pretrain(tmp_path, '--workers', '0')
    for encoder in ('visual', 'audio'):
        assert again[encoder]['sha256'] == records[encoder]['sha256']
        assert again[encoder]['fingerprint'] == records[encoder]['fingerprint']
    for name in ('tiny_swinv2.pth', 'tiny_htsat.ckpt'):
        first = torch.load(out_dir / name, weights_only=True)
        second = torch.load(tmp_path / name, weights_only=True)
        first, second = (c.get('state_dict', c) for c in (first, second))
        assert list(first) == list(second)
        assert all(torch.equal(first[k], second[k]) for k in first)


def test_built_files_are_reused_until_settings_change(built, tmp_path):
    out_dir, records = built
    path = tmp_path / 'tiny_swinv2.pth'
    first, _ = pretrain(tmp_path, '--encoders', 'visual')
    os.utime(path, (0, 0))
    # Same settings: nothing is rebuilt.
    again, report = pretrain(tmp_path, '--encoders', 'visual')
    assert 'up to date, not rebuilt' in report
    assert os.stat(path).st_mtime == 0 and again == first
    # Other settings, --force, or a changed file: rebuilt.
    for extra in (['--visual-steps', '3'], ['--force']):
        _, report = pretrain(tmp_path, '--encoders', 'visual', *extra)
        assert 'up to date' not in report and os.stat(path).st_mtime > 0
        os.utime(path, (0, 0))
    with open(tmp_path / 'tiny_swinv2.json') as f:
        assert json.load(f)['settings']['steps'] == 2  # --force: defaults
    path.write_bytes(b'not the built file')
    _, report = pretrain(tmp_path, '--encoders', 'visual')
    assert 'up to date' not in report
    assert torch.load(path, weights_only=True).keys() == torch.load(
        out_dir / 'tiny_swinv2.pth', weights_only=True).keys()


def test_pretraining_trains_the_blocks(built):
    """Even two steps move every zero-initialised Swin-V2 block off the
    identity; the records report it, with the probe of every block."""
    _, records = built
    visual = records['visual']
    assert visual['random_init']['block_update'] == [0.0] * 8
    assert all(u > 0 for u in visual['pretrained']['block_update'])
    groups = dict(visual={'all', 'shapes', 'colours'},
                  audio={'all', 'tones', 'noises'})
    for encoder, record in records.items():
        probe = record['pretrained']['probe_map']
        assert set(probe) == groups[encoder]
        assert all(len(maps) == 8 for maps in probe.values())
        assert all(0 <= m <= 100 for maps in probe.values() for m in maps)
        assert set(record['pretrained']['head_map']) == groups[encoder]


def test_mean_average_precision():
    scores = np.array([[0.9, 0.1], [0.8, 0.2], [0.7, 0.3], [0.6, 0.4]])
    labels = np.array([[1, 0], [0, 0], [1, 0], [0, 1]])
    # Class 0: positives at ranks 1 and 3; class 1: its one positive first.
    expected = 100 * ((1 + 2 / 3) / 2 + 1) / 2
    assert mean_average_precision(scores, labels) == pytest.approx(
        expected)
    assert np.isnan(mean_average_precision(scores, 0 * labels))
