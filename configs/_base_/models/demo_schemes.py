# The other schemes at the demo's size, as overrides of the quick-start
# MoLT model (configs/demo/ave_synthetic.py): each `<scheme>_model` replaces
# the adapter (and the fusion, token norm and TOR loss where the scheme has
# none; the sequential ones read no frozen features, so no feature norm).
# configs/demo/<task>_synthetic_<scheme>.py apply them with
#   model = _base_.<scheme>_model
# and tools/analysis_tools/compare_schemes.py compares them.

# Mettle-style: parallel uni-modal distillers on every block, averaged.
mettle_model = dict(
    adapter=dict(visual_layers='all', audio_layers='all', num_uda=1,
                 num_cda=0),
    fusion=dict(_delete_=True, type='AvgTokenFusion'),
    tor_loss=None)

# LAVisH adapters in the paired blocks.
lavish_model = dict(
    adapter=dict(_delete_=True, type='LAVisHAdapter', reduction_factor=4,
                 num_latents=2),
    fusion=dict(_delete_=True, type='AvgTokenFusion'),
    feature_norm=None,
    tor_loss=None)

# DG-SCT: spatial-channel attention adapters in every paired block, and
# DG-SCT's temporal attention after the encoders (the light heads have none
# of their own), narrowed to the tiny backbones.
dgsct_model = dict(
    adapter=dict(
        _delete_=True,
        type='DGSCTAdapter',
        num_latents=4,
        reduction_factor=4,
        num_groups=2,
        temporal=dict(
            visual_fc_dims=32,
            audio_fc_dims=16,
            d_model=32,
            ffn_dims=64,
            num_heads=4,
            num_layers=2,
            gate_scale=0.1),
        num_segments=10),
    fusion=dict(_delete_=True, type='AvgTokenFusion'),
    feature_norm=None,
    token_norm=None,
    tor_loss=None)

# AVMoE: 1 cross-modal + 1 uni-modal expert mixed per sample in the paired
# blocks of stages 0 and 2, narrowed to the tiny backbones.
avmoe_model = dict(
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
    feature_norm=None,
    token_norm=None,
    tor_loss=None)

# The floor of the scheme comparison: no adapter; the head reads the frozen
# backbones' last block.
floor_model = dict(
    adapter=dict(_delete_=True, type='FrozenReadout'),
    fusion=dict(_delete_=True, type='AvgTokenFusion'),
    tor_loss=None)
