# MoLT on AVSBench S4 with the light AVS head decoding through mmseg's
# UPerHead instead of FPNHead: the decode head is a config entry.
_base_ = '../molt/avs_s4_swin_htsat_light.py'

model = dict(
    head=dict(
        decode_head=dict(
            _delete_=True,
            type='UPerHead',
            channels=80,
            pool_scales=(1, 2, 3, 6),
            dropout_ratio=0.1,
            norm_cfg=dict(type='GN', num_groups=8, requires_grad=True),
            align_corners=False)))
