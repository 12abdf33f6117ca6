# LAVisH baseline on AVSBench S4 (Swin-V2-L + HTS-AT): LAVisH as DG-SCT's code
# base builds it, with DG-SCT's S4 settings (32 latent tokens, reduction 8, no
# batch norm); the AVSBench decoder as DG-SCT's forward runs it. The paper's
# AVS row (389.7 M / 47.6 %) is not reproducible (configs/lavish/README.md).
_base_ = [
    '../_base_/models/lavish_swinv2-l_htsat.py',
    '../_base_/models/avs_tpavi_head.py', '../_base_/datasets/avsbench_s4.py',
    '../_base_/schedules/adamw_30e.py', '../_base_/avs_runtime.py'
]

model = dict(
    audio_backbone=dict(clip_seconds=5.0),
    adapter=dict(use_bn=False),
    head=dict(_base_.avs_tpavi_head, reduction='linear', token_heads=0))
