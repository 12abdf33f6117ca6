# MoLT on MUSIC-AVQA: frozen Swin-V2-L + HTS-AT, late layers, full-width
# tokens and the ST-AVQA head at the visual width (1536), with its
# audio-visual matching loss. Every adapter has its own TD/CA weights here:
# the paper's AVQA row (114.3 M trainable) matches that reading, its AVE and
# AVS rows the per-modality default (docs/en/benchmarks.md).
# num_answers / vocab_size stay None: tools/train.py and tools/test.py fill
# them from the training vocabulary.
_base_ = [
    '../_base_/models/molt_swinv2-l_htsat.py',
    '../_base_/models/avqa_stavqa_head.py',
    '../_base_/datasets/music_avqa.py',
    '../_base_/schedules/adamw_30e.py',
    '../_base_/avqa_runtime.py',
]

model = dict(
    adapter=dict(weight_scope='adapter'), head=_base_.avqa_stavqa_head)
