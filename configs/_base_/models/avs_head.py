# The AVS head (the model fills in the stage-map channels): maps
# conditioned on the fused tokens at width 80, decoded by mmseg's FPNHead
# (swap in UPerHead by editing decode_head): molt's light alternative to
# the AVSBench decoder (avs_tpavi_head.py), used by the *_light configs and
# the demo as `model = dict(head=_base_.avs_head)`.
avs_head = dict(
    type='AVSHead',
    embed_dims=80,
    num_heads=4,
    mask_size=224,
    # BCE plus a soft-IoU term on the labelled frames (our choice; the
    # paper does not state its AVS loss).
    loss_bce_weight=1.0,
    loss_iou_weight=1.0,
    decode_head=dict(
        type='FPNHead',
        feature_strides=[4, 8, 16, 32],
        channels=80,
        dropout_ratio=0.1,
        norm_cfg=dict(type='GN', num_groups=8, requires_grad=True),
        align_corners=False))
