# LAVisH baseline on MUSIC-AVQA: adapters inside every block of Swin-V2-L
# and HTS-AT, gradients through both backbones.
_base_ = [
    '../_base_/models/lavish_swinv2-l_htsat.py',
    '../_base_/models/avqa_stavqa_head.py',
    '../_base_/datasets/music_avqa.py',
    '../_base_/schedules/adamw_30e.py',
    '../_base_/avqa_runtime.py',
]

model = dict(head=_base_.avqa_stavqa_head)
train_dataloader = dict(batch_size=2)
