"""Shared fixtures: tiny backbone configs that build in milliseconds."""
import pytest
import torch

import molt  # noqa: F401  registers the checkpoint loader


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
