# Mettle-style baseline on MUSIC-AVQA: parallel distillers on every block,
# 256-wide tokens.
_base_ = [
    '../_base_/models/mettle_swinv2-l_htsat.py',
    '../_base_/models/avqa_stavqa_head.py',
    '../_base_/datasets/music_avqa.py',
    '../_base_/schedules/adamw_30e.py',
    '../_base_/avqa_runtime.py',
]

model = dict(adapter=dict(embed_dims=256), head=_base_.avqa_stavqa_head)
