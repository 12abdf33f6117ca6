# DG-SCT baseline on AVE: adapters inside the paired blocks of Swin-V2-L and
# HTS-AT, gradients through both backbones, CMBS head (as the authors').
_base_ = [
    '../_base_/models/dgsct_swinv2-l_htsat.py',
    '../_base_/models/ave_cmbs_head.py',
    '../_base_/datasets/ave.py',
    '../_base_/schedules/adamw_30e.py',
    '../_base_/default_runtime.py',
]

model = dict(head=_base_.ave_cmbs_head)
train_dataloader = dict(batch_size=2)
