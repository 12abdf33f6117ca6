"""AVSHead: shapes, loss on labelled frames only, decode heads swapped by
config, and frozen backbones kept out of the graph."""
import warnings

import pytest
import torch
from mmseg.models.decode_heads import FPNHead, UPerHead
from torch.nn import functional as F

from molt.registry import MODELS
from molt.structures import AVDataSample

STAGE_DIMS = [16, 32, 64, 128]  # the tiny Swin-V2 of conftest.py
GN = dict(type='GN', num_groups=4, requires_grad=True)
FPN = dict(type='FPNHead', feature_strides=[4, 8, 16, 32], channels=16,
           norm_cfg=GN)
UPER = dict(type='UPerHead', channels=16, pool_scales=(1, 2, 3, 6),
            norm_cfg=GN)
MASK = 24


def avs_head(decode_head=FPN, **kwargs):
    """Head config inside a model (the model fills in the channels)."""
    cfg = dict(type='AVSHead', embed_dims=16,
               num_heads=2, mask_size=MASK, decode_head=decode_head)
    cfg.update(kwargs)
    return cfg


def avs_batch(batch_size=2, steps=5, first_frame_only=True):
    """Frames and audio of the tiny configs plus AVS annotations."""
    valid = torch.ones(steps, dtype=torch.bool)
    if first_frame_only:
        valid[1:] = False
    return dict(
        inputs=dict(
            frames=torch.randint(0, 256, (batch_size, steps, 3, 32, 32),
                                 dtype=torch.uint8),
            audio=torch.randn(batch_size, steps, 16000)),
        data_samples=[
            AVDataSample(
                gt_masks=(torch.rand(steps, MASK, MASK) > 0.5).to(
                    torch.uint8),
                mask_valid=valid.clone()) for _ in range(batch_size)
        ])


def test_shapes_and_predict(build_tiny_model):
    model = build_tiny_model(head=avs_head()).eval()
    data = model.data_preprocessor(avs_batch(), False)
    assert model(**data, mode='tensor').shape == (2, 5, MASK, MASK)
    samples = model(**data, mode='predict')
    assert all(s.pred_logits.shape == (5, MASK, MASK) for s in samples)


def test_loss_uses_labelled_frames_only(build_tiny_model):
    model = build_tiny_model(head=avs_head(loss_iou_weight=0.5)).eval()
    data = model.data_preprocessor(avs_batch(), False)
    feats = model.extract_feat(data['inputs'])
    samples = data['data_samples']
    losses = model.head.loss(feats, samples)
    assert set(losses) == {'loss_bce', 'loss_iou'}

    # Equals BCE over the first frames of the full forward pass.
    logits = model.head(feats)[:, 0]
    masks = torch.stack([s.gt_masks[0] for s in samples]).float()
    assert losses['loss_bce'].item() == pytest.approx(
        F.binary_cross_entropy_with_logits(logits, masks).item(), rel=1e-5)

    # Unlabelled frames (maps, tokens, masks) cannot change the loss.
    changed = dict(feats)
    changed['visual_maps'] = [m.clone() for m in feats['visual_maps']]
    for m in changed['visual_maps']:
        m[:, 1:] = torch.randn_like(m[:, 1:])
    changed['audio'] = feats['audio'].clone()
    changed['audio'][:, 1:] = 0
    for s in samples:
        s.gt_masks[1:] = 1 - s.gt_masks[1:]
    again = model.head.loss(changed, samples)
    for key in losses:
        assert again[key].item() == pytest.approx(losses[key].item())

    # MS3: every frame counts, so the loss moves.
    for s in samples:
        s.mask_valid[:] = True
    assert model.head.loss(feats, samples)['loss_bce'].item() != \
        pytest.approx(losses['loss_bce'].item())


def test_decode_head_is_swapped_by_config(build_tiny_model):
    for decode_head, cls in ((FPN, FPNHead), (UPER, UPerHead)):
        with warnings.catch_warnings():
            # mmseg warns about out_channels/threshold of binary heads
            # unless they are set; the head sets them.
            warnings.simplefilter('error', UserWarning)
            model = build_tiny_model(head=avs_head(decode_head))
        head = model.head.decode_head
        assert type(head) is cls
        assert (head.out_channels, head.num_classes) == (1, 1)
        assert head.in_channels == [16] * 4
        data = model.data_preprocessor(avs_batch(), True)
        losses = model(**data, mode='loss')
        sum(losses.values()).backward()
        assert head.conv_seg.weight.grad is not None


@pytest.mark.parametrize('override,field', [
    (dict(decode_head=dict(FPN, num_classes=2)),
     'model.head.decode_head.num_classes'),
    (dict(decode_head=dict(FPN, in_channels=[8, 8, 8, 8])),
     'model.head.decode_head.in_channels'),
])
def test_decode_head_fields_the_head_sets(build_tiny_model, override, field):
    with pytest.raises(ValueError, match=field):
        build_tiny_model(head=avs_head(**override))


def test_stage_channels_come_from_the_backbone(build_tiny_model):
    model = build_tiny_model(head=avs_head())
    assert model.head.in_channels == model.visual_backbone.stage_dims
    with pytest.raises(ValueError, match=r'model.head.in_channels=\[8, 16'):
        build_tiny_model(head=avs_head(in_channels=[8, 16, 32, 64]))


def test_molt_keeps_backbones_out_of_the_graph(build_tiny_model):
    model = build_tiny_model(head=avs_head())
    maps = []
    model.visual_backbone.register_forward_hook(
        lambda module, args, out: maps.extend(out[1]))
    data = model.data_preprocessor(avs_batch(), True)
    sum(model(**data, mode='loss').values()).backward()
    assert len(maps) == 4
    assert all(m.grad_fn is None and not m.requires_grad for m in maps)
    for backbone in (model.visual_backbone, model.audio_backbone):
        assert all(p.grad is None for p in backbone.parameters())
    for part in (model.adapter, model.head.conditioning,
                 model.head.decode_head):
        assert any(p.grad is not None and p.grad.abs().sum() > 0
                   for p in part.parameters())


def test_lavish_decodes_adapted_maps_with_gradients(build_tiny_model):
    model = build_tiny_model(
        adapter=dict(type='LAVisHAdapter'), fusion=dict(type='AvgTokenFusion'),
        head=avs_head())
    data = model.data_preprocessor(avs_batch(batch_size=1), True)
    feats = model.extract_feat(data['inputs'])
    assert all(m.grad_fn is not None for m in feats['visual_maps'])
    assert all(m.shape[:3] == (1, 5, c)
               for m, c in zip(feats['visual_maps'], STAGE_DIMS))
    assert MODELS.get('AVSHead').needs_stage_maps
