# The quick-start model with DG-SCT adapters instead of MoLT (for
# benchmarks and comparisons on CPU): spatial-channel attention adapters in
# every paired block, and DG-SCT's temporal attention after the encoders
# (the light AVE head has none of its own), narrowed to the tiny backbones.
_base_ = './ave_synthetic.py'

model = dict(
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
    token_norm=None,
    tor_loss=None)
