# LAVisH baseline on AVE: adapters inside every block of Swin-V2-L and
# HTS-AT, gradients through both backbones.
_base_ = [
    '../_base_/models/lavish_swinv2-l_htsat.py', '../_base_/datasets/ave.py',
    '../_base_/schedules/adamw_30e.py', '../_base_/default_runtime.py'
]

model = dict(head=dict(type='AVEHead', num_classes=28, hidden_dims=128))
train_dataloader = dict(batch_size=2)
