# MoLT on AVSBench S4: frozen Swin-V2-L + HTS-AT (5 s clips), late layers,
# 4 full-width latent tokens per modality (the paper's AVS setting), the
# AVSBench decoder (ASPP, TPAVI, fusion blocks) DG-SCT and AVMoE use.
_base_ = [
    '../_base_/models/molt_swinv2-l_htsat.py',
    '../_base_/models/avs_tpavi_head.py',
    '../_base_/datasets/avsbench_s4.py', '../_base_/schedules/adamw_30e.py',
    '../_base_/avs_runtime.py'
]

model = dict(
    audio_backbone=dict(clip_seconds=5.0),
    adapter=dict(num_latents=4),
    head=_base_.avs_tpavi_head)
