"""Fixtures of the adapter tests."""
import pytest

from molt.registry import MODELS


@pytest.fixture
def unequal_backbones(tiny_swin_cfg, tiny_htsat_cfg):
    """Tiny visual and audio backbones that differ in width (visual
    16..128, audio 8..64), tokens per block (visual 64/16/4/1, audio
    256/64/16/4) and depth (2,2,2,2 vs 1,1,2,1 blocks per stage)."""
    visual = MODELS.build(tiny_swin_cfg)
    audio = MODELS.build(
        dict(tiny_htsat_cfg, embed_dim=8, depths=(1, 1, 2, 1)))
    return visual, audio
