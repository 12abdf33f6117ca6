"""Fixtures of the model tests."""
import pytest
from timm.models.swin_transformer_v2 import SwinTransformerV2Stage

from molt_testing import random_post_norms


@pytest.fixture(autouse=True)
def _swin_v2_blocks_that_compute(monkeypatch):
    """timm zero-initialises Swin-V2's residual post-norms, so a randomly
    initialised block returns its input unchanged and a test comparing
    block loops could not tell a wrong block from a right one. The model
    tests give them random values instead (the tests that run tools in
    other processes keep timm's initialisation, so that both sides build
    the same backbone); a test that needs timm's gets it back with
    ``monkeypatch.undo()``."""
    monkeypatch.setattr(SwinTransformerV2Stage, '_init_respostnorm',
                        random_post_norms)
