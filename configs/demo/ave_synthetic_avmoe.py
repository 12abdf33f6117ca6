# The quick-start model with AVMoE adapters instead of MoLT (for benchmarks
# and comparisons on CPU): 1 cross-modal + 1 uni-modal expert mixed per
# sample in the paired blocks of stages 0 and 2, narrowed to the tiny
# backbones.
_base_ = './ave_synthetic.py'

model = dict(
    adapter=dict(
        _delete_=True,
        type='AVMoEAdapter',
        num_cross_experts=1,
        num_uni_experts=1,
        num_latents=4,
        reduction_factor=4,
        num_groups=2,
        router_hidden_dims=(32, 16),
        stages=(0, 2)),
    fusion=dict(_delete_=True, type='AvgTokenFusion'),
    token_norm=None,
    tor_loss=None)
