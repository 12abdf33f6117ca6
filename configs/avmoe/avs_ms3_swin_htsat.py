# AVMoE baseline on AVSBench MS3: the authors' MS3 settings (2 + 2 experts,
# num_skip=2 -> stages 0 and 2, reduction 2, no batch norm, latent-token
# self-attention in the uni-modal experts, router noise 0.01 in training).
# Their load-balancing term, weight 0.01, is added as loss_balance.
_base_ = [
    '../_base_/models/avmoe_swinv2-l_htsat.py',
    '../_base_/models/avs_tpavi_head.py', '../_base_/datasets/avsbench_ms3.py',
    '../_base_/schedules/adamw_30e.py', '../_base_/avs_runtime.py'
]

model = dict(
    audio_backbone=dict(clip_seconds=5.0),
    adapter=dict(num_cross_experts=2, num_uni_experts=2, reduction_factor=2,
                 use_bn=False, uni_self_attention='latent',
                 router_noise_std=0.01, load_balance_weight=0.01),
    # The decoder the official forward runs: 1x1 projections to 256
    # channels (x?_linear_), no reader of fused tokens (paper_reading.md).
    head=dict(_base_.avs_tpavi_head_ms3, reduction='linear', token_heads=0))
