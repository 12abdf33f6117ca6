# MoLT on AVE with one frozen Swin-V2-L reading frames and fbank images
# (audio tokens 1536 wide), CMBS head.
_base_ = [
    '../_base_/models/molt_swinv2-l_shared.py',
    '../_base_/models/ave_cmbs_head.py',
    '../_base_/datasets/ave_shared.py',
    '../_base_/schedules/adamw_30e.py',
    '../_base_/default_runtime.py',
]

model = dict(head=_base_.ave_cmbs_head)
