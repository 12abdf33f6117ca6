# MoLT on frozen Swin-V2-L (frames) + HTS-AT (audio): 2 UDA + 2 CDA per
# layer on the last 2 blocks of each backbone, MLP token fusion, TOR.
# Full width (docs/en/paper_reading.md): latent tokens as wide as the
# tapped blocks (1536 visual, 768 audio), one set of TD/CA weights per
# modality, CDAs reading the other modality's CDA tokens, one router per
# layer, one fusion weight per layer, a LayerNorm on the fused tokens.
# Checkpoints are local files (docs/en/checkpoints.md); the task config adds
# the head.
model = dict(
    type='AVModel',
    data_preprocessor=dict(type='AVDataPreprocessor'),
    visual_backbone=dict(
        type='SwinV2',
        arch='swinv2_large_window12_192',
        pretrained='checkpoints/swinv2_large_patch4_window12_192_22k.pth'),
    audio_backbone=dict(
        type='HTSAT',
        clip_seconds=10.0,
        pretrained='checkpoints/HTSAT_AudioSet_Saved_1.ckpt'),
    adapter=dict(
        type='MoLTAdapter',
        visual_layers='late',
        audio_layers='late',
        num_uda=2,
        num_cda=2,
        num_latents=8,
        num_heads=8,
        embed_dims=None,  # an int narrows both modalities' tokens
        weight_scope='modality',  # or 'adapter'
        router_hidden_dims=128),
    fusion=dict(type='MLPTokenFusion'),
    token_norm=dict(type='LN'),
    tor_loss=dict(type='TokenOrthogonalityLoss', loss_weight=0.01))
