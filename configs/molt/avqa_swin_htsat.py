# MoLT on MUSIC-AVQA: frozen Swin-V2-L + HTS-AT, late layers, 256-wide
# latent tokens and a 256-wide AVQA head with ST-AVQA's audio-visual
# matching loss (about 25.4 M trainable parameters; the paper reports
# 25.9 M). num_answers / vocab_size stay None: tools/train.py and
# tools/test.py fill them from the training vocabulary.
_base_ = [
    '../_base_/models/molt_swinv2-l_htsat.py',
    '../_base_/models/avqa_head.py',
    '../_base_/datasets/music_avqa.py',
    '../_base_/schedules/adamw_30e.py',
    '../_base_/avqa_runtime.py',
]

model = dict(adapter=dict(embed_dims=256), head=_base_.avqa_head)
