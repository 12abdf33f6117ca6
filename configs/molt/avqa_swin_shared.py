# MoLT on MUSIC-AVQA with one frozen Swin-V2-L reading frames and fbank
# images; per-adapter weights and the ST-AVQA head as avqa_swin_htsat.py.
_base_ = [
    '../_base_/models/molt_swinv2-l_shared.py',
    '../_base_/models/avqa_stavqa_head.py',
    '../_base_/datasets/music_avqa_shared.py',
    '../_base_/schedules/adamw_30e.py',
    '../_base_/avqa_runtime.py',
]

model = dict(
    adapter=dict(weight_scope='adapter'), head=_base_.avqa_stavqa_head)
