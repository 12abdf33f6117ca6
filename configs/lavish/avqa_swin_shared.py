# LAVisH on MUSIC-AVQA in its original setting: one Swin-V2-L for both
# modalities.
_base_ = [
    '../_base_/models/lavish_swinv2-l_shared.py',
    '../_base_/models/avqa_stavqa_head.py',
    '../_base_/datasets/music_avqa_shared.py',
    '../_base_/schedules/adamw_30e.py',
    '../_base_/avqa_runtime.py',
]

model = dict(head=_base_.avqa_stavqa_head)
train_dataloader = dict(batch_size=2)
