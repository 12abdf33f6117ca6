# LAVisH in its original setting: one frozen Swin-V2-L for both modalities
# (audio as 192x192 Kaldi fbank images), cross-modal bottleneck adapters
# inside every block, gradients through the backbone, pooled final
# features, no TOR.
_base_ = './molt_swinv2-l_shared.py'

model = dict(
    adapter=dict(
        _delete_=True,
        type='LAVisHAdapter',
        reduction_factor=8,
        num_latents=2),
    fusion=dict(_delete_=True, type='AvgTokenFusion'),
    tor_loss=None)
