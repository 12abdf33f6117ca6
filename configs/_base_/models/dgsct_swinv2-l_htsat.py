# DG-SCT baseline (Duan et al., NeurIPS 2023): dual-guided spatial-channel
# attention adapters beside the attention and the MLP branch of every
# paired block of both frozen backbones (HTS-AT block k of Swin-V2-L's
# third stage with Swin block 3k+2), gradients through the backbones,
# final tokens pooled with the last adapter's spatial map. Defaults are the
# authors' AVE settings (train.sh: 32 latent tokens, reduction 8, 2 conv
# groups, batch norm); task configs change what their scripts change.
# DG-SCT's temporal attention runs after the encoders; the CMBS (AVE) and
# AVSBench (AVS) heads carry it, so it is off here
# (docs/en/paper_reading.md).
_base_ = './molt_swinv2-l_htsat.py'

model = dict(
    adapter=dict(
        _delete_=True,
        type='DGSCTAdapter',
        num_latents=32,
        reduction_factor=8,
        num_groups=2,
        use_bn=True,
        channel_weight=0.3,
        spatial_weight=0.05,
        visual_pooling='attention',
        audio_pooling='attention',
        temporal=None),
    fusion=dict(_delete_=True, type='AvgTokenFusion'),
    token_norm=None,  # the peers add no trainable norm on their outputs
    tor_loss=None)
