# AVMoE baseline on AVSBench S4: the authors' S4 settings (1 + 1 experts on
# every stage, reduction 8, no batch norm, full self-attention in the
# uni-modal experts, router noise 0.01 in training).
_base_ = [
    '../_base_/models/avmoe_swinv2-l_htsat.py',
    '../_base_/models/avs_tpavi_head.py', '../_base_/datasets/avsbench_s4.py',
    '../_base_/schedules/adamw_30e.py', '../_base_/avs_runtime.py'
]

model = dict(
    audio_backbone=dict(clip_seconds=5.0),
    adapter=dict(stages=None, use_bn=False, uni_self_attention='full',
                 router_noise_std=0.01),
    # The decoder the official forward runs: 1x1 projections to 256
    # channels (x?_linear_), no reader of fused tokens (paper_reading.md).
    head=dict(_base_.avs_tpavi_head, reduction='linear', token_heads=0))
