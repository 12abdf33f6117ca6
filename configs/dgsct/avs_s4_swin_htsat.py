# DG-SCT baseline on AVSBench S4: the authors' S4 settings (32 latent
# tokens, reduction 8, no batch norm); the AVSBench head decodes the adapted
# stage maps and applies DG-SCT's temporal gating to them.
_base_ = [
    '../_base_/models/dgsct_swinv2-l_htsat.py',
    '../_base_/models/avs_tpavi_head.py', '../_base_/datasets/avsbench_s4.py',
    '../_base_/schedules/adamw_30e.py', '../_base_/avs_runtime.py'
]

model = dict(
    audio_backbone=dict(clip_seconds=5.0),
    adapter=dict(use_bn=False),
    # The decoder the official forward runs: 1x1 projections to 256
    # channels (x?_linear_), no reader of fused tokens (paper_reading.md).
    head=dict(_base_.avs_tpavi_head, reduction='linear', token_heads=0))
