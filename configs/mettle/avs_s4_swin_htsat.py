# Mettle-style baseline on AVSBench S4: parallel distillers on every block,
# 4 latent tokens per modality as MoLT's AVS setting.
_base_ = [
    '../_base_/models/mettle_swinv2-l_htsat.py',
    '../_base_/models/avs_tpavi_head.py', '../_base_/datasets/avsbench_s4.py',
    '../_base_/schedules/adamw_30e.py', '../_base_/avs_runtime.py'
]

model = dict(
    audio_backbone=dict(clip_seconds=5.0),
    adapter=dict(num_latents=4),
    head=_base_.avs_tpavi_head)
