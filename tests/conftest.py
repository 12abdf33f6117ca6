"""Shared fixtures: tiny backbone configs that build in milliseconds."""
import os
import os.path as osp
import sys

import pytest
import torch

import molt  # noqa: F401  registers the checkpoint loader

# Makes tests/molt_testing.py importable from the test modules.
sys.path.insert(0, osp.dirname(osp.abspath(__file__)))


@pytest.fixture(scope='session', autouse=True)
def _demo_pretrained_encoders(tmp_path_factory):
    """The demo configs read their tiny encoders from
    ``$MOLT_PRETRAINED_DIR`` (default ``data/pretrained``, written by
    ``make pretrained`` in minutes). Tests point it at encoders pretrained
    for two steps, built once per session through the same tool, so they
    load through ``pretrained=`` as the demos do; child processes inherit
    the variable."""
    from molt_testing import REPO, load_script
    out_dir = tmp_path_factory.mktemp('demo_pretrained')
    tool = load_script('tools/pretrain_tiny_encoders.py')
    tool.run(tool.parse_args([
        '--config', str(REPO / 'configs/demo/ave_synthetic.py'),
        '--out-dir', str(out_dir), '--visual-steps', '2', '--audio-steps',
        '2', '--batch-size', '2', '--eval-samples', '4', '--probe-samples',
        '4', '--workers', '0']), report=lambda line: None)
    previous = os.environ.get('MOLT_PRETRAINED_DIR')
    os.environ['MOLT_PRETRAINED_DIR'] = str(out_dir)
    yield out_dir
    if previous is None:
        os.environ.pop('MOLT_PRETRAINED_DIR')
    else:
        os.environ['MOLT_PRETRAINED_DIR'] = previous


@pytest.fixture(autouse=True)
def _seed_and_threads():
    torch.manual_seed(0)
    torch.set_num_threads(2)


TINY_SWIN = dict(
    type='SwinV2',
    arch=None,
    img_size=32,
    patch_size=4,
    embed_dim=16,
    depths=(2, 2, 2, 2),
    num_heads=(1, 2, 2, 4),
    window_size=4)

TINY_HTSAT = dict(
    type='HTSAT',
    sample_rate=16000,
    clip_seconds=1.0,
    n_fft=256,
    hop_length=128,
    n_mels=16,
    f_min=50.,
    f_max=8000.,
    spec_size=64,
    freq_ratio=4,
    patch_size=4,
    embed_dim=16,
    depths=(2, 2, 2, 2),
    num_heads=(1, 2, 2, 4),
    window_size=4)


@pytest.fixture
def tiny_swin_cfg():
    return dict(TINY_SWIN)


@pytest.fixture
def tiny_htsat_cfg():
    return dict(TINY_HTSAT)


def tiny_model_cfg(adapter=None, fusion=None, head=None, **kwargs):
    """A tiny MoLT AVModel config (Swin-V2 frames + HTS-AT audio) with an
    AVE head (3 event classes)."""
    cfg = dict(
        type='AVModel',
        visual_backbone=dict(TINY_SWIN),
        audio_backbone=dict(TINY_HTSAT),
        adapter=adapter or dict(type='MoLTAdapter', embed_dims=32),
        fusion=fusion or dict(type='MLPTokenFusion'),
        head=head or dict(type='AVEHead', num_classes=3, hidden_dims=16))
    cfg.update(kwargs)
    return cfg


def tiny_batch(batch_size=2, steps=3, num_classes=3):
    """Packed-sample batch for the tiny configs (before preprocessing):
    sample ``i`` holds event class ``i % num_classes`` in every segment
    but the first, which is background (label ``num_classes``)."""
    from molt.structures import AVDataSample
    return dict(
        inputs=dict(
            frames=[
                torch.randint(0, 256, (steps, 3, 32, 32), dtype=torch.uint8)
                for _ in range(batch_size)
            ],
            audio=[torch.randn(steps, 16000) for _ in range(batch_size)]),
        data_samples=[
            AVDataSample(gt_label=torch.tensor([num_classes] +
                                               [i % num_classes] *
                                               (steps - 1)))
            for i in range(batch_size)
        ])


@pytest.fixture
def build_tiny_model():
    from molt.registry import MODELS

    def build(**kwargs):
        return MODELS.build(tiny_model_cfg(**kwargs))

    return build


@pytest.fixture
def batch():
    return tiny_batch()


@pytest.fixture
def model_cfg():
    return tiny_model_cfg
