# LAVisH on AVE in its original setting: one Swin-V2-L for both modalities.
_base_ = [
    '../_base_/models/lavish_swinv2-l_htsat.py',
    '../_base_/datasets/ave_shared.py', '../_base_/schedules/adamw_30e.py',
    '../_base_/default_runtime.py'
]

model = dict(
    audio_backbone=None,
    audio_frontend=dict(type='KaldiFbank', input_sample_rate=32000),
    head=dict(type='AVEHead', num_classes=28, hidden_dims=128))
train_dataloader = dict(batch_size=2)
