# LAVisH on AVE in its original setting: one Swin-V2-L for both modalities.
_base_ = [
    '../_base_/models/lavish_swinv2-l_shared.py',
    '../_base_/models/ave_cmbs_head.py',
    '../_base_/datasets/ave_shared.py',
    '../_base_/schedules/adamw_30e.py',
    '../_base_/default_runtime.py',
]

model = dict(head=_base_.ave_cmbs_head)
train_dataloader = dict(batch_size=2)
