# MoLT on AVE with one frozen Swin-V2-L reading frames and fbank images.
_base_ = [
    '../_base_/models/molt_swinv2-l_shared.py',
    '../_base_/models/ave_head.py',
    '../_base_/datasets/ave_shared.py',
    '../_base_/schedules/adamw_30e.py',
    '../_base_/default_runtime.py',
]

model = dict(head=_base_.ave_head)
