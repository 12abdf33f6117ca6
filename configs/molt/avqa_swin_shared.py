# MoLT on MUSIC-AVQA with one frozen Swin-V2-L reading frames and fbank
# images.
_base_ = [
    '../_base_/models/molt_swinv2-l_shared.py',
    '../_base_/models/avqa_head.py',
    '../_base_/datasets/music_avqa_shared.py',
    '../_base_/schedules/adamw_30e.py',
    '../_base_/avqa_runtime.py',
]

model = dict(adapter=dict(embed_dims=256), head=_base_.avqa_head)
