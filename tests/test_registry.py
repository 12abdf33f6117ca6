from mmengine.registry import DefaultScope
from mmseg.registry import MODELS as MMSEG_MODELS

from molt.registry import DATASETS, METRICS, MODELS, TRANSFORMS


def test_models_is_a_child_of_mmseg_models():
    assert MODELS.parent is MMSEG_MODELS
    assert MODELS.scope == 'molt'
    for registry in (DATASETS, TRANSFORMS, METRICS):
        assert registry.scope == 'molt'
        assert registry.parent.scope == 'mmseg'


def test_mmseg_decode_head_with_nested_loss_builds_in_molt_scope():
    cfg = dict(
        type='FPNHead',
        in_channels=[8, 8],
        in_index=[0, 1],
        feature_strides=[4, 8],
        channels=8,
        num_classes=2,
        loss_decode=dict(type='DiceLoss', loss_weight=0.5))
    with DefaultScope.overwrite_default_scope('molt'):
        head = MODELS.build(cfg)
    from mmseg.models.decode_heads import FPNHead
    from mmseg.models.losses import DiceLoss
    assert isinstance(head, FPNHead)
    assert isinstance(head.loss_decode, DiceLoss)


def test_molt_backbone_builds_through_the_registry(tiny_swin_cfg):
    from molt.models.backbones import SwinV2
    with DefaultScope.overwrite_default_scope('molt'):
        assert isinstance(MODELS.build(tiny_swin_cfg), SwinV2)
