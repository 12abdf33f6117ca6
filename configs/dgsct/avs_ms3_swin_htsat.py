# DG-SCT baseline on AVSBench MS3: the authors' MS3 script keeps its
# defaults (reduction 2, 32 latent tokens, no batch norm).
_base_ = [
    '../_base_/models/dgsct_swinv2-l_htsat.py',
    '../_base_/models/avs_tpavi_head.py', '../_base_/datasets/avsbench_ms3.py',
    '../_base_/schedules/adamw_30e.py', '../_base_/avs_runtime.py'
]

model = dict(
    audio_backbone=dict(clip_seconds=5.0),
    adapter=dict(reduction_factor=2, use_bn=False),
    # The decoder the official forward runs: 1x1 projections to 256
    # channels (x?_linear_), no reader of fused tokens (paper_reading.md).
    head=dict(_base_.avs_tpavi_head_ms3, reduction='linear', token_heads=0))
