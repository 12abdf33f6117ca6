# Mettle-style baseline: one uni-modal token distiller on every block of
# both backbones, in parallel (no backbone graph), averaged, no TOR. Each
# distiller has its own weights and distils into 64-wide tokens (every
# block at full width would need a projection into 1536 per block).
_base_ = './molt_swinv2-l_htsat.py'

model = dict(
    adapter=dict(
        visual_layers='all',
        audio_layers='all',
        num_uda=1,
        num_cda=0,
        num_heads=4,
        embed_dims=64,
        weight_scope='adapter'),
    fusion=dict(_delete_=True, type='AvgTokenFusion'),
    tor_loss=None)
