# LAVisH baseline: cross-modal bottleneck adapters inside every block of
# both frozen backbones, gradients through the backbones, pooled final
# features, no TOR.
_base_ = './molt_swinv2-l_htsat.py'

model = dict(
    adapter=dict(
        _delete_=True,
        type='LAVisHAdapter',
        reduction_factor=8,
        num_latents=2),
    fusion=dict(_delete_=True, type='AvgTokenFusion'),
    tor_loss=None)
